"""``python -m derive``: the command line."""

from derive.cli import run

run()
