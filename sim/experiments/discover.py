"""Scenario discovery on Model 3: the box of input ranges where a decision ends in a given
option (PRIM, the EMA Workbench's implementation).

The inputs are :func:`sim.experiments.inputs.model_inputs` (every ranged stake field and effect
magnitude, optionally the six constants on the calibration's prior box). ``points`` points are
drawn by a Latin hypercube (SciPy, seeded); each runs ``members`` members of its own (point p
runs p x members .. (p + 1) x members - 1, so the points share no random numbers and all of them
are points x members distinct runs), and its outcome is the share of those members ending in
the option (over all members:
one that never reaches the decision is not a case of the option). PRIM peels on those shares
(its regression mode, so a point's share counts as its members' cases), and of the boxes on its
peeling trajectory the one with the highest coverage among those at least as dense as the
threshold is kept (the densest when none is). Its restrictions that cut less than ``MIN_CUT``
of an input's range are dropped, smallest first, while the box stays that dense, and the
statistics reported are those of the simplified box:

- density: the share of the runs inside the box that end in the option;
- coverage: the share of all runs ending in the option that lie inside the box;
- mass: the share of all points inside the box.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from sim import validation as check
from sim.experiments.inputs import Input, PointRunner, check_cost, model_inputs, outputs_of
from sim.experiments.inputs import unit_to_values
from sim.model.constants import Constants
from sim.model.scenario import Scenario
from sim.validation import MAX_MEMBERS

MIN_CUT = 0.1
from sim.validation import MAX_POINTS_DISCOVER as MAX_POINTS  # noqa: E402


class NothingToDiscover(check.InvalidArgument):
    """PRIM has nothing to separate: no input varies, or every run (or none) took the option.
    The message says what to change."""


@dataclass(frozen=True)
class Limit:
    input: Input
    lower: float | None  # None: not restricted from below
    upper: float | None

    def words(self) -> str:
        name = f"{self.input.actor}'s {self.input.field} ({self.input.where})"
        if self.lower is not None and self.upper is not None:
            return f"{name} between {self.lower:.3g} and {self.upper:.3g}"
        if self.lower is not None:
            return f"{name} above {self.lower:.3g}"
        return f"{name} below {self.upper:.3g}"


@dataclass
class DiscoverResult:
    scenario: str
    decision: str
    option: str
    limits: list[Limit]
    density: float
    coverage: float
    mass: float
    base_rate: float  # share of all runs ending in the option
    points: int
    members: int
    seed: int
    threshold: float
    reached_threshold: bool  # False: no box on the trajectory was that dense; the densest kept

    def rows(self) -> list[dict[str, Any]]:
        return [{"input": lim.input.key, "actor": lim.input.actor, "field": lim.input.field,
                 "where": lim.input.where, "lower": lim.lower, "upper": lim.upper,
                 "range_low": lim.input.lo, "range_high": lim.input.hi} for lim in self.limits]

    def frame(self):
        """One row per restricted input (pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=["input", "actor", "field", "where", "lower",
                                                  "upper", "range_low", "range_high"])

    def as_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "decision": self.decision, "option": self.option,
                "box": self.rows(), "density": self.density, "coverage": self.coverage,
                "mass": self.mass, "base_rate": self.base_rate, "points": self.points,
                "members": self.members, "seed": self.seed, "threshold": self.threshold,
                "reached_threshold": self.reached_threshold}

    def text(self) -> str:
        head = (f"{self.scenario}: where {self.decision} ends in {self.option} (PRIM, density "
                f"threshold {self.threshold:g}; {self.points:,} points x {self.members} members, "
                f"seed {self.seed})")
        rule = ("\n".join(f"  {lim.words()}" + (" and" if n < len(self.limits) - 1 else "")
                          for n, lim in enumerate(self.limits))
                or "  (no restriction found)")
        lines = [head, "when", rule,
                 f"then {self.option} in {self.density:.0%} of the runs inside, covering "
                 f"{self.coverage:.0%} of all runs ending in {self.option} (the box holds "
                 f"{self.mass:.0%} of the points; base rate {self.base_rate:.0%})"]
        if not self.reached_threshold:
            lines.append("(below the density threshold: PRIM found no box that dense; this "
                         "is the densest)")
        return "\n".join(lines)


def discover(scenario: Scenario, constants: Constants, decision: str, option: str, *,
             points: int = 1000, members: int = 10, seed: int, threshold: float = 0.8,
             include_constants: bool = False, allow_large: bool = False,
             progress: Callable[[int], None] | None = None,
             how: str = "allow_large=True") -> DiscoverResult:
    """The PRIM box where ``decision`` ends in ``option`` (see the module's description)."""
    inputs = checked_inputs(scenario, constants, decision, option, points, members, threshold,
                            include_constants, allow_large, how)
    seed = check.seed(seed)
    values = latin_hypercube(inputs, points, seed)
    i = [d.id for d in scenario.decisions].index(decision)
    k = [o.id for o in scenario.decisions[i].options].index(option)
    runner = PointRunner(scenario, constants, inputs, members, seed, common=False)
    y = runner.shares(values, progress)[i][:, k]
    if y.max() == 0 or y.min() == 1:
        share = "every one" if y.min() == 1 else "none"
        raise NothingToDiscover(
            f"{decision} ended in {option} in {share} of the {points * members:,} runs; PRIM "
            "needs runs with the outcome and runs without it (try more points or members, or "
            "another option)")
    limits, stats, reached = find_box(values, inputs, y, threshold)
    return DiscoverResult(scenario.id, decision, option, limits, *stats, float(y.mean()),
                          points, members, seed, threshold, reached)


