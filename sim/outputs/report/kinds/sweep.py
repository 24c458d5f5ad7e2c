"""The report of a ``diplosim sweep`` folder: one option's mean share over one or two swept
parameters, as a heatmap and its table. ``--x``, ``--y``, ``--decision`` and ``--option``
choose them; each is checked against the dataset before anything is drawn. A share is of all
the members at a point (``not_reached`` is an option like the others)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from sim.outputs.report.document import Block, Document, Plot, Section
from sim.outputs.report.errors import ReportError
from sim.outputs.report.heatmap import heatmap_table, sweep_heatmap
from sim.outputs.report.locate import locate_scenario
from sim.outputs.report.numbers import f3
from sim.outputs.report.plots import heatmap_plot
from sim.outputs.report.request import ReportRequest
from sim.outputs.report.tables import SHARE_PREFIX, dataset_options, read_dataset


def _axes(folder: Path, names: list[str], x: str | None, y: str | None) -> tuple[str, str | None]:
    """The parameters on the x and y axes: as asked, else the first two varied."""
    x = x or names[0]
    if x not in names:
        raise ReportError(folder, f"--x: unknown parameter '{x}'; expected one of {names}")
    if y is None and len(names) > 1:
        y = next(n for n in names if n != x)
    if y is not None and y == x:
        raise ReportError(folder, f"--y: '{y}' is also the x axis; expected another of {names}")
    if y is not None and y not in names:
        raise ReportError(folder, f"--y: unknown parameter '{y}'; expected one of "
                                f"{[n for n in names if n != x]}")
    return x, y


def _outcome(folder: Path, data: dict[str, list[Any]], request: ReportRequest,
             recorded: Any) -> tuple[str, str, Any]:
    """(decision, option, its record or None): as asked, else the first decision and its
    recorded option (else its first)."""
    by_decision = dataset_options(data)
    decisions = list(by_decision)
    decision = request.decision or decisions[0]
    if decision not in decisions:
        raise ReportError(folder, f"--decision: unknown decision '{decision}'; expected one of "
                                f"{decisions}")
    options = by_decision[decision]
    record = recorded.get(decision) if recorded is not None else None
    option = request.option or (record.option if record is not None and record.option in options
                                else options[0])
    if option not in options:
        raise ReportError(folder, f"--option: unknown option '{option}' of '{decision}'; expected "
                                f"one of {options}")
    return decision, option, record


def _bounds(manifest: dict[str, Any], data: dict[str, list[Any]],
            names: list[str]) -> dict[str, tuple[float, float]]:
    """Each swept parameter's bounds: the manifest's, else the range of the dataset's values."""
    bounds = {k: tuple(v) for k, v in (manifest.get("parameters") or {}).items()}
    for name in names:
        if name not in bounds:
            values = [v for v in data[name] if v is not None]
            bounds[name] = (min(values), max(values))
    return bounds


def _blocks(manifest: dict[str, Any], data: dict[str, list[Any]], names: list[str],
            axes: tuple[str, str | None], outcome: tuple[str, str, Any]) -> list[Block]:
    """The sweep's paragraph, heatmap and table of cells."""
    (x, y), (decision, option, record) = axes, outcome
    design = manifest.get("design") or {}
    column = f"{SHARE_PREFIX}{decision}.{option}"
    heat = sweep_heatmap(data, x, y, column, _bounds(manifest, data, names),
                         design.get("method") == "grid", averaged=len(names) > (2 if y else 1))
    points = {"x": np.array(data[x], dtype=float),
              "y": np.array(data[y], dtype=float) if y else None}
    shares = np.array(data[column], dtype=float)
    title = f"{manifest.get('scenario_id')}: P({decision} = {option})"
    return [
        f"{len(shares)} points ({design.get('method', '?')} design), "
        f"{manifest.get('members_per_point')} members per point. Mean share of {option} over all "
        f"points (of all members, not_reached included): "
        f"{f3(float(shares.mean()) if shares.size else math.nan)}."
        + (f" Recorded outcome of {decision}: {record.option}." if record is not None else ""),
        Plot(f"heatmap_{decision}_{option}", f"{title} over {x}" + (f" and {y}" if y else ""),
             heatmap_plot(heat, title, points)),
        heatmap_table(heat, option),
    ]


def document(folder: Path, manifest: dict[str, Any], request: ReportRequest) -> Document:
    """Heatmap of one option's share over two swept parameters; flags checked first."""
    located = locate_scenario(folder, manifest, request.scenario)
    data, names = read_dataset(folder, manifest)
    axes = _axes(folder, names, request.x, request.y)
    scenario = located.scenario
    outcome = _outcome(folder, data, request,
                       scenario.recorded_outcome if scenario is not None else None)
    bounds = _bounds(manifest, data, names)
    summary = [
        f"Sweep of scenario {manifest.get('scenario_id')} (Model 3): {manifest.get('points')} "
        f"points x {manifest.get('members_per_point')} members on common random numbers, seed "
        f"{manifest.get('seed')}, diplosim {manifest.get('version', '?')}. Varied: "
        + ", ".join(f"{n} in {list(bounds[n])}" for n in names) + ".",
        located.note,
        "Choose the axes and the outcome with --x, --y, --decision and --option.",
    ]
    return Document(f"diplosim sweep: {manifest.get('scenario_id')}", summary,
                    [Section(f"{outcome[0]} = {outcome[1]}",
                             _blocks(manifest, data, names, axes, outcome))])
