"""Counterfactuals: an overlay changes a base scenario; both run on common random numbers.

An overlay file names a base scenario and changes it: fix parameters, remove, move or add
events, drop elections. Baseline and counterfactual member ``i`` share every random input
(the shock table, and every drawn quantity the two have in common), so the difference between
them is the overlay's effect, not noise; an empty overlay gives exactly zero difference.
Quantities only the counterfactual has (effects of added events) are drawn from a stream of
their own, ``SeedSequence(seed, spawn_key=(run, 1))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import AwareDatetime, Field

from sim.model.constants import Constants
from sim.model.draws import drawn_quantities
from sim.engine.ensemble import RESOLVED, MemberInputs, VectorEngine
from sim.engine.runner import wilson_interval
from sim.model.scenario import (
    Effect,
    Identifier,
    Scenario,
    ScenarioError,
    StrictModel,
    Text,
    load_referenced_scenario,
    parse_model,
    read_text_file,
)
from sim.model.yamlmap import line_for
from sim.validation import FileName, Flag, Number

Z95 = 1.959963984540054


class Setting(StrictModel):
    """A parameter fixed at one value in the counterfactual."""

    value: Number
    note: Text = Field(description="why this value expresses the counterfactual")


class AddedEvent(StrictModel):
    """A hypothetical event: no source to quote, so a note says what it stands for."""

    id: Identifier
    time: AwareDatetime
    description: Text
    note: Text
    effects: list[Effect] = Field(default_factory=list)


class Overlay(StrictModel):
    """A counterfactual overlay file."""

    format: Literal["diplosim-overlay/1"]
    id: Identifier
    base: FileName = Field(description="base scenario file, relative to this overlay")
    question: Text
    answer: Text = Field(description="what the model answers, in words (written after running)")
    set: dict[str, Setting] = Field(default_factory=dict)
    remove_events: list[Identifier] = Field(default_factory=list)
    move_events: dict[Identifier, AwareDatetime] = Field(default_factory=dict)
    add_events: list[AddedEvent] = Field(default_factory=list)
    remove_elections: Flag = False


@dataclass(frozen=True)
class LoadedOverlay:
    overlay: Overlay
    file: str
    base: Scenario
    base_file: str
    counterfactual: Scenario


def load_overlay(path: str, sources: str | None = None) -> LoadedOverlay:
    """Read an overlay, its base scenario, and build the counterfactual scenario. Every problem
    is a located ScenarioError (in the overlay file, or in the base scenario)."""
    text, _ = read_text_file(path)
    overlay, _, lines = parse_model(text, path, Overlay)
    base_file = str((Path(path).resolve().parent / overlay.base))
    base = load_referenced_scenario(
        base_file, sources, path, ("base",), lines, f"base scenario '{overlay.base}'"
    ).scenario

    def fail(where: tuple, message: str) -> ScenarioError:
        return ScenarioError(path, where, line_for(lines, where), message)

    keys = {q.key for q in drawn_quantities(base)}
    for key, setting in overlay.set.items():
        if key not in keys:
            raise fail(("set", key), f"'{key}' is not a drawn quantity of '{base.id}'")
        lo, hi = quantity_bounds(base, key)
        if not lo <= setting.value <= hi:
            raise fail(("set", key, "value"), f"must lie within [{lo}, {hi}] (the bounds "
                       f"'{base.id}' itself allows for '{key}'), got {setting.value}")
    event_ids = [e.id for e in base.events]
    for index, event_id in enumerate(overlay.remove_events):
        if event_id not in event_ids:
            raise fail(("remove_events", index), f"unknown event '{event_id}' in '{base.id}'")
    for event_id in overlay.move_events:
        if event_id not in event_ids:
            raise fail(("move_events", event_id), f"unknown event '{event_id}' in '{base.id}'")
        if event_id in overlay.remove_events:
            raise fail(("move_events", event_id), f"event '{event_id}' is also removed")
    for index, event in enumerate(overlay.add_events):
        if event.id in event_ids:
            raise fail(("add_events", index, "id"), f"event id '{event.id}' already exists")

    data = base.model_dump(mode="python")
    data["recorded_outcome"] = {}
    events = [e for e in data["events"] if e["id"] not in overlay.remove_events]
    for event in events:
        if event["id"] in overlay.move_events:
            event["time"] = overlay.move_events[event["id"]]
    added_source = data["sources"][0]["id"]
    for event in overlay.add_events:
        events.append(
            {
                "id": event.id,
                "time": event.time,
                "description": f"{event.description} (counterfactual)",
                "source": added_source,
                "quote": "(counterfactual event: no source)",
                "effects": [e.model_dump(exclude_none=True) for e in event.effects],
            }
        )
    data["events"] = events
    if overlay.remove_elections:
        data["elections"] = []
    try:
        counterfactual = Scenario.model_validate(data)
    except Exception as exc:  # noqa: BLE001 - reported as a located overlay error
        raise fail((), f"the overlay makes an invalid scenario: {exc}") from None
    from sim.model.scenario import _cross_check

    for where, message in _cross_check(counterfactual):
        if where and where[0] == "events":
            index = where[1] - (len(events) - len(overlay.add_events))
            if index >= 0:
                where = ("add_events", index, *where[2:])
            else:
                original = events[where[1]]["id"]
                where = ("move_events", original) if original in overlay.move_events else where
        raise fail(where, message)
    return LoadedOverlay(overlay, path, base, base_file, counterfactual)


def quantity_bounds(scenario: Scenario, key: str) -> tuple[float, float]:
    """The bounds a scenario file allows for a drawn quantity (those a model's overrides obey)."""
    from sim.model.construct import allowed_bounds

    return allowed_bounds(scenario, key)


def paired_inputs(
    base_engine: VectorEngine,
    cf_engine: VectorEngine,
    base_inputs: MemberInputs,
    seed: int,
    settings: dict[str, float],
) -> MemberInputs:
    """The counterfactual's inputs: the baseline's shocks (same seed) and shared draws, the
    overlay's fixed values, and draws of the counterfactual's own quantities from their own
    stream."""
    from sim.model.draws import member_values
    from sim.model.kernel.philox import COUNTERFACTUAL

    values = np.empty((len(base_inputs.runs), len(cf_engine.quantities)))
    own = [j for j, q in enumerate(cf_engine.quantities) if q.key not in base_engine.column]
    if own:
        own_values = member_values([cf_engine.quantities[j] for j in own], seed, base_inputs.runs,
                                   stream=COUNTERFACTUAL)
    for j, q in enumerate(cf_engine.quantities):
        if q.key in settings:
            values[:, j] = settings[q.key]
        elif q.key in base_engine.column:
            values[:, j] = base_inputs.values[:, base_engine.column[q.key]]
        else:
            values[:, j] = own_values[:, own.index(j)]
    return MemberInputs(runs=base_inputs.runs, values=values, seed=base_inputs.seed)


@dataclass(frozen=True)
class DecisionComparison:
    decision: str
    options: tuple[str, ...]
    base_shares: dict[str, float]
    cf_shares: dict[str, float]
    base_ci: dict[str, tuple[float, float]]
    cf_ci: dict[str, tuple[float, float]]
    difference: dict[str, tuple[float, float, float]]  # option -> (diff, low, high), per run
    base_reached: float
    cf_reached: float
    base_median_hours: float
    cf_median_hours: float
    attribution: list[tuple[str, float, float]]  # term -> (base gap, cf gap), sorted by change


def _shares(outcomes, i: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per run: reached, and chose option k."""
    reached = outcomes.status[:, i] == RESOLVED
    return reached, reached & (outcomes.option_index[:, i] == k)


def compare(loaded: LoadedOverlay, constants: Constants, seed: int, runs: int) -> list[DecisionComparison]:
    """Run baseline and counterfactual on common random numbers and compare every decision."""
    base_engine = VectorEngine(loaded.base, constants)
    cf_engine = VectorEngine(loaded.counterfactual, constants)
    base_inputs = base_engine.inputs(seed, range(runs))
    settings = {k: s.value for k, s in loaded.overlay.set.items()}
    cf_inputs = paired_inputs(base_engine, cf_engine, base_inputs, seed, settings)
    base = base_engine.run(base_inputs)
    # probe both runs' utility terms at the baseline's decision moment (or deadline)
    probe = np.full(base.status.shape, -1, dtype=np.int64)
    starts = base_engine.clock.step_starts
    for i in range(len(base_engine.decisions)):
        resolved = base.status[:, i] == RESOLVED
        moment = np.where(resolved, base.decided_h[:, i], base.deadline_h[:, i])
        step = np.searchsorted(starts, moment, side="right") - 1
        probe[:, i] = np.where(resolved & ~base.by_default[:, i], step, np.minimum(step, len(starts) - 1))
    base = base_engine.run(base_inputs, probe=probe)
    cf = cf_engine.run(cf_inputs, probe=probe)
    comparisons = []
    for i, decision in enumerate(base_engine.decisions):
        options = tuple(base_engine.option_ids[i])
        base_reached = base.status[:, i] == RESOLVED
        cf_reached = cf.status[:, i] == RESOLVED
        base_shares, cf_shares, base_ci, cf_ci, difference = {}, {}, {}, {}, {}
        for k, option in enumerate(options):
            _, b = _shares(base, i, k)
            _, c = _shares(cf, i, k)
            nb, nc = int(base_reached.sum()), int(cf_reached.sum())
            base_shares[option] = b.sum() / nb if nb else math.nan
            cf_shares[option] = c.sum() / nc if nc else math.nan
            base_ci[option] = wilson_interval(int(b.sum()), nb)
            cf_ci[option] = wilson_interval(int(c.sum()), nc)
            # paired difference over all runs (unreached counts as not choosing the option)
            delta = c.astype(float) - b.astype(float)
            half = Z95 * delta.std(ddof=1) / math.sqrt(runs) if runs > 1 else math.nan
            difference[option] = (float(delta.mean()), float(delta.mean() - half), float(delta.mean() + half))
        base_hours = base.hours_before_deadline(i)[base_reached]
        cf_hours = cf.hours_before_deadline(i)[cf_reached]
        comparisons.append(
            DecisionComparison(
                decision=decision.id,
                options=options,
                base_shares=base_shares,
                cf_shares=cf_shares,
                base_ci=base_ci,
                cf_ci=cf_ci,
                difference=difference,
                base_reached=float(base_reached.mean()),
                cf_reached=float(cf_reached.mean()),
                base_median_hours=float(np.median(base_hours)) if base_hours.size else math.nan,
                cf_median_hours=float(np.median(cf_hours)) if cf_hours.size else math.nan,
                attribution=_attribution(base_engine, base, cf, i),
            )
        )
    return comparisons


def _attribution(engine: VectorEngine, base, cf, i: int) -> list[tuple[str, float, float]]:
    """Mean contribution of each utility term to the gap between the most and the least
    cooperative option (first in file order on ties), at the baseline's decision moment, in
    baseline and counterfactual (runs probed in both). Positive favours cooperating."""
    from sim.model.kernel.layout import UTILITY_TERMS

    cooperation = engine.cooperation[i]
    order = range(len(cooperation))
    keep = max(order, key=lambda k: (cooperation[k], -k))
    leave = min(order, key=lambda k: (cooperation[k], k))
    b, c = base.probed_terms[:, i], cf.probed_terms[:, i]  # (M, terms, options)
    both = ~np.isnan(b[:, 0, 0]) & ~np.isnan(c[:, 0, 0])
    rows = []
    for t, name in enumerate(UTILITY_TERMS):
        gap_b = b[both, t, keep] - b[both, t, leave]
        gap_c = c[both, t, keep] - c[both, t, leave]
        rows.append((name, float(gap_b.mean()) if gap_b.size else math.nan,
                     float(gap_c.mean()) if gap_c.size else math.nan))
    rows.sort(key=lambda r: -abs(r[2] - r[1]) if not math.isnan(r[2] - r[1]) else 0.0)
    return rows


def format_comparison(loaded: LoadedOverlay, comparisons: list[DecisionComparison], runs: int, seed: int) -> str:
    cooperation_of = {
        d.id: {o.id: o.cooperation for o in d.options} for d in loaded.base.decisions
    }
    lines = [
        f"counterfactual {loaded.overlay.id} on {loaded.base.id}: {loaded.overlay.question}",
        f"{runs} runs on common random numbers, seed {seed}",
        "",
    ]
    for comp in comparisons:
        lines.append(f"decision {comp.decision}  (reached: baseline {comp.base_reached:.1%}, "
                     f"counterfactual {comp.cf_reached:.1%})")
        lines.append(f"  {'option':<24} {'baseline [95% CI]':>24} {'counterfactual [95% CI]':>26} "
                     f"{'difference [95% CI]':>28}")
        for option in comp.options:
            bl, bh = comp.base_ci[option]
            cl, ch = comp.cf_ci[option]
            d, dl, dh = comp.difference[option]
            lines.append(
                f"  {option:<24} {comp.base_shares[option]:7.3f} [{bl:.3f}, {bh:.3f}]   "
                f"{comp.cf_shares[option]:7.3f} [{cl:.3f}, {ch:.3f}]     "
                f"{d:+7.3f} [{dl:+.3f}, {dh:+.3f}]"
            )
        lines.append(f"  median decision time, hours before deadline: baseline "
                     f"{comp.base_median_hours:.1f}, counterfactual {comp.cf_median_hours:.1f} "
                     f"(shift {comp.cf_median_hours - comp.base_median_hours:+.1f})")
        keep = max(comp.options, key=lambda o: (cooperation_of[comp.decision][o], -comp.options.index(o)))
        leave = min(comp.options, key=lambda o: (cooperation_of[comp.decision][o], comp.options.index(o)))
        lines.append("  attribution at the baseline's decision moment: mean contribution of each "
                     f"term to U({keep}) - U({leave})")
        for name, gb, gc in comp.attribution:
            lines.append(f"    {name:<14} baseline {gb:+.3f}  counterfactual {gc:+.3f}  change {gc - gb:+.3f}")
        lines.append("")
    lines.append("Differences are per run (paired), over all runs: a run that does not reach a "
                 "decision counts as not choosing any of its options.")
    return "\n".join(lines)


def as_json(comparisons: list[DecisionComparison]) -> list[dict[str, Any]]:
    return [
        {
            "decision": c.decision,
            "options": list(c.options),
            "baseline": c.base_shares,
            "counterfactual": c.cf_shares,
            "difference": {o: {"mean": d[0], "ci_low": d[1], "ci_high": d[2]} for o, d in c.difference.items()},
            "baseline_ci": {o: list(c.base_ci[o]) for o in c.options},
            "counterfactual_ci": {o: list(c.cf_ci[o]) for o in c.options},
            "baseline_reached": c.base_reached,
            "counterfactual_reached": c.cf_reached,
            "baseline_median_hours": c.base_median_hours,
            "counterfactual_median_hours": c.cf_median_hours,
            "attribution": [{"term": n, "baseline": b, "counterfactual": f} for n, b, f in c.attribution],
        }
        for c in comparisons
    ]
