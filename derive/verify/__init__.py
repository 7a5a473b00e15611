"""Stage 3: the verification gate, an independent float engine and finite differences."""
