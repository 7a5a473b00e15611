"""Activations, losses and optimizers as data: one record each (exact rule, float rule, words)."""
