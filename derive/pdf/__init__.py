"""Stage 5: LaTeX compiled to PDF, streamed part by part, with cached preamble formats."""
