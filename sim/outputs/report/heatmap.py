"""A sweep's outcome over its swept parameters: the mean share of one option per cell of one
or two parameters (a grid's own levels, else equal bins), and the table of those cells. The
dataset has one row per point; the option's share is its column ``share.<decision>.<option>``
(of all members, so it is defined at every point)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.outputs.report.document import Table
from sim.outputs.report.numbers import f3


@dataclass(frozen=True)
class Heatmap:
    """Mean share of one option per cell of two swept parameters (or one, when only one varies)."""

    x: str
    y: str | None
    x_edges: np.ndarray
    y_edges: np.ndarray | None
    x_labels: list[str]
    y_labels: list[str]
    mean: np.ndarray  # (len(y_labels), len(x_labels)); NaN where no point
    count: np.ndarray
    grid: bool
    averaged: bool  # other parameters vary too: each cell averages over them


def _axis_cells(values: np.ndarray, bounds: tuple[float, float], grid: bool,
                bins: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(cell index of each value, cell edges, cell labels): a grid's own levels, else equal bins."""
    if grid:
        levels = np.unique(values)
        index = np.searchsorted(levels, values)
        mids = (levels[1:] + levels[:-1]) / 2 if levels.size > 1 else np.array([])
        step = (levels[-1] - levels[0]) / max(levels.size - 1, 1) or 1.0
        edges = np.concatenate([[levels[0] - step / 2], mids, [levels[-1] + step / 2]])
        return index, edges, [f"{v:.3f}" for v in levels]
    lo, hi = bounds
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    return index, edges, [f"{a:.3f}-{b:.3f}" for a, b in zip(edges[:-1], edges[1:])]


def bins_for(points: int) -> int:
    """Bins per axis for a non-grid design: about four points per cell, 2 to 12 bins."""
    return int(min(12, max(2, round(math.sqrt(points / 4)))))


def sweep_heatmap(data: dict[str, list[Any]], x: str, y: str | None, column: str,
                  bounds: dict[str, tuple[float, float]], grid: bool,
                  averaged: bool = False) -> Heatmap:
    """Mean of ``column`` (an option's share) over the points falling in each cell."""
    share = np.array([math.nan if v is None else v for v in data[column]], dtype=float)
    xs = np.array(data[x], dtype=float)
    points = len(xs)
    bins = bins_for(points) if y is not None else min(20, max(2, round(math.sqrt(points))))
    xi, x_edges, x_labels = _axis_cells(xs, bounds[x], grid, bins)
    if y is not None:
        ys = np.array(data[y], dtype=float)
        yi, y_edges, y_labels = _axis_cells(ys, bounds[y], grid, bins)
    else:
        yi, y_edges, y_labels = np.zeros(points, dtype=int), None, [""]
    total = np.zeros((len(y_labels), len(x_labels)))
    count = np.zeros_like(total)
    for a, b, s in zip(yi, xi, share):
        if not math.isnan(s):
            total[a, b] += s
            count[a, b] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return Heatmap(x, y, x_edges, y_edges, x_labels, y_labels, mean, count, grid, averaged)


def heatmap_table(h: Heatmap, option: str) -> Table:
    """The heatmap's cells as a table: rows are y cells (top = highest), columns x cells."""
    if h.y is None:
        rows = [[label, f3(h.mean[0, b]), str(int(h.count[0, b]))]
                for b, label in enumerate(h.x_labels)]
        return Table(f"Mean share of {option} per cell of {h.x}"
                     + ("; averaged over the other swept parameters" if h.averaged else ""),
                     [h.x, "mean share", "points"], rows)
    rows = [[h.y_labels[a], *[f3(h.mean[a, b]) for b in range(len(h.x_labels))]]
            for a in reversed(range(len(h.y_labels)))]
    how = "grid levels" if h.grid else "equal bins of the swept bounds"
    how += "; averaged over the other swept parameters" if h.averaged else ""
    return Table(f"Mean share of {option} per cell ({how}; rows: {h.y}, columns: {h.x})",
                 [f"{h.y} \\ {h.x}", *h.x_labels], rows)
