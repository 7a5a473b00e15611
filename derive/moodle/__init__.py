"""Moodle: a verified solution as Moodle XML (a Cloze question per part, or per variant), and a quiz's
response export read back into answer keys for ``derive check``."""
