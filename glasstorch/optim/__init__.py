"""glasstorch.optim (being built)."""
