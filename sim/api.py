"""The Python API: scenarios in, pandas tables out, for notebooks.

Every function takes a scenario as a library episode's name (``"gsomia_2019"``, as the
commands do), a file path or a loaded scenario, and calls the one orchestrator
(:mod:`sim.orchestrator`) the commands and the page call, so the numbers are the same.
Tables keep their types: outcomes are categoricals whose categories are the decision's option
ids (a run that never reached a decision has a missing outcome), decision times are
timezone-aware timestamps in the scenario's own timezone.

Every argument is checked before any work starts, by the same checks as the commands
(:mod:`sim.validation`): a misuse raises :class:`~sim.validation.InvalidArgument` (a
``ValueError``; a ``TypeError`` too for an argument of the wrong type) in one sentence naming
the argument and its bound.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Literal, Mapping, NamedTuple, Sequence

import numpy as np

from sim import orchestrator
from sim import validation as check
from sim.orchestrator import DEFAULT_SEED, ScenarioLike
from sim.validation import MAX_RUNS

if TYPE_CHECKING:
    import pandas as pd

ALLOW_LARGE = "allow_large=True"
ConstantsLike = "Constants | str | os.PathLike[str] | None"


def load(scenario: ScenarioLike):
    """A diplosim/3 scenario, validated, by library name or path (warns when its quotes could
    not be checked because the cited source texts were not found)."""
    loaded = orchestrator.load(_scenario_arg(scenario))
    if not loaded.quotes_verified and loaded.sha256:
        warnings.warn(f"source texts not found; quotes in {loaded.file} were not checked",
                      stacklevel=2)
    return loaded.scenario


def _scenario_arg(value: Any, name: str = "scenario") -> Any:
    from sim.model.scenario import LoadedScenario, Scenario

    if isinstance(value, (Scenario, LoadedScenario)):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise check.WrongType(f"{name} must be a Scenario, a file path or a library episode's "
                              f"name, got {type(value).__name__} {check._shown(value)}")
    return check.file_name(name, value)


def _constants_arg(value: Any) -> Any:
    from sim.model.constants import Constants

    if value is None or isinstance(value, Constants):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise check.WrongType("constants must be a Constants, a file path or None, got "
                              f"{type(value).__name__} {check._shown(value)}")
    return os.fspath(check.file_name("constants", value))


def run(scenario: ScenarioLike, runs: int = 1000, seed: int = DEFAULT_SEED, *,
        engine: Literal["vector", "agents"] = "vector", draws: bool = False,
        constants: Any = None, allow_large: bool = False) -> pd.DataFrame:
    """Run an ensemble: one row per run, with per decision ``<decision>`` (the option chosen,
    categorical), ``<decision>.decided_at`` (timestamp), ``<decision>.hours_before_deadline``
    and ``<decision>.by_default``; ``draws`` adds each run's drawn values as columns. The same
    seed gives the same table on either engine."""
    runs, seed = check.count("runs", runs, MAX_RUNS), check.seed(seed)
    check.engine(engine)
    check.flag("draws", draws)
    result = orchestrator.run(_scenario_arg(scenario), runs=runs, seed=seed, engine=engine,
                              consts=_constants_arg(constants),
                              allow_large=check.flag("allow_large", allow_large))
    frame = runs_frame(result.scenario, result.ensemble.rows, runs)
    if draws:
        import pandas as pd

        frame = pd.concat([frame, pd.DataFrame(result.ensemble.draws,
                                               columns=result.ensemble.draw_keys)], axis=1)
    return frame


def story(scenario: ScenarioLike, seed: int = DEFAULT_SEED, run_number: int = 0, *,
          constants: Any = None) -> list[str]:
    """One run told moment by moment, as ``diplosim run --trace`` prints it."""
    return orchestrator.story(_scenario_arg(scenario), seed=check.seed(seed),
                              run_number=check.count("run_number", run_number + 1, MAX_RUNS) - 1,
                              consts=_constants_arg(constants))


def runs_frame(scenario, rows: Sequence[Mapping[str, Any]], runs: int) -> pd.DataFrame:
    """Tidy rows (one per run and decision) as one row per run, typed."""
    import pandas as pd

    from sim.formats.common import as_aware

    timezone = as_aware(scenario.clock.start).tzinfo
    by_decision: dict[str, list[Mapping[str, Any]]] = {d.id: [] for d in scenario.decisions}
    for row in rows:
        by_decision[str(row["decision"])].append(row)
    first = by_decision[scenario.decisions[0].id]
    columns: dict[str, Any] = {"run": np.array([r["run"] for r in first], dtype=np.int64)}
    for d in scenario.decisions:
        part = by_decision[d.id]
        options = [o.id for o in d.options]
        columns[d.id] = pd.Categorical([r["outcome"] if r["outcome"] in options else None
                                        for r in part], categories=options)
        times = pd.to_datetime([r["decided_at"] or None for r in part], utc=True, format="ISO8601")
        columns[f"{d.id}.decided_at"] = times.tz_convert(timezone)
        columns[f"{d.id}.hours_before_deadline"] = np.array(
            [r["hours_before_deadline"] for r in part], dtype=float)
        columns[f"{d.id}.by_default"] = np.array([r["by_default"] for r in part], dtype=bool)
    return pd.DataFrame(columns)


class Validation(NamedTuple):
    """``validate``'s two tables: one row per scored decision (reached and forced paths), one
    per forecaster."""

    table: pd.DataFrame
    scoreboard: pd.DataFrame


def validate(scenarios: Sequence[ScenarioLike] | None = None, runs: int = 2000,
             seed: int = DEFAULT_SEED, *, engine: Literal["vector", "agents"] = "vector",
             constants: Any = None, allow_large: bool = False) -> Validation:
    """Score simulated decisions against the recorded ones, as ``diplosim validate`` does (by
    default every library episode), beside the reference forecasters."""
    runs, seed = check.count("runs", runs, MAX_RUNS), check.seed(seed)
    check.engine(engine)
    given = _scenario_list(scenarios)
    result = orchestrator.validate(given, runs=runs, seed=seed, engine=engine,
                                   consts=_constants_arg(constants),
                                   allow_large=check.flag("allow_large", allow_large))
    return Validation(*result.frames())


class Calibration(NamedTuple):
    """``calibrate``'s tables, as ``diplosim calibrate --json`` prints them: the posterior per
    constant, its correlations (log scale), the scoreboards (as set, fitted on all episodes,
    held out) of the model and every reference forecaster, and every decision held out."""

    posterior: pd.DataFrame
    correlations: pd.DataFrame
    scoreboard: pd.DataFrame
    held_out: pd.DataFrame


def calibrate(runs: int = 400, seed: int = DEFAULT_SEED, *, design_log2: int = 8,
              constants: Any = None) -> Calibration:
    """Fit the model's constants on every library episode with leave-one-episode-out, as
    ``diplosim calibrate`` does (``constants``: the constants as set, the design's first point;
    by default calibration/constants3_as_set.yaml)."""
    import pandas as pd

    from sim.defaults import CALIBRATION_DESIGN_LOG2, CALIBRATION_RUNS
    from sim.experiments.calibrate import as_json

    runs = check.whole_number("runs", runs, *CALIBRATION_RUNS)
    seed = check.seed(seed)
    design_log2 = check.whole_number("design_log2", design_log2, *CALIBRATION_DESIGN_LOG2)
    fit = orchestrator.calibrate(design_log2=design_log2, runs=runs, seed=seed,
                                 consts=_constants_arg(constants))
    table = as_json(fit)
    return Calibration(pd.DataFrame(table["posterior"]),
                       pd.DataFrame(table["correlations"]).set_index("constant"),
                       pd.DataFrame(table["scoreboard"]), pd.DataFrame(table["held_out"]))


def _scenario_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes, os.PathLike)) or not hasattr(value, "__iter__"):
        raise check.WrongType("scenarios must be a list of scenarios (names, paths or Scenario "
                              f"objects), got {type(value).__name__} {check._shown(value)}; "
                              "put one in a list")
    return [_scenario_arg(item, "each of scenarios") for item in value]


def whatif(scenario: ScenarioLike, set: Mapping[str, float] | None = None,  # noqa: A002
           remove_events: Sequence[str] = (), runs: int = 2000, seed: int = DEFAULT_SEED, *,
           constants: Any = None, allow_large: bool = False) -> pd.DataFrame:
    """The scenario beside a changed copy of itself on common random numbers: drawn quantities
    fixed (``set``: "decision.actor.field" -> value), events removed. One row per decision and
    option (not_reached included), every share over all runs, with the paired difference."""
    runs, seed = check.count("runs", runs, MAX_RUNS), check.seed(seed)
    if set is not None and not isinstance(set, Mapping):
        raise check.WrongType(f"set must map quantity keys to values, got {type(set).__name__}")
    result = orchestrator.whatif(_scenario_arg(scenario), set=dict(set or {}),
                                 remove_events=tuple(remove_events), runs=runs, seed=seed,
                                 consts=_constants_arg(constants),
                                 allow_large=check.flag("allow_large", allow_large))
    return result.frame()


def counterfactual(overlay: Any, runs: int = 2000, seed: int = DEFAULT_SEED, *,
                   constants: Any = None, allow_large: bool = False) -> pd.DataFrame:
    """A what-if overlay (a shipped overlay's id such as ``"no_us_pressure_2019"``, a file, or
    one loaded) beside its episode on common random numbers, as ``diplosim counterfactual``
    runs it: one row per decision and option (not_reached included), every share over all
    runs, with the paired difference. The overlay's question is in ``frame.attrs``."""
    from sim.experiments.counterfactual import LoadedOverlay

    if not isinstance(overlay, LoadedOverlay):
        overlay = _scenario_arg(overlay, "overlay")
    runs, seed = check.count("runs", runs, MAX_RUNS), check.seed(seed)
    result = orchestrator.counterfactual(overlay, runs=runs, seed=seed,
                                         consts=_constants_arg(constants),
                                         allow_large=check.flag("allow_large", allow_large))
    frame = result.frame()
    o = result.loaded.overlay
    frame.attrs.update(overlay=o.id, base=result.loaded.base.id, question=o.question,
                       what_to_look_for=o.what_to_look_for, runs=runs, seed=seed)
    return frame


