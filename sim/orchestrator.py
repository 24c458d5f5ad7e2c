"""The one orchestrator: every experiment as one entry function returning a result object.

The command line (:mod:`sim.cli`, :mod:`sim.commands`), the Python API (:mod:`sim.api`) and
the page (:mod:`sim.app`) only parse or draw, call a function here, and print, return or show
what it returns, so they cannot differ. Scenarios are named as a user names them: a library
episode's folder name (``gsomia_2019``), a file path, or an object already loaded; the engine
is chosen in :func:`ensemble` alone; ``validate`` owns the forced-path scoring.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from sim.defaults import DEFAULT_SEED, ENGINES
from sim.model.constants import Constants
from sim.model.loading import (  # noqa: F401 (naming and loading, as the faces call them)
    MIGRATION, ScenarioLike, UnknownScenario, constants, episode_names, load, scenario_file)
from sim.model.scenario import Scenario
from sim.outputs.results import RunResult
from sim.paths import LIBRARY, library_scenarios
from sim.validation import InvalidArgument

if TYPE_CHECKING:
    from sim.model.engine import Ensemble
Progress = Callable[[int], None]


def ensemble(scenario: Scenario, consts: Constants, seed: int, runs: int,
             engine: str = "vector", progress: Progress | None = None,
             allow_large: bool = False) -> Ensemble:
    """The one place the engine is chosen: the compiled ensemble, or one Mesa model per run
    (``agents``; proven equal member by member by the test suite)."""
    from sim.model.engine import run_ensemble

    if engine not in ENGINES:
        raise InvalidArgument(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    return run_ensemble(scenario.without_record(), consts, seed, runs, progress=progress,
                        engine=engine, allow_large=allow_large)


# -- run ----------------------------------------------------------------------------------------


def run(scenario: ScenarioLike, *, runs: int = 1000, seed: int = DEFAULT_SEED,
        engine: str = "vector", consts: Constants | str | None = None, out: str | None = None,
        force: bool = False, sources: str | None = None, progress: Progress | None = None,
        allow_large: bool = False) -> RunResult:
    """An ensemble of one scenario; with ``out``, its runs, draws and manifest streamed to the
    folder all or nothing (the folder policy is checked before any run)."""
    loaded, c = load(scenario, sources), constants(consts)
    sc = loaded.scenario.without_record()
    if out is not None:
        from sim.outputs.results import write_run

        return write_run(loaded, c, seed=seed, runs=runs, engine=engine, out=out, force=force,
                         progress=progress, allow_large=allow_large)
    started = time.perf_counter()
    made = ensemble(sc, c, seed, runs, engine, progress, allow_large)
    return RunResult(sc, made, seed, runs, engine, time.perf_counter() - started, ensemble=made)


def story(scenario: ScenarioLike, *, seed: int = DEFAULT_SEED, run_number: int = 0,
          consts: Constants | str | None = None, sources: str | None = None) -> list[str]:
    """One run told moment by moment (the Mesa agents)."""
    from sim.model.engine import story as tell

    return tell(load(scenario, sources).scenario.without_record(), constants(consts), seed,
                run_number)


# -- validate -----------------------------------------------------------------------------------


@dataclass
class ValidationResult:
    scores: list[Any]  # sim.experiments.validate.DecisionScore, reached and forced paths
    kinds: dict[str, str]
    seed: int
    runs: int
    validated: list[Any] = field(default_factory=list)  # per scenario, for --report

    @property
    def reached(self) -> list[Any]:
        return [s for s in self.scores if s.path == "reached"]

    def scoreboard(self) -> list[Any]:
        from sim.experiments.scoreboard import scoreboard

        return scoreboard(self.reached, self.seed)

    def text(self) -> str:
        from sim.experiments.scoreboard import format_breakdown, format_scoreboard
        from sim.experiments.validate import format_table

        breakdown = (f"{format_breakdown(self.reached, self.kinds)}\n\n"
                     if len(set(self.kinds.values())) > 1 else "")
        return (f"{format_table(self.scores)}\n\n{format_scoreboard(self.scoreboard())}\n\n"
                f"{breakdown}{self.runs} runs per scenario, seed {self.seed}")

    def as_json(self) -> list[dict[str, object]]:
        return [s.as_dict() for s in self.scores]

    def frames(self):
        """(one row per scored decision, one row per forecaster), as pandas tables."""
        import pandas as pd

        return (pd.DataFrame(self.as_json()),
                pd.DataFrame([line.as_dict() for line in self.scoreboard()]))


def validate(scenarios: Sequence[ScenarioLike] | None = None, *, runs: int = 2000,
             seed: int = DEFAULT_SEED, engine: str = "vector",
             consts: Constants | str | None = None, sources: str | None = None,
             keep_ensembles: bool = False, allow_large: bool = False,
             progress: Callable[[str, int], Progress | None] | None = None) -> ValidationResult:
    """Score each recorded decision (by default every library episode), on the path each run
    took and, for a decision that follows another, on the forced path where the earlier one
    went as recorded; beside the reference forecasters from the same inputs."""
    from sim.experiments.validate import check_validation, forced_paths, recorded_decisions, score
    from sim.model.forecasters import reference_forecasts

    given = list(scenarios) if scenarios is not None else [str(p) for p in library_scenarios()]
    loaded_all = [load(s, sources) for s in given]  # every file is checked before any run
    c = constants(consts)
    for loaded in loaded_all:  # the whole validation's cost, before any run
        check_validation(loaded.scenario, c, runs, allow_large, engine)
    result = ValidationResult([], {}, seed, runs)
    for loaded in loaded_all:
        sc = loaded.scenario
        if not recorded_decisions(sc):
            continue
        started = time.perf_counter()
        made = ensemble(sc, c, seed, runs, engine, progress(sc.id, runs) if progress else None,
                        allow_large)
        references = reference_forecasts(sc, c)
        result.scores.extend(score(sc, made, references=references))
        for decision_id, forced in forced_paths(sc):
            result.scores.extend(score(forced, ensemble(forced, c, seed, runs, engine,
                                                        allow_large=allow_large),
                                       only=decision_id, path="forced", references=references))
        result.kinds[sc.id] = sc.kind
        if keep_ensembles:
            result.validated.append((loaded, c, made, engine, time.perf_counter() - started))
    if not result.scores:
        where = (", ".join(one.file for one in loaded_all) if scenarios is not None
                 else f"the library in {LIBRARY}")
        raise InvalidArgument(f"nothing to score: no recorded outcome in {where}; expected "
                              "scenario files with a recorded_outcome")
    return result


# -- calibrate ----------------------------------------------------------------------------------


def calibrate(*, design_log2: int = 8, runs: int = 400, seed: int = DEFAULT_SEED,
              consts: Constants | str | None = None, sources: str | None = None,
              progress: Progress | None = None):
    """Model 3's constants from every library episode, with leave-one-episode-out
    (:mod:`sim.experiments.calibrate`: a likelihood on a Sobol design over the prior box)."""
    from sim.experiments.calibrate import calibrate as fit

    as_set = constants(consts if consts is not None else _as_set_file())
    episodes = [load(str(p), sources).scenario for p in library_scenarios()]
    return fit(episodes, as_set, log2_points=design_log2, runs=runs, seed=seed,
               progress=progress)


def _as_set_file() -> str:
    from sim.paths import CALIBRATION

    return str(CALIBRATION / "constants3_as_set.yaml")


# -- what if ------------------------------------------------------------------------------------


def whatif(scenario: ScenarioLike, *, set: dict[str, float] | None = None,  # noqa: A002
           remove_events: Sequence[str] = (), remove_elections: Sequence[str] = (),
           runs: int = 2000, seed: int = DEFAULT_SEED, consts: Constants | str | None = None,
           sources: str | None = None, allow_large: bool = False):
    """The scenario beside a changed copy (quantities fixed, events removed) on common random
    numbers (:func:`sim.experiments.whatif.compare`): what the page's sliders and an overlay
    both ask."""
    from sim.experiments.whatif import Change, ChangeError, compare

    from sim.model.cost import check_cost

    sc, c = load(scenario, sources).scenario.without_record(), constants(consts)
    check_cost("this comparison", sc, c, 2 * runs, allow_large,
               runs_text=f"{runs:,} runs x 2 sides")
    try:
        return compare(sc, Change(dict(set or {}), tuple(remove_events), tuple(remove_elections)),
                       c, seed, runs)
    except ChangeError as exc:
        raise InvalidArgument(str(exc)) from None


def counterfactual(overlay: Any, *, runs: int = 2000, seed: int = DEFAULT_SEED,
                   consts: Constants | str | None = None, sources: str | None = None,
                   allow_large: bool = False):
    """A what-if overlay (a shipped overlay's id, a file, or one loaded) beside its episode on
    common random numbers, with each decision's attribution by actor."""
    from sim.experiments.counterfactual import LoadedOverlay, counterfactual as compare_overlay
    from sim.experiments.counterfactual import load_overlay
    from sim.model.cost import check_cost

    loaded = overlay if isinstance(overlay, LoadedOverlay) else load_overlay(overlay, sources)
    c = constants(consts)
    check_cost("this counterfactual", loaded.base, c, 2 * runs, allow_large,
               runs_text=f"{runs:,} runs x 2 sides")
    return compare_overlay(loaded, c, seed, runs)


# -- sweeps, sensitivity, discovery -------------------------------------------------------------


def sweep(spec: Any, out: str | os.PathLike[str] | None = None, **options):
    """A ``diplosim-sweep/3`` spec (file or mapping) run to completion, resumable in ``out``
    (:func:`sim.experiments.sweep.sweep`; its options pass through)."""
    from sim.experiments.sweep import sweep as run_sweep

    return run_sweep(spec, out, **options)


def sensitivity(scenario: ScenarioLike, *, consts: Constants | str | None = None,
                sources: str | None = None, **options):
    """Sobol indices of each decision's outputs (:func:`sim.experiments.sensitivity.sensitivity`;
    samples, members, seed, include_constants, decision, option, allow_large pass through)."""
    from sim.experiments.sensitivity import sensitivity as sobol

    return sobol(load(scenario, sources).scenario, constants(consts), **options)


def discover(scenario: ScenarioLike, decision: str, option: str, *,
             consts: Constants | str | None = None, sources: str | None = None, **options):
    """The PRIM box where ``decision`` ends in ``option`` (:func:`sim.experiments.discover.
    discover`; points, members, seed, threshold, include_constants, allow_large pass through)."""
    from sim.experiments.discover import discover as prim

    return prim(load(scenario, sources).scenario, constants(consts), decision, option, **options)
