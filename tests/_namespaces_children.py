"""Entry points for tests/test_namespaces.py's torch.multiprocessing checks (module-level, so a spawned
child can unpickle them; no torch import, so a child starts quickly)."""
import os


def write_rank(rank: int, folder: str, text: str) -> None:
    with open(os.path.join(folder, f"rank{rank}.txt"), "w") as f:
        f.write(f"{text}:{rank}")


def raise_on_rank_one(rank: int) -> None:
    if rank == 1:
        raise ValueError("boom from rank 1")


def exit_with_three(rank: int) -> None:
    os._exit(3)
