"""Scenario discovery: which regions of the parameter space lead to a given outcome (PRIM).

Runs an ensemble (each member a uniform draw from every sourced range), marks the members that
reached a decision and took the outcome of interest, and asks PRIM (the EMA Workbench's
implementation) for a box of parameter limits where that outcome is dense. The box on PRIM's
peeling trajectory with the highest coverage among those at or above the density threshold is
reported, as readable limits.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from sim.model.constants import Constants
from sim.model.draws import varying_actor_parameters
from sim.engine.ensemble import RESOLVED, VectorEngine
from sim.model.scenario import Scenario

MIN_CUT = 0.1


class NothingToDiscover(ValueError):
    """PRIM has nothing to separate: no parameter varies, or every run (or none) took the
    outcome. The message says what to change."""


@dataclass(frozen=True)
class Box:
    limits: list[tuple[str, float | None, float | None]]  # name, lower (or None), upper (or None)
    density: float  # share of runs inside the box with the outcome
    coverage: float  # share of runs with the outcome that lie inside the box
    mass: float  # share of all runs inside the box
    base_rate: float  # share of runs with the outcome overall
    runs: int
    reached_threshold: bool  # False: no box on the trajectory was that dense; the densest shown


def find_box(x: np.ndarray, names: list[str], y: np.ndarray, threshold: float) -> Box:
    """PRIM box for boolean ``y`` over the columns of ``x``."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        frame = pd.DataFrame(x, columns=names)
        # PRIM is asked for the full peeling trajectory (threshold 0); the density threshold
        # is applied below, when a box is chosen from it
        analysis = prim.Prim(frame, y.astype(int), threshold=0.0)
        box = analysis.find_box()
    # density, coverage and mass of every box on the peeling trajectory, computed here from
    # the box limits (the library's own summary columns are not relied on)
    stats = []
    for lims in box.box_lims:
        inside = np.ones(len(y), dtype=bool)
        for j, name in enumerate(names):
            inside &= (x[:, j] >= float(lims[name].iloc[0])) & (x[:, j] <= float(lims[name].iloc[1]))
        hits = int(y[inside].sum())
        stats.append((hits / max(int(inside.sum()), 1), hits / max(int(y.sum()), 1), float(inside.mean())))
    eligible = [i for i, (density, _, _) in enumerate(stats) if density >= threshold]
    index = (max(eligible, key=lambda i: (stats[i][1], -i)) if eligible
             else max(range(len(stats)), key=lambda i: (stats[i][0], -i)))
    lims, extent = box.box_lims[index], box.box_lims[0]  # chosen box; the data's own extent
    limits = []
    for name in names:
        lo_all, hi_all = float(extent[name].iloc[0]), float(extent[name].iloc[1])
        low, high = float(lims[name].iloc[0]), float(lims[name].iloc[1])
        # keep only restrictions that cut at least MIN_CUT of the dimension: PRIM's small
        # peels elsewhere add words to the rule, not information
        lower = low if low - lo_all >= MIN_CUT * (hi_all - lo_all) else None
        upper = high if hi_all - high >= MIN_CUT * (hi_all - lo_all) else None
        if lower is not None or upper is not None:
            limits.append((name, lower, upper))
    # the statistics reported are those of the simplified box, as stated
    inside = np.ones(len(y), dtype=bool)
    for name, lower, upper in limits:
        column = x[:, names.index(name)]
        if lower is not None:
            inside &= column >= lower
        if upper is not None:
            inside &= column <= upper
    hits = int(y[inside].sum())
    return Box(
        limits,
        density=hits / max(int(inside.sum()), 1),
        coverage=hits / max(int(y.sum()), 1),
        mass=float(inside.mean()),
        base_rate=float(y.mean()),
        runs=len(y),
        reached_threshold=bool(eligible),
    )


def discover(scenario: Scenario, constants: Constants, decision_id: str, outcome: str,
             runs: int, seed: int, threshold: float) -> Box:
    """Run ``runs`` members and find where ``decision_id`` ends in ``outcome``."""
    engine = VectorEngine(scenario.without_record(), constants)
    i = [d.id for d in engine.decisions].index(decision_id)
    k = engine.option_ids[i].index(outcome)
    quantities = varying_actor_parameters(scenario)
    if not quantities:
        raise NothingToDiscover(f"no actor parameter of {scenario.id} is drawn from a range; "
                                "PRIM needs parameters that vary")
    xs, ys = [], []
    for start in range(0, runs, 5000):
        inputs = engine.inputs(seed, range(start, min(start + 5000, runs)))
        outcomes = engine.run(inputs)
        xs.append(inputs.values[:, [engine.column[q.key] for q in quantities]])
        ys.append((outcomes.status[:, i] == RESOLVED) & (outcomes.option_index[:, i] == k))
    y = np.concatenate(ys)
    if y.all() or not y.any():
        share = "every one" if y.all() else "none"
        raise NothingToDiscover(
            f"{decision_id} ended in {outcome} in {share} of the {runs} runs; PRIM needs runs "
            "with the outcome and runs without it (try more --runs, or another outcome)"
        )
    return find_box(np.vstack(xs), [q.key for q in quantities], y, threshold)


def describe(box: Box, outcome: str) -> str:
    """One readable sentence for the box, as users quote it."""
    parts = []
    for name, lower, upper in box.limits:
        if lower is not None and upper is not None:
            parts.append(f"{lower:.2f} < {name} < {upper:.2f}")
        elif lower is not None:
            parts.append(f"{name} > {lower:.2f}")
        else:
            parts.append(f"{name} < {upper:.2f}")
    condition = " and ".join(parts) if parts else "(no restriction found)"
    text = (
        f"{condition} -> {outcome} in {box.density:.0%} of runs, covering {box.coverage:.0%} of "
        f"such runs (box holds {box.mass:.0%} of all {box.runs} runs; base rate {box.base_rate:.0%})"
    )
    if not box.reached_threshold:
        text += "\n(no box reached the density threshold; this is the densest PRIM found)"
    return text
