"""Stage 4: the template context and the Jinja2 LaTeX of every output."""