def checked_inputs(scenario: Scenario, constants: Constants, decision: str, option: str,
                   points: int, members: int, threshold: float, include_constants: bool,
                   allow_large: bool, how: str) -> list[Input]:
    """The inputs, every argument checked and the cost bounded before any run."""
    outputs_of(scenario, decision, option)  # unknown decision or option: one error
    points = check.count("points", points, MAX_POINTS)  # PRIM's table stays in memory
    members = check.count("members", members, MAX_MEMBERS)
    if not 0.0 < check.real("threshold", threshold) <= 1.0:
        raise check.InvalidArgument(f"threshold must lie in (0, 1], got {threshold!r}")
    include_constants = check.flag("include_constants", include_constants)
    inputs = model_inputs(scenario, include_constants)
    if not inputs:
        raise NothingToDiscover(f"no drawn quantity of {scenario.id} has a range; PRIM needs "
                                "inputs that vary (try include_constants)")
    check_cost("this discovery", scenario, constants, points * members, include_constants,
               check.flag("allow_large", allow_large), how,
               f"{points:,} points x {members:,} members")
    return inputs


def latin_hypercube(inputs: list[Input], points: int, seed: int) -> np.ndarray:
    from scipy.stats import qmc

    return unit_to_values(inputs, qmc.LatinHypercube(d=len(inputs), seed=seed).random(points))


def find_box(x: np.ndarray, inputs: list[Input], y: np.ndarray, threshold: float
             ) -> tuple[list[Limit], tuple[float, float, float], bool]:
    """PRIM's box for the shares ``y`` (in [0, 1]) over the columns of ``x``: its limits,
    (density, coverage, mass), and whether it reached the threshold."""
    trajectory = prim_trajectory(x, [i.key for i in inputs], y)
    stats = [box_stats(x, y, lims) for lims in trajectory]
    eligible = [n for n, (density, _, _) in enumerate(stats) if density >= threshold]
    chosen = (max(eligible, key=lambda n: (stats[n][1], -n)) if eligible
              else max(range(len(stats)), key=lambda n: (stats[n][0], -n)))
    floor = min(threshold, stats[chosen][0])
    box = simplify(x, y, trajectory[chosen], trajectory[0], floor)
    limits = [Limit(i, None if low == -np.inf else low, None if high == np.inf else high)
              for i, (low, high) in zip(inputs, box) if (low, high) != (-np.inf, np.inf)]
    final = box_stats(x, y, box)
    return limits, final, final[0] >= threshold


def simplify(x: np.ndarray, y: np.ndarray, box: list[tuple], extent: list[tuple],
             floor: float) -> list[tuple]:
    """The box with its small cuts dropped, smallest first: a side that cuts less than
    ``MIN_CUT`` of the data's extent goes when the box stays at least ``floor`` dense (PRIM's
    small peels add words to the rule, not information); a side that cuts nothing goes."""
    sides = [[-np.inf if low <= lo else low, np.inf if high >= hi else high]
             for (low, high), (lo, hi) in zip(box, extent)]
    cuts = sorted((abs(value - extent[j][s]) / max(extent[j][1] - extent[j][0], 1e-300), j, s)
                  for j, side in enumerate(sides) for s, value in enumerate(side)
                  if np.isfinite(value))
    for size, j, s in cuts:
        if size >= MIN_CUT:
            break
        kept = sides[j][s]
        sides[j][s] = (-np.inf, np.inf)[s]
        if box_stats(x, y, sides)[0] < floor:
            sides[j][s] = kept
    return [(float(low), float(high)) for low, high in sides]


def prim_trajectory(x: np.ndarray, names: list[str], y: np.ndarray) -> list[list[tuple]]:
    """Every box on PRIM's peeling trajectory, as (low, high) per column."""
    import pandas as pd

    with warnings.catch_warnings():  # EMA warns about optional evaluators it cannot offer
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

        analysis = prim.Prim(pd.DataFrame(x, columns=names), y.astype(float), threshold=0.0,
                             mode=RuleInductionType.REGRESSION)
        box = analysis.find_box()
    return [[(float(lims[n].iloc[0]), float(lims[n].iloc[1])) for n in names]
            for lims in box.box_lims]


def box_stats(x: np.ndarray, y: np.ndarray, limits) -> tuple[float, float, float]:
    """(density, coverage, mass) of the box given as (low, high) per column."""
    inside = np.ones(len(y), dtype=bool)
    for j, (low, high) in enumerate(limits):
        inside &= (x[:, j] >= low) & (x[:, j] <= high)
    cases = float(y[inside].sum())
    return (cases / max(int(inside.sum()), 1), cases / max(float(y.sum()), 1e-300),
            float(inside.mean()))
