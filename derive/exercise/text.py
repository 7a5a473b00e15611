"""User text on a sheet: what pdflatex can typeset, checked on input (escaped on output by :mod:`derive.tex.escape`)."""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 300
"""Longest title, course or part title accepted (characters)."""

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi",
    "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "varphi", "χ": "chi", "ψ": "psi",
    "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi",
    "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip
"""Greek letters in titles are typeset as maths (T1 fonts have no Greek)."""

PUNCTUATION = set("–—‘’‚“”„…€·×÷±°§¶•")
"""Typographic characters beyond Latin-1 that pdflatex's T1 fonts (with textcomp) provide."""


def problem(text: str) -> str | None:
    """Why ``text`` cannot appear on a sheet, or None when it can."""
    if len(text) > MAX_LENGTH:
        return f"too long: {len(text)} characters, at most {MAX_LENGTH}"
    for char in text:
        code = ord(char)
        if 0x20 <= code < 0x7F or 0xA0 <= code <= 0x17F or char in GREEK or char in PUNCTUATION:
            continue
        name = unicodedata.name(char, "unnamed")
        kind = "a control character" if unicodedata.category(char).startswith("C") else "a character"
        return (
            f"{kind} U+{code:04X} ({name}) cannot be typeset; "
            "use Latin letters (accents included), Greek letters or common punctuation"
        )
    return None