def sweep(spec: Any, out: str | os.PathLike[str] | None = None, *, force: bool = False,
          workers: int | None = None, constants: Any = None,
          allow_large: bool = False) -> pd.DataFrame:
    """Run a ``diplosim-sweep/3`` spec (a file, or its mapping) as ``diplosim sweep`` does,
    resuming one left unfinished in ``out``: one row per point, with each swept key and every
    option's share over all members (``share.<decision>.<option>``, not_reached included).
    Where it was written is in ``frame.attrs["out"]``."""
    result = orchestrator.sweep(spec, out, force=check.flag("force", force), workers=workers,
                       constants=_constants_arg(constants),
                       allow_large=check.flag("allow_large", allow_large), allow_how=ALLOW_LARGE)
    frame = result.frame
    frame.attrs.update(out=str(result.out), scenario=result.scenario_id, seed=result.seed)
    return frame


def sensitivity(scenario: ScenarioLike, decision: str | None = None, option: str | None = None,
                *, samples: int = 64, members: int = 100, seed: int = DEFAULT_SEED,
                include_constants: bool = False, constants: Any = None,
                allow_large: bool = False) -> pd.DataFrame:
    """Sobol indices (first order and total, with their intervals) of each decision's
    outputs over every ranged input, as ``diplosim sensitivity`` computes them."""
    return orchestrator.sensitivity(
                 _scenario_arg(scenario), consts=_constants_arg(constants),
                 samples=samples, members=members, seed=check.seed(seed),
                 include_constants=include_constants, allow_large=allow_large,
                 decision=decision, option=option, how=ALLOW_LARGE).frame()


