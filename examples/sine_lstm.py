"""Sine-wave prediction with two LSTMCells, trained by LBFGS in float64: PyTorch's time-sequence example.

Each training sequence is a sine wave sin(x / T) sampled at integer x from a random shift; the model
reads it one step at a time (LSTMCell(1, 51) -> LSTMCell(51, 51) -> Linear(51, 1)), predicting the
next value, and then keeps going on its own predictions for `future` more steps. LBFGS (lr 0.8) takes
whole-batch steps with a closure that recomputes the loss:

    glasstorch run examples/sine_lstm.py --steps 15
    glasstorch run examples/sine_lstm.py --fast           # a few seconds
    python examples/sine_lstm.py --fast                   # the same program on PyTorch

The last line printed is `final loss: X`, the mean squared error on the held-out sequences.
"""
import argparse
import math
import random

import torch
import torch.nn as nn
import torch.optim as optim


def generate_data(n_sequences, length, period, seed):
    """(n_sequences, length) float64 sines with random integer shifts (seeded Python `random`)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n_sequences):
        shift = rng.randint(-4 * period, 4 * period)
        rows.append([math.sin((i + shift) / period) for i in range(length)])
    return torch.tensor(rows, dtype=torch.float64)


class Sequence(nn.Module):
    def __init__(self, hidden=51):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        """input (N, L) -> predictions (N, L + future), each one step ahead of its input."""
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # predicting the future: feed the last prediction back in
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


FAST = dict(sequences=24, length=60, steps=4, hidden=24, future=20)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="LBFGS steps")
    parser.add_argument("--sequences", type=int, default=100)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--period", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=51)
    parser.add_argument("--future", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--fast", action="store_true", help="short sequences and few steps, a few seconds")
    parser.add_argument("--save-init", metavar="PATH", help="save the initial weights (a state_dict) here")
    parser.add_argument("--load-init", metavar="PATH", help="start from these weights: two libraries, one start")
    parser.set_defaults(**FAST if parser.parse_known_args(argv)[0].fast else {})
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    data = generate_data(args.sequences, args.length, args.period, args.seed)
    input, target = data[3:, :-1], data[3:, 1:]
    test_input, test_target = data[:3, :-1], data[:3, 1:]
    seq = Sequence(args.hidden).double()
    if args.save_init:
        torch.save(seq.state_dict(), args.save_init)
    if args.load_init:
        seq.load_state_dict(torch.load(args.load_init))
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)

    for i in range(args.steps):
        def closure():
            optimizer.zero_grad()
            loss = criterion(seq(input), target)
            loss.backward()
            return loss

        loss = optimizer.step(closure)
        print(f"step {i}: loss {loss.item():.6f}")
        with torch.no_grad():  # predict past the end of the test inputs
            pred = seq(test_input, future=args.future)
            test_loss = criterion(pred[:, :-args.future], test_target)
        print(f"  test loss {test_loss.item():.6f}")
    print(f"final loss: {test_loss.item():.6f}")
    return test_loss.item()


if __name__ == "__main__":
    main()
