"""How numbers are written for people: every percentage and rounded number of every output.

Three forms, each for one kind of reader:

* :func:`percent`: tables, figures and reports (one decimal, two below 0.1%, ``<0.01%``);
* :func:`fine_percent`: the model card, where small probabilities keep three significant digits;
* :func:`significant` and :func:`significant_percent`: the teaching arithmetic, with a set
  number of significant digits (more near 100%, so that the complement stays visible).
"""

from __future__ import annotations

import math

SIGNIFICANT = 3  # significant digits of the printed arithmetic


def percent(p: float | None) -> str:
    """A probability as a percentage, with small values kept readable; ``-`` when undefined."""
    if p is None or p != p:  # None or NaN
        return "-"
    if p == 0:
        return "0%"
    if p < 1e-4:
        return "<0.01%"
    return f"{100 * p:.1f}%" if p >= 1e-3 else f"{100 * p:.2f}%"


def fine_percent(p: float | None) -> str:
    """A percentage with one decimal, or three significant digits below 0.1%."""
    if p is None or p != p:
        return "-"
    if p == 0:
        return "0%"
    if abs(p) < 0.001:
        return f"{p * 100:.3g}%"
    return f"{p * 100:.1f}%"


def significant(x: float | None, digits: int = SIGNIFICANT) -> str:
    """A number with ``digits`` significant digits, in plain notation when readable."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "undefined"
    if math.isinf(x):
        return "infinite"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if -4 <= magnitude < 6:
        decimals = max(digits - 1 - magnitude, 0)
        text = f"{round(x, decimals):.{decimals}f}"
        # rounding can carry into a new digit (9.996 -> 10.00): keep `digits` significant digits
        if len(text.replace("-", "").replace(".", "").lstrip("0")) > digits and decimals > 0:
            text = f"{round(x, decimals - 1):.{decimals - 1}f}"
        return text
    return f"{x:.{digits - 1}e}"


def significant_percent(p: float | None, digits: int = SIGNIFICANT) -> str:
    """A probability as a percentage with ``digits`` significant digits (more near 100%)."""
    if p is None or math.isnan(p):
        return "undefined"
    if p >= 1 or p <= 0:
        return f"{100 * p:.0f}%"
    complement = 1 - p
    if complement < p:  # near one: show enough digits for the complement to be visible
        decimals = max(digits - 1 - math.floor(math.log10(100 * complement)), 1)
        return f"{100 * p:.{decimals}f}%"
    return significant(100 * p, digits) + "%"
