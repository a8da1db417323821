"""glasstorch benchmarks: every figure is a ratio against PyTorch taken in the same process."""
