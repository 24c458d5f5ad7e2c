"""What if: a scenario beside a changed copy of itself, on common random numbers (Model 3).

A change fixes drawn quantities at values (``decision.actor.field`` stakes, ``event.<id>.<n>``
and ``option.<decision>.<option>.<n>`` effect magnitudes: the keys of
:func:`sim.model.plan.drawn_quantities`) and may remove events. Both sides run the same
members (the same seed and run numbers); every quantity the change leaves alone takes the
baseline's drawn value in each run, so a difference between the two sides is the change's
doing, not sampling noise. Shares, differences and reached fractions are all over the same
runs (a run that never reaches a decision counts as ``not_reached``), so the numbers shown
subtract. ``diplosim counterfactual``, the API and the page all call :func:`compare`.

With ``attribute=True`` each decision also gets its attribution by actor: how much each actor's
stake pulls the deciding actor toward the most cooperative option rather than the least, at
the baseline's decision moment (the hour the baseline run took it), on both sides. It replays
each run up to that hour with the kernel's own rules (the same numbers, so the baseline replay
is the baseline run), then reads each stake: ``w_a (|p_least - x_a| - |p_most - x_a|)``, the
actor's term in ``U(most) - U(least)`` (docs/model3.md, M3.1). A body's vote has no deciding
actor's utility, so it has no attribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from sim.model.summary import NOT_REACHED, wilson_interval
from sim.model.jit import njit
from sim.model import kernel as K
from sim.model.constants import Constants
from sim.model.engine import Engine, Outcomes
from sim.model.plan import drawn_quantities
from sim.model.scenario import Scenario

Z95 = 1.959963984540054


class ChangeError(ValueError):
    """A change that names what the scenario does not have, or a value out of bounds."""


@dataclass(frozen=True)
class Change:
    """What a what-if changes: quantities fixed at values, events removed, and the elections
    of the named actors dropped (their salience then never rises as a vote nears, M3.2)."""

    set: Mapping[str, float] = field(default_factory=dict)
    remove_events: tuple[str, ...] = ()
    remove_elections: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not self.set and not self.remove_events and not self.remove_elections


def allowed_bounds(key: str) -> tuple[float, float]:
    """A stake field stays on its 0..1 scale; an effect's magnitude within [-1, 1]."""
    return (-1.0, 1.0) if key.startswith(("event.", "option.")) else (0.0, 1.0)


def changed_scenario(scenario: Scenario, change: Change) -> Scenario:
    """The scenario with the change's events and elections removed (its quantities are fixed
    at run time)."""
    keys = {q.key for q in drawn_quantities(scenario)}
    for key, value in change.set.items():
        if key not in keys:
            raise ChangeError(f"'{key}' is not a drawn quantity of {scenario.id}; "
                              f"expected one of {sorted(keys)[:8]}{' ...' if len(keys) > 8 else ''}")
        lo, hi = allowed_bounds(key)
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and lo <= float(value) <= hi):
            raise ChangeError(f"'{key}' must be a number in [{lo:g}, {hi:g}], got {value!r}")
    events = {e.id for e in scenario.events}
    for event in change.remove_events:
        if event not in events:
            raise ChangeError(f"no event '{event}' in {scenario.id}; expected one of {sorted(events)}")
    for key in change.set:
        if key.startswith("event.") and key.split(".")[1] in change.remove_events:
            raise ChangeError(f"'{key}' belongs to an event the change removes")
    voters = {e.actor for e in scenario.elections}
    for actor in change.remove_elections:
        if actor not in voters:
            raise ChangeError(f"no election of '{actor}' in {scenario.id}; expected one of "
                              f"{sorted(voters)}")
    kept = [e for e in scenario.events if e.id not in change.remove_events]
    elections = [e for e in scenario.elections if e.actor not in change.remove_elections]
    return scenario.model_copy(update={"events": kept, "elections": elections})


def paired_values(base: Engine, other: Engine, base_values: np.ndarray,
                  settings: Mapping[str, float]) -> np.ndarray:
    """The changed side's drawn values: the setting where one is given, else the baseline's
    value of the same quantity in the same run (the changed side never has a quantity the
    baseline lacks: a change only fixes values and removes events)."""
    column = {q.key: j for j, q in enumerate(base.quantities)}
    values = np.empty((base_values.shape[0], len(other.quantities)))
    for j, q in enumerate(other.quantities):
        values[:, j] = settings[q.key] if q.key in settings else base_values[:, column[q.key]]
    return values


@dataclass(frozen=True)
class ActorPull:
    """One actor's mean term in U(most cooperative) - U(least cooperative) at the baseline's
    decision moment, baseline and changed side (positive: it pulls toward cooperating)."""

    actor: str
    baseline: float
    changed: float

    @property
    def change(self) -> float:
        return self.changed - self.baseline


