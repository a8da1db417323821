# Seed 004 ("Build a neural-network training pipeline by hand"), "Consolidation": inverted dropout.
# Split from one long line; [added] import torch. Defines the function only; prints nothing.
import torch  # [added]

def dropout(x, p=0.5, training=True):
    """
    x: input tensor [batch, features]
    p: probability of DROPPING a neuron (0.5 = drop half)
    training: if False, do nothing (use full network at test time)
    """
    if not training:
        return x  # at test time: use all neurons

    # Create random mask: 1 with probability (1-p), 0 with probability p
    mask = (torch.rand_like(x) > p).float()

    # Scale up survivors to maintain expected value
    # If we drop 50%, surviving neurons are doubled
    # This way, the sum at test time (all neurons) ≈ sum at train time (half neurons × 2)
    return x * mask / (1 - p)

# That's it. nn.Dropout(0.5) does exactly this.
# The "/ (1-p)" is called "inverted dropout" — the standard approach.
