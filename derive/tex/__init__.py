"""LaTeX printing: one printer for every name, index, transpose and number."""
