"""Building :class:`~sim.model.model.DiplomacyModel` from Mesa-style keywords.

Mesa's ``batch_run`` and ``SolaraViz`` build a model from keyword arguments alone:
``DiplomacyModel(scenario="gsomia_2019", seed=3, overrides={"united_states.base_pressure":
0.9})``. This module turns those keywords into what the model runs on (a scenario without its
record, the constants, one run's drawn values) and gives such a model a data collector of each
decision's outcome, which ``batch_run`` reads. The values are the ones
:func:`sim.engine.runner.build_model` draws for the same (seed, run), with the overrides put in
their place, so a keyword-built model is the same member as the ensemble's.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple

import mesa

from sim.model.constants import Constants, load_constants
from sim.model.draws import draw_values, drawn_quantities
from sim.model.scenario import LoadedScenario, Scenario, load_scenario
from sim import validation as check
from sim.paths import shipped_file

if TYPE_CHECKING:
    from sim.model.model import DiplomacyModel

ScenarioLike = Scenario | LoadedScenario | str | os.PathLike[str]
NOT_REACHED = "not_reached"  # as in the runner's tidy rows


class ModelInputs(NamedTuple):
    """What the model runs on, and whether it drew its own values (Mesa-style keywords)."""

    scenario: Scenario
    constants: Constants
    values: dict[str, float]
    drawn: bool


def model_inputs(scenario: ScenarioLike, constants: Constants | str | os.PathLike[str] | None,
                 values: Mapping[str, float] | None, seed: int, run: int,
                 overrides: Mapping[str, float] | None) -> ModelInputs:
    """The model's inputs from its arguments: a scenario given by shipped name, path or object;
    constants given as an object or a file, the default ones when none are given; run ``run``
    of ``seed``'s draws, with ``overrides`` in place, when no ``values`` are given."""
    check.seed(seed)
    check.whole_number("run", run, 0, check.MAX_SEED)
    resolved = resolve_scenario(scenario).without_record()
    constants = resolve_constants(constants)
    if values is not None and overrides:
        raise ValueError("give either values (every drawn quantity) or overrides, not both")
    if values is not None:
        return ModelInputs(resolved, constants, dict(values), drawn=False)
    return ModelInputs(resolved, constants, drawn_values(resolved, seed, run, overrides), drawn=True)


def resolve_constants(constants: Constants | str | os.PathLike[str] | None) -> Constants:
    """Constants as given, read from a file, or the default ones for None."""
    if constants is None:
        return default_constants()
    if isinstance(constants, Constants):
        return constants
    if not isinstance(constants, (str, os.PathLike)):
        raise check.WrongType("constants must be a Constants object, a constants file or None, "
                              f"got {type(constants).__name__}")
    return load_constants(check.file_name("constants", constants))


def resolve_scenario(scenario: ScenarioLike) -> Scenario:
    """A scenario object, a loaded scenario, or a file: a path, or a shipped scenario's stem."""
    check.scenario_like(scenario)
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, LoadedScenario):
        return scenario.scenario
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario_file(os.fspath(scenario)).scenario


def load_scenario_file(name: str) -> LoadedScenario:
    """Load a shipped name or a path once per file version (``batch_run`` builds many models
    of one file; the file is read again when it changes)."""
    path = Path(shipped_file(name))
    try:
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (0, 0)  # the loader reports the unreadable file
    return _load_cached(str(path), version)


@lru_cache(maxsize=16)
def _load_cached(path: str, version: tuple[int, int]) -> LoadedScenario:
    return load_scenario(path)


@lru_cache(maxsize=1)
def default_constants() -> Constants:
    return load_constants(None)


def drawn_values(scenario: Scenario, seed: int, run: int,
                 overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Run ``run`` of ``seed``'s drawn values, with ``overrides`` ("actor.parameter" or an event
    effect's key -> value) fixed. Raises ValueError for an unknown key or a value outside the
    bounds the scenario format allows for it."""
    values = draw_values(drawn_quantities(scenario), seed, run)
    for key, value in check.overrides(overrides).items():
        if key not in values:
            known = sorted(k for k in values if not k.startswith("event."))
            raise check.InvalidArgument(f"'{key}' is not a drawn quantity of '{scenario.id}'; "
                                        f"expected one of {', '.join(known)}")
        lo, hi = allowed_bounds(scenario, key)
        values[key] = check.real(f"'{key}'", value, lo, hi)
    return values


allowed_bounds = check.allowed_bounds  # the bounds a scenario file allows for a drawn quantity


# -- what batch_run collects --------------------------------------------------------------------


def outcome_reporters(model: DiplomacyModel) -> dict[str, Callable[[Any], Any]]:
    """Per decision: the option chosen so far (None while undecided, "not_reached" once it can
    no longer be reached), whether by default, and the hours before its deadline."""
    reporters: dict[str, Callable[[Any], Any]] = {}
    for d in model.decisions:
        reporters[d.id] = lambda m, i=d.index: _outcome(m.decisions[i])
        reporters[f"{d.id}.by_default"] = lambda m, i=d.index: (
            m.decisions[i].status == "resolved" and m.decisions[i].by_default)
        reporters[f"{d.id}.hours_before_deadline"] = lambda m, i=d.index: (
            m.decisions[i].deadline_h - m.decisions[i].decided_h
            if m.decisions[i].status == "resolved" else math.nan)
    return reporters


def _outcome(decision: Any) -> str | None:
    if decision.status == "not_reached":
        return NOT_REACHED
    return decision.outcome


class OutcomeCollector(mesa.DataCollector):
    """Mesa's data collector, with each decision's outcome after every step. Decisions still
    open after the last step close by default when the clock ends, after that step's
    collection; :meth:`close` then records the outcome columns of the last step again, so the
    last row (the one ``batch_run`` reads) holds the run's outcome."""

    def __init__(self, model: DiplomacyModel, reporters: Mapping[str, Callable[[Any], Any]]):
        self.outcome_reporters = outcome_reporters(model)
        super().__init__(model_reporters={**reporters, **self.outcome_reporters})

    def close(self, model: DiplomacyModel) -> None:
        for name, reporter in self.outcome_reporters.items():
            column = self.model_vars[name]
            if column:
                column[-1] = reporter(model)
