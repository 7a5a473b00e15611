"""Stage 1: a spec (TOML or Python) read and validated into a frozen model."""
