"""glasstorch.nn (being built)."""
