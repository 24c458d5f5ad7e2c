"""What the teaching page shows, computed without a browser (Model 3 and the library).

The page (:mod:`sim.app`) only declares controls and views over these functions:

* :func:`episodes`: every library episode, labelled by country, year and title;
* :func:`slider_specs`: one slider per drawn quantity of an episode, with its sourced range,
  the words it rests on, and who it belongs to;
* :func:`comparison`: the episode as sourced beside the student's what-if on common random
  numbers: :func:`sim.orchestrator.whatif`, the very call ``diplosim counterfactual`` makes;
* :class:`~sim.experiments.trace.TracedRun`: one Mesa run of the what-if (one moment per ``step()``), a member of
  that same ensemble, which keeps each look's probabilities for the page's chart.

A slider the student has not moved fixes nothing: the quantity is drawn across its sourced
range in every run, so before anything is touched the two sides are the same runs and every
difference is exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sim import orchestrator
from sim.experiments.trace import (  # noqa: F401 (the page's traced run, as the page calls it)
    Look, TracedRun, decision_states, one_line, run_values)
from sim.experiments.whatif import Change, Comparison
from sim.model.summary import NOT_REACHED
from sim.formats.common import ScenarioError
from sim.model.constants import Constants
from sim.model.plan import drawn_quantities
from sim.model.scenario import LoadedScenario, Scenario

DEFAULT_EPISODE = "gsomia_2019"
DEFAULT_SEED = 20190822
DEFAULT_RUNS = 400  # a few hundred: a what-if answers in well under a second on 2 cores
SLIDER_STEPS = 20  # positions per sourced range
FIELD_MEANING = {
    "position": "where on the decision's axis it wants the outcome (0 least cooperative, "
                "1 fullest commitment)",
    "salience": "how much it cares now (0..1)",
    "clout": "what it can make the deciding actor pay or gain (0..1)",
}


# -- the episodes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """A library episode: its folder name, and what a student recognises it by."""

    name: str
    country: str
    year: int
    title: str
    file: str

    @property
    def label(self) -> str:
        return f"{self.country} {self.year}: {self.title}"


@lru_cache(maxsize=1)
def episodes() -> tuple[Episode, ...]:
    """Every episode of the library, by country then year (one that cannot be read is left
    out: ``diplosim check`` says what is wrong with it)."""
    from sim.paths import library_scenarios

    out = []
    for path in library_scenarios():
        try:
            s = load_episode(path.parent.name).scenario
        except ScenarioError:
            continue
        out.append(Episode(path.parent.name, s.country, s.year, " ".join(s.title.split()),
                           str(path)))
    return tuple(sorted(out, key=lambda e: (e.country, e.year, e.name)))


@lru_cache(maxsize=32)
def load_episode(name: str) -> LoadedScenario:
    """The episode as the command line loads it (quotes checked against the sources)."""
    return orchestrator.load(name)


@lru_cache(maxsize=1)
def page_constants() -> Constants:
    """The fitted constants (calibration/constants3.yaml), as every command uses them."""
    return orchestrator.constants(None)


# -- the sliders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliderSpec:
    """One drawn quantity: its key, whose it is, its sourced range and the words behind it."""

    key: str  # a key of sim.model.plan.drawn_quantities: what Change(set=...) takes
    group: str  # the decision (or "events") it belongs to: the page's first grouping
    heading: str  # what that group is about (the decision's question)
    who: str  # the actor (name and role), or the event or option that brings the effect
    name: str  # the field (position, salience, clout) or the effect's target
    meaning: str
    low: float
    high: float
    source: str
    quote: str
    note: str

    @property
    def fixed_by_source(self) -> bool:
        """A number the source gives exactly (no range): shown, not moved."""
        return self.low == self.high

    @property
    def step(self) -> float:
        """A round step (the browser's slider snaps to the decimals of its step)."""
        return float(f"{(self.high - self.low) / SLIDER_STEPS:.3g}")

    @property
    def middle(self) -> float:
        """Where an untouched slider's thumb rests (it fixes nothing there)."""
        return self.snap((self.low + self.high) / 2)

    def snap(self, value: float) -> float:
        """``value`` on the slider's grid, rounded so it prints exactly as it is used."""
        if self.fixed_by_source:
            return self.low
        position = round((min(max(value, self.low), self.high) - self.low) / self.step)
        return round(min(self.low + position * self.step, self.high), 6)


def _source_label(scenario: Scenario, source_id: str | None) -> str:
    source = next((s for s in scenario.sources if s.id == source_id), None)
    return f"{source.publisher}, \u201c{one_line(source.title)}\u201d" if source else "(no source)"


def _stake_specs(scenario: Scenario) -> list[SliderSpec]:
    specs = []
    for d in scenario.decisions:
        for actor_id, stake in d.stakes.items():
            actor = scenario.actors[actor_id]
            for name in ("position", "salience", "clout"):
                param = getattr(stake, name)
                if param is None:
                    continue
                low, high = param.bounds
                specs.append(SliderSpec(
                    f"{d.id}.{actor_id}.{name}", d.id, one_line(d.question),
                    f"{one_line(actor.name)} ({actor.role})", name, FIELD_MEANING[name],
                    low, high, _source_label(scenario, param.source), one_line(param.quote),
                    one_line(param.note)))
    return specs


def _effect_meaning(effect) -> str:
    verb = "adds this to" if effect.op == "add" else "sets"
    return f"{verb} {effect.target}"


def _effect_specs(scenario: Scenario) -> list[SliderSpec]:
    specs = []
    for e in scenario.events:
        for n, effect in enumerate(e.effects):
            low, high = effect.bounds
            specs.append(SliderSpec(
                f"event.{e.id}.{n}", "events", "Events: how much each one moves the stakes",
                f"{e.id}: {one_line(e.description)}", effect.target, _effect_meaning(effect),
                low, high, _source_label(scenario, e.source), one_line(e.quote), one_line(effect.note)))
    for d in scenario.decisions:
        for o in d.options:
            for n, effect in enumerate(o.effects):
                low, high = effect.bounds
                specs.append(SliderSpec(
                    f"option.{d.id}.{o.id}.{n}", d.id, one_line(d.question),
                    f"when '{o.id}' is chosen", effect.target, _effect_meaning(effect),
                    low, high, _source_label(scenario, o.source), one_line(o.quote),
                    one_line(effect.note)))
    return specs


def slider_specs(scenario: Scenario) -> list[SliderSpec]:
    """One spec per drawn quantity, in the order of :func:`drawn_quantities` within each group:
    the decisions' stakes (by actor), then the events' effects."""
    specs = {s.key: s for s in _stake_specs(scenario) + _effect_specs(scenario)}
    keys = [q.key for q in drawn_quantities(scenario)]
    assert set(keys) == set(specs), "every drawn quantity has a slider"
    order = {d.id: i for i, d in enumerate(scenario.decisions)} | {"events": len(scenario.decisions)}
    return sorted((specs[k] for k in keys), key=lambda s: order[s.group])


def slider_groups(specs: list[SliderSpec]) -> list[tuple[str, str, list[tuple[str, list[SliderSpec]]]]]:
    """(group, heading, [(who, specs)]): by decision, then actor, in the specs' order."""
    groups: dict[str, tuple[str, dict[str, list[SliderSpec]]]] = {}
    for spec in specs:
        heading, by_who = groups.setdefault(spec.group, (spec.heading, {}))
        by_who.setdefault(spec.who, []).append(spec)
    return [(g, heading, list(by_who.items())) for g, (heading, by_who) in groups.items()]


# -- ready-made what-ifs (library/<episode>/counterfactuals/*.yaml) -------------------------------


@dataclass(frozen=True)
class ReadyWhatIf:
    """An overlay of format ``diplosim-overlay/3`` beside an episode: a what-if to start from."""

    id: str
    question: str
    what_to_look_for: str
    set: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    remove_events: tuple[str, ...] = ()
    remove_elections: tuple[str, ...] = ()


def ready_whatifs(episode: str) -> list[ReadyWhatIf]:
    """The overlays in ``library/<episode>/counterfactuals/`` (none while that folder is
    absent); a file that cannot be read as one is not offered (``diplosim counterfactual``
    names what is wrong with it). Read through the bounded reader every file goes through."""
    from sim.paths import LIBRARY

    folder = LIBRARY / episode / "counterfactuals"
    found = [_read_overlay(path, episode) for path in sorted(folder.glob("*.yaml"))] \
        if folder.is_dir() else []
    return [w for w in found if w is not None]


def _read_overlay(path: Path, episode: str) -> ReadyWhatIf | None:
    """One overlay as ``diplosim counterfactual`` reads it (the same loader, the same checks)."""
    from sim.experiments.counterfactual import load_overlay

    try:
        loaded = load_overlay(str(path))
    except (ScenarioError, ValueError, OSError):
        return None
    if loaded.episode != episode:
        return None
    o, change = loaded.overlay, loaded.change
    return ReadyWhatIf(o.id, one_line(o.question), one_line(o.what_to_look_for), dict(change.set),
                       {k: one_line(v.note) for k, v in o.set.items()},
                       tuple(change.remove_events), tuple(change.remove_elections))


def page_change(settings: dict[str, float], ready: ReadyWhatIf | None = None) -> Change:
    """The what-if the page asks: a ready-made one (if chosen) and the moved sliders; a slider
    of an event the ready-made what-if removes is left out."""
    removed = ready.remove_events if ready else ()
    merged = dict(ready.set) if ready else {}
    merged.update({k: v for k, v in settings.items()
                   if not (k.startswith("event.") and k.split(".")[1] in removed)})
    return Change(set=dict(sorted(merged.items())), remove_events=tuple(removed),
                  remove_elections=tuple(ready.remove_elections) if ready else ())


# -- the ensemble: as sourced beside the what-if --------------------------------------------------


def comparison(episode: str, change: Change, seed: int = DEFAULT_SEED,
               runs: int = DEFAULT_RUNS) -> Comparison:
    """What ``diplosim counterfactual`` reports for an overlay making ``change``: the same
    call (:func:`sim.orchestrator.whatif`), the same constants, seed and runs."""
    return _comparison(episode, tuple(change.set.items()), tuple(change.remove_events),
                       tuple(change.remove_elections), seed, runs)


@lru_cache(maxsize=64)
def _comparison(episode: str, settings: tuple, removed: tuple, elections: tuple, seed: int,
                runs: int) -> Comparison:
    return orchestrator.whatif(load_episode(episode), set=dict(settings), remove_events=removed,
                               remove_elections=elections, runs=runs, seed=seed,
                               consts=page_constants())


@dataclass(frozen=True)
class ShareRow:
    """One option of one decision on both sides, over all runs (they subtract)."""

    option: str
    label: str
    recorded: bool
    base: float
    base_ci: tuple[float, float]
    changed: float
    changed_ci: tuple[float, float]
    difference: tuple[float, float, float]  # mean, low, high (paired, 95%)


def share_rows(scenario: Scenario, comparison_: Comparison) -> dict[str, list[ShareRow]]:
    """Per decision, one row per option and one for the runs that never reached it."""
    out = {}
    for c in comparison_.decisions:
        d = scenario.decision(c.decision)
        labels = {o.id: one_line(o.label) for o in d.options}
        labels[NOT_REACHED] = "not reached (the run never got to this decision)"
        record = scenario.recorded_outcome.get(c.decision)
        out[c.decision] = [ShareRow(o, labels[o], record is not None and record.option == o,
                                    c.base_shares[o], c.base_ci[o], c.changed_shares[o],
                                    c.changed_ci[o], c.difference[o]) for o in c.options]
    return out



def clear_differences(rows: dict[str, list[ShareRow]], most: int = 4) -> list[tuple[str, ShareRow]]:
    """The options whose paired 95% interval leaves out zero, largest first: where the what-if
    moves the outcome beyond the runs' noise."""
    found = [(d, r) for d, options in rows.items() for r in options
             if r.difference[1] > 0 or r.difference[2] < 0]
    return sorted(found, key=lambda dr: -abs(dr[1].difference[0]))[:most]