@dataclass(frozen=True)
class DecisionComparison:
    """One decision on both sides, every share over all runs."""

    decision: str
    options: tuple[str, ...]  # the decision's options, then not_reached
    base_shares: dict[str, float]
    changed_shares: dict[str, float]
    base_ci: dict[str, tuple[float, float]]
    changed_ci: dict[str, tuple[float, float]]
    difference: dict[str, tuple[float, float, float]]  # option -> (mean, low, high), paired
    base_median_hours: float  # hours before the deadline, of the runs that reached it
    changed_median_hours: float
    attribution: tuple[ActorPull, ...] = ()  # by actor (compare(..., attribute=True))
    attributed: tuple[str, str] | None = None  # (most, least) cooperative option compared


@dataclass(frozen=True)
class Comparison:
    scenario: str
    change: Change
    seed: int
    runs: int
    decisions: list[DecisionComparison]

    def decision(self, decision_id: str) -> DecisionComparison:
        return next(d for d in self.decisions if d.decision == decision_id)

    def as_json(self) -> list[dict[str, Any]]:
        return [{
            "decision": d.decision,
            "options": list(d.options),
            "baseline": d.base_shares,
            "counterfactual": d.changed_shares,
            "baseline_ci": {o: list(v) for o, v in d.base_ci.items()},
            "counterfactual_ci": {o: list(v) for o, v in d.changed_ci.items()},
            "difference": {o: {"mean": m, "ci_low": lo, "ci_high": hi}
                           for o, (m, lo, hi) in d.difference.items()},
            "baseline_median_hours": d.base_median_hours,
            "counterfactual_median_hours": d.changed_median_hours,
            **({"attribution": {"most": d.attributed[0], "least": d.attributed[1], "actors": [
                {"actor": a.actor, "baseline": a.baseline, "counterfactual": a.changed}
                for a in d.attribution]}} if d.attributed else {}),
        } for d in self.decisions]

    def frame(self):
        """One row per decision and option (a pandas table)."""
        import pandas as pd

        return pd.DataFrame([{
            "decision": d.decision, "option": o, "baseline": d.base_shares[o],
            "counterfactual": d.changed_shares[o], "difference": d.difference[o][0],
            "difference_low": d.difference[o][1], "difference_high": d.difference[o][2],
        } for d in self.decisions for o in d.options])

    def text(self) -> str:
        lines = [f"{self.runs} runs on common random numbers, seed {self.seed}; every share is "
                 "over all runs (not_reached: the run never got to the decision)", ""]
        for d in self.decisions:
            lines.append(f"decision {d.decision}")
            lines.append(f"  {'option':<26} {'baseline [95% CI]':>24} {'what if [95% CI]':>24} "
                         f"{'difference [95% CI]':>28}")
            for o in d.options:
                (bl, bh), (cl, ch) = d.base_ci[o], d.changed_ci[o]
                m, lo, hi = d.difference[o]
                lines.append(f"  {o:<26} {d.base_shares[o]:7.3f} [{bl:.3f}, {bh:.3f}]  "
                             f"{d.changed_shares[o]:7.3f} [{cl:.3f}, {ch:.3f}]    "
                             f"{m:+7.3f} [{lo:+.3f}, {hi:+.3f}]")
            lines.append(f"  median decision time, hours before its deadline: baseline "
                         f"{d.base_median_hours:.1f}, what if {d.changed_median_hours:.1f}")
            lines += _attribution_lines(d)
            lines.append("")
        lines.append("Differences are per run (paired) with a normal 95% interval; shares carry "
                     "Wilson intervals.")
        return "\n".join(lines)


def compare(scenario: Scenario, change: Change, constants: Constants, seed: int,
            runs: int, attribute: bool = False) -> Comparison:
    """Run the scenario and its changed copy on the same members and compare every decision
    (with ``attribute``, also each decision's attribution by actor)."""
    other_scenario = changed_scenario(scenario, change)
    base, other = Engine(scenario, constants), Engine(other_scenario, constants)
    members = np.arange(runs)
    base_values = base.values(seed, members)
    changed_values = paired_values(base, other, base_values, change.set)
    a, b = base.run(seed, members, base_values), other.run(seed, members, changed_values)
    decisions = [_decision(scenario, i, a, b) for i in range(len(scenario.decisions))]
    if attribute:
        sides = ((base, base_values), (other, changed_values))
        decisions = [_attributed(d, i, scenario, sides, a, seed) for i, d in enumerate(decisions)]
    return Comparison(scenario.id, change, seed, runs, decisions)


def _chosen(outcomes: Outcomes, i: int, options: int) -> np.ndarray:
    """Per run, the option index chosen, or ``options`` (the not_reached column)."""
    reached = outcomes.status[:, i] == K.RESOLVED
    return np.where(reached, outcomes.option[:, i], options)


