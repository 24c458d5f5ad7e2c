"""Number formats of the command-line tables (shares and intervals to 3 decimals, hours to 1),
so every figure in a report can be recomputed from the folder's data."""

from __future__ import annotations

import math


def missing(value: float | None) -> bool:
    """No number to show: None (null in JSON) or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def f3(value: float | None) -> str:
    """A share or score: 3 decimals."""
    return "-" if missing(value) else f"{value:.3f}"


def f1(value: float | None) -> str:
    """Hours: 1 decimal."""
    return "-" if missing(value) else f"{value:.1f}"


def interval3(low: float | None, high: float | None) -> str:
    """A 95% interval of a share: ``[0.146, 0.178]``."""
    return "-" if missing(low) or missing(high) else f"[{low:.3f}, {high:.3f}]"


def interval1(low: float | None, high: float | None) -> str:
    """An interquartile range of hours: ``[1.0, 8.0]``."""
    return "-" if missing(low) or missing(high) else f"[{low:.1f}, {high:.1f}]"


def signed3(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """A difference with its interval, as ``diplosim counterfactual`` prints it."""
    if missing(value):
        return "-"
    if missing(low) or missing(high):
        return f"{value:+.3f}"
    return f"{value:+.3f} [{low:+.3f}, {high:+.3f}]"