def discover(scenario: ScenarioLike, decision: str, option: str, *, points: int = 1000,
             members: int = 10, seed: int = DEFAULT_SEED, threshold: float = 0.8,
             include_constants: bool = False, constants: Any = None,
             allow_large: bool = False) -> pd.DataFrame:
    """The PRIM box of inputs where ``decision`` ends in ``option``, as ``diplosim discover``
    finds it: one row per bounded input (its low and high limits)."""
    return orchestrator.discover(
                _scenario_arg(scenario), decision, option, consts=_constants_arg(constants),
                points=points, members=members, seed=check.seed(seed),
                threshold=threshold, include_constants=include_constants,
                allow_large=allow_large, how=ALLOW_LARGE).frame()


def ema_model(scenario: ScenarioLike, members: int = 100, seed: int = DEFAULT_SEED, *,
              include_constants: bool = False, constants: Any = None) -> Any:
    """An ``ema_workbench.Model`` of the scenario (:mod:`sim.experiments.ema`), for
    ``ema_workbench.perform_experiments``."""
    from sim.experiments.ema import ema_model as build

    loaded = orchestrator.load(_scenario_arg(scenario))
    return build(loaded.scenario, orchestrator.constants(_constants_arg(constants)), members,
                 check.seed(seed), include_constants)