def _decision(scenario: Scenario, i: int, a: Outcomes, b: Outcomes) -> DecisionComparison:
    d = scenario.decisions[i]
    options = tuple(o.id for o in d.options) + (NOT_REACHED,)
    ca, cb = _chosen(a, i, len(d.options)), _chosen(b, i, len(d.options))
    runs = len(ca)
    base_shares, changed_shares, base_ci, changed_ci, difference = {}, {}, {}, {}, {}
    for k, o in enumerate(options):
        xa, xb = (ca == k), (cb == k)
        base_shares[o], changed_shares[o] = float(xa.mean()), float(xb.mean())
        base_ci[o] = wilson_interval(int(xa.sum()), runs)
        changed_ci[o] = wilson_interval(int(xb.sum()), runs)
        delta = xb.astype(float) - xa.astype(float)
        half = Z95 * delta.std(ddof=1) / math.sqrt(runs) if runs > 1 else math.nan
        difference[o] = (float(delta.mean()), float(delta.mean() - half), float(delta.mean() + half))
    return DecisionComparison(d.id, options, base_shares, changed_shares, base_ci, changed_ci,
                              difference, _median_hours(a, i), _median_hours(b, i))


def _median_hours(outcomes: Outcomes, i: int) -> float:
    reached = outcomes.status[:, i] == K.RESOLVED
    hours = (outcomes.deadline_h[:, i] - outcomes.decided_h[:, i])[reached]
    return float(np.median(hours)) if hours.size else math.nan


# -- attribution by actor at the baseline's decision moment -------------------------------------


def _attribution_lines(d: DecisionComparison) -> list[str]:
    if not d.attributed:
        return []
    most, least = d.attributed
    lines = [f"  each actor's pull toward {most} rather than {least} at the baseline's decision "
             f"moment (its term in U({most}) - U({least})):"]
    for a in d.attribution:
        lines.append(f"    {a.actor:<24} baseline {a.baseline:+.3f}  what if {a.changed:+.3f}  "
                     f"change {a.change:+.3f}")
    return lines


def _attributed(d: DecisionComparison, i: int, scenario: Scenario, sides: tuple,
                outcomes: Outcomes, seed: int) -> DecisionComparison:
    """``d`` with its attribution by actor: the mean over the runs that reached decision ``i``
    on the baseline side, both sides read at that run's baseline decision hour."""
    from dataclasses import replace

    decision = scenario.decisions[i]
    reached = outcomes.status[:, i] == K.RESOLVED
    if decision.body is not None or not reached.any():
        return d
    positions = [o.position for o in decision.options]
    most = max(range(len(positions)), key=lambda k: (positions[k], -k))
    least = min(range(len(positions)), key=lambda k: (positions[k], k))
    hours = outcomes.decided_h[reached, i]
    runs = outcomes.runs[reached]
    pulls = [_pulls(engine, seed, values[reached], runs, hours, (i, most, least))
             for engine, values in sides]
    actors = list(decision.stakes)
    attribution = tuple(ActorPull(actor, float(pulls[0][:, s].mean()), float(pulls[1][:, s].mean()))
                        for s, actor in enumerate(actors))
    return replace(d, attribution=tuple(sorted(attribution, key=lambda a: -abs(a.change))),
                   attributed=(decision.options[most].id, decision.options[least].id))


def _pulls(engine: Engine, seed: int, values: np.ndarray, runs: np.ndarray, hours: np.ndarray,
           compared: tuple[int, int, int]) -> np.ndarray:
    """(runs, stakes of decision i): each stake's term in U(most) - U(least) at each run's
    hour, the run replayed with the kernel's rules up to the moment decision i is weighed."""
    from sim.model import philox

    i, most, least = compared
    plan = engine.plan
    out = np.zeros((len(runs), plan.stake_first[i + 1] - plan.stake_first[i]))
    m = K.new_member(plan, len(engine.quantities))
    k0, k1 = philox.seed_key(seed)
    m.key[0], m.key[1] = np.uint64(k0), np.uint64(k1)
    _replayed_pulls(np.ascontiguousarray(runs, dtype=np.int64), np.ascontiguousarray(values),
                    np.ascontiguousarray(hours), m, plan, engine.c, i, most, least, out)
    return out


@njit(cache=True)
def _replay_until(m, plan, c, i, hour) -> None:
    """Carry out a run's moments until decision ``i`` is weighed at ``hour``: every moment
    before that hour, and at it the deadlines, openings, imposed choices and events that come
    first, save decision ``i``'s own deadline or imposed choice."""
    K.start(m, plan)
    while True:
        kind, j, t = K.next_moment(m, plan)
        if kind == K.NONE or t > hour:
            return
        if t == hour and (kind >= K.ADDRESSED or (j == i and (kind == K.EXPIRE or kind == K.IMPOSE))):
            return
        K.begin_moment(m, plan)
        K.carry_out(kind, j, t, m, plan, c)


@njit(cache=True)
def _replayed_pulls(runs, values, hours, m, plan, c, i, most, least, out) -> None:
    """Each run replayed to its hour; each stake's term in U(most) - U(least) there."""
    first = plan.stake_first[i]
    for r in range(runs.shape[0]):
        m.values[:] = values[r]
        m.key[2] = np.uint64(runs[r])
        _replay_until(m, plan, c, i, hours[r])
        for s in range(first, plan.stake_first[i + 1]):
            weight = K.salience_at(s, hours[r], m, plan, c) * m.stake[s, K.CLOUT]
            x = m.stake[s, K.POSITION]
            out[r, s - first] = weight * (abs(plan.position[i, least] - x)
                                          - abs(plan.position[i, most] - x))
