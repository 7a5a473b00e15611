"""Stage 2: the exact derivation, every part as typed steps of formula trees."""
