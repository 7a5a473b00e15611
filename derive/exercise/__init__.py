"""Stage 1: the exercise, as a spec (TOML or Python) gives it, read and validated into a frozen model."""
