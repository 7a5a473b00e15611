"""Questions about a SymPy tree answered by one walk that stops at the first answer.

SymPy's ``free_symbols`` builds a set at every node of a tree and ``has`` matches patterns: a
sheet asks "is there a symbol?" some 5 000 times of a few hundred values, and those two took a
hundredth of a build. The closed forms here bind no variables (no integrals, sums or lambdas),
so a symbol anywhere in the tree is a free one.
"""

from __future__ import annotations

import sympy as sp


def has_symbol(value: sp.Basic, floats: bool = False) -> bool:
    """Whether a symbol occurs in ``value`` (or, with ``floats``, a SymPy Float)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if node.is_Symbol or (floats and node.is_Float):
            return True
        stack.extend(node.args)
    return False
