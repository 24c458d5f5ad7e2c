"""The Python API: scenarios in, pandas tables out, for notebooks.

Every function takes a scenario as a shipped name (``"gsomia_2019"``, as the commands do), a
file path or a loaded :class:`~sim.model.scenario.Scenario`, and wraps the same functions the
commands call (nothing here is a second model). Tables keep their types: outcomes are
categoricals whose categories are the decision's option ids (a run that never reached a
decision has a missing outcome), decision times are timezone-aware timestamps in the
scenario's own timezone (that of its clock's start).

Every argument is checked before any work starts, by the same checks as the commands
(:mod:`sim.validation`): a misuse raises :class:`~sim.validation.InvalidArgument` (a
``ValueError``; a ``TypeError`` too for an argument of the wrong type) in one sentence naming
the argument and its bound. Work estimated above :data:`~sim.validation.MAX_WORK` (members x
steps x decisions) is refused unless ``allow_large=True``.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Literal, Mapping, NamedTuple, Sequence

import numpy as np

from sim import validation as check
from sim.cli import DEFAULT_SEED
from sim.model.construct import ScenarioLike, drawn_values, resolve_constants, resolve_scenario
from sim.model.scenario import Scenario
from sim.validation import MAX_MEMBERS, MAX_RUNS, MAX_SAMPLES

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.counterfactual import LoadedOverlay
    from sim.model.constants import Constants

CHUNK = 20000  # members per block of the compiled engine (bounded memory)
ALLOW_LARGE = "allow_large=True"


def load(scenario: ScenarioLike) -> Scenario:
    """A scenario, validated, by shipped name or path (warns when its quotes could not be
    checked because the cited source texts were not found)."""
    from sim.model.construct import load_scenario_file
    from sim.model.scenario import LoadedScenario

    check.scenario_like(scenario)
    if isinstance(scenario, (str, os.PathLike)):
        loaded = load_scenario_file(os.fspath(scenario))
        if not loaded.quotes_verified:
            warnings.warn(f"source texts not found; quotes in {loaded.file} were not checked",
                          stacklevel=2)
        return loaded.scenario
    return scenario.scenario if isinstance(scenario, LoadedScenario) else scenario


_constants = resolve_constants


# -- one ensemble, one row per run ----------------------------------------------------------------


def run(
    scenario: ScenarioLike,
    runs: int = 1000,
    seed: int = DEFAULT_SEED,
    *,
    overrides: Mapping[str, float] | None = None,
    engine: Literal["vector", "agents"] = "vector",
    draws: bool = False,
    constants: Constants | str | os.PathLike[str] | None = None,
    allow_large: bool = False,
) -> pd.DataFrame:
    """Run an ensemble: one row per run, with per decision ``<decision>`` (the option chosen,
    categorical), ``<decision>.decided_at`` (timestamp), ``<decision>.hours_before_deadline``
    and ``<decision>.by_default``. ``overrides`` fix drawn quantities ("actor.parameter" ->
    value) in every run; ``draws`` adds each run's drawn values as columns. The same seed gives
    the same table on either engine (the vector engine is proven equal to the agents)."""
    runs, seed = check.count("runs", runs, MAX_RUNS), check.seed(seed)
    check.engine(engine)
    check.flag("draws", draws)
    sc = resolve_scenario(scenario).without_record()
    overrides = check.overrides(overrides)
    drawn_values(sc, seed, 0, overrides)  # checks the overrides before any run
    check.check_work("this run", runs, sc, check.flag("allow_large", allow_large), ALLOW_LARGE)
    driver = _agent_rows if engine == "agents" else _vector_rows
    rows, keys, table = driver(sc, _constants(constants), seed, runs, overrides or {})
    frame = runs_frame(sc, rows, runs)
    if draws:
        import pandas as pd

        frame = pd.concat([frame, pd.DataFrame(table, columns=keys)], axis=1)
    return frame


def _vector_rows(sc: Scenario, constants: Constants, seed: int, runs: int,
                 overrides: Mapping[str, float]) -> tuple[list[dict], list[str], np.ndarray]:
    """The compiled engine's tidy rows, block by block, with ``overrides`` fixed."""
    from sim.engine.ensemble import VectorEngine

    engine = VectorEngine(sc, constants)
    names, point = list(overrides), np.array(list(overrides.values()), dtype=float)
    rows: list[dict] = []
    tables = []
    block = min(CHUNK, engine.block_members())
    for start in range(0, runs, block):
        inputs = engine.inputs(seed, range(start, min(start + block, runs)))
        inputs = engine.at_point(inputs, names, point) if names else inputs
        rows.extend(engine.rows(engine.run(inputs)))
        tables.append(inputs.values)
    return rows, [q.key for q in engine.quantities], np.concatenate(tables)


def _agent_rows(sc: Scenario, constants: Constants, seed: int, runs: int,
                overrides: Mapping[str, float]) -> tuple[list[dict], list[str], np.ndarray]:
    """One Mesa model per run (the runner's models), with ``overrides`` fixed."""
    from sim.engine.runner import run_rows
    from sim.model.draws import drawn_quantities
    from sim.model.model import DiplomacyModel

    keys = [q.key for q in drawn_quantities(sc)]
    rows: list[dict] = []
    table = np.empty((runs, len(keys)))
    for i in range(runs):
        model = DiplomacyModel(sc, constants, drawn_values(sc, seed, i, overrides), seed, i)
        model.run()
        rows.extend(run_rows(model, i))
        table[i] = [model.values[k] for k in keys]
    return rows, keys, table


def runs_frame(scenario: Scenario, rows: Sequence[Mapping[str, Any]], runs: int) -> pd.DataFrame:
    """The runner's tidy rows (one per run and decision) as one row per run, typed."""
    import pandas as pd

    from sim.model.scenario import as_aware

    timezone = as_aware(scenario.clock.start).tzinfo
    by_decision: dict[str, list[Mapping[str, Any]]] = {d.id: [] for d in scenario.decisions}
    for row in rows:
        by_decision[str(row["decision"])].append(row)
    columns: dict[str, Any] = {"run": np.array([r["run"] for r in by_decision[scenario.decisions[0].id]],
                                               dtype=np.int64)}
    for d in scenario.decisions:
        part = by_decision[d.id]
        if len(part) != runs:
            raise ValueError(f"expected {runs} rows of decision {d.id}, got {len(part)}")
        options = [o.id for o in d.options]
        columns[d.id] = pd.Categorical([r["outcome"] if r["outcome"] in options else None
                                        for r in part], categories=options)
        times = pd.to_datetime([r["decided_at"] or None for r in part], utc=True, format="ISO8601")
        columns[f"{d.id}.decided_at"] = times.tz_convert(timezone)
        columns[f"{d.id}.hours_before_deadline"] = np.array(
            [r["hours_before_deadline"] for r in part], dtype=float)
        columns[f"{d.id}.by_default"] = np.array([r["by_default"] for r in part], dtype=bool)
    return pd.DataFrame(columns)


# -- validation ------------------------------------------------------------------------------------


class Validation(NamedTuple):
    """``validate``'s two tables: one row per recorded decision, one per forecaster."""

    table: pd.DataFrame
    scoreboard: pd.DataFrame


def validate(
    scenarios: Sequence[ScenarioLike] | None = None,
    runs: int = 2000,
    seed: int = DEFAULT_SEED,
    *,
    engine: Literal["vector", "agents"] = "vector",
    constants: Constants | str | os.PathLike[str] | None = None,
    allow_large: bool = False,
) -> Validation:
    """Score simulated decisions against the recorded ones, as ``diplosim validate`` does (by
    default every shipped scenario with a recorded outcome)."""
    import pandas as pd

    from sim.experiments.scoreboard import scoreboard
    from sim.experiments.validate import recorded_decisions, score
    from sim.paths import SCENARIOS, shipped_scenarios

    runs, seed = check.count("runs", runs, MAX_RUNS), check.seed(seed)
    check.engine(engine)
    given = check.scenario_list(scenarios)
    consts = _constants(constants)
    loaded = [resolve_scenario(s) for s in (given if given is not None else shipped_scenarios())]
    for sc in loaded:  # every scenario's work, before any run
        check.check_validation(sc, runs, check.flag("allow_large", allow_large), ALLOW_LARGE)
    scores = []
    for sc in loaded:
        if recorded_decisions(sc):
            scores.extend(score(sc, _ensemble(sc.without_record(), consts, seed, runs, engine)))
    if not scores:
        where = "the scenarios given" if scenarios is not None else f"the shipped scenarios in {SCENARIOS}"
        raise ValueError(f"nothing to score: no recorded outcome in {where}")
    table = pd.DataFrame([s.as_dict() for s in scores])
    board = pd.DataFrame([line.as_dict() for line in scoreboard(scores, seed)])
    return Validation(table, board)


def _ensemble(sc: Scenario, constants: Constants, seed: int, runs: int, engine: str):
    if engine == "agents":
        from sim.engine.runner import run_ensemble

        return run_ensemble(sc, constants, seed, runs)
    from sim.engine.ensemble import run_vector_ensemble

    return run_vector_ensemble(sc, constants, seed, runs)


# -- counterfactuals, sweeps, sensitivity -------------------------------------------------------------


def counterfactual(
    overlay: str | os.PathLike[str] | LoadedOverlay,
    runs: int = 2000,
    seed: int = DEFAULT_SEED,
    *,
    constants: Constants | str | os.PathLike[str] | None = None,
    allow_large: bool = False,
) -> pd.DataFrame:
    """Apply an overlay (a shipped overlay's name, a file, or one loaded) and compare it with its
    base on common random numbers: one row per decision and option, with shares, their 95%
    intervals and the paired difference. The overlay's question is in ``frame.attrs``."""
    import pandas as pd

    from sim.experiments.counterfactual import LoadedOverlay, compare, load_overlay
    from sim.paths import shipped_file

    runs, seed = check.count("runs", runs, MAX_RUNS), check.seed(seed)
    if not isinstance(overlay, LoadedOverlay):
        overlay = load_overlay(shipped_file(check.file_name("overlay", overlay)))
    loaded = overlay
    check.check_work("this counterfactual", 2 * runs, loaded.base,
                     check.flag("allow_large", allow_large), ALLOW_LARGE,
                     f"{runs:,} runs x 2 (baseline and counterfactual)")
    records = []
    for c in compare(loaded, _constants(constants), seed, runs):
        for option in c.options:
            difference, low, high = c.difference[option]
            records.append({
                "decision": c.decision, "option": option,
                "baseline": c.base_shares[option], "baseline_low": c.base_ci[option][0],
                "baseline_high": c.base_ci[option][1],
                "counterfactual": c.cf_shares[option], "counterfactual_low": c.cf_ci[option][0],
                "counterfactual_high": c.cf_ci[option][1],
                "difference": difference, "difference_low": low, "difference_high": high,
                "baseline_reached": c.base_reached, "counterfactual_reached": c.cf_reached,
                "baseline_median_hours": c.base_median_hours,
                "counterfactual_median_hours": c.cf_median_hours,
            })
    frame = _categorical(pd.DataFrame(records), loaded.base)
    frame.attrs.update(overlay=loaded.overlay.id, base=loaded.base.id,
                       question=loaded.overlay.question, runs=runs, seed=seed)
    return frame


def sweep(
    scenario: ScenarioLike,
    parameters: Mapping[str, tuple[float, float]],
    *,
    method: Literal["grid", "lhs", "sobol", "morris"] = "lhs",
    samples: int = 16,
    levels: int = 4,
    members: int = 200,
    seed: int = DEFAULT_SEED,
    constants: Constants | str | os.PathLike[str] | None = None,
    allow_large: bool = False,
) -> pd.DataFrame:
    """A sweep in memory (``diplosim sweep`` writes one to disk): the design's points over
    ``parameters`` ("actor.parameter" -> (lo, hi)), each run on the same ``members`` runs; one
    row per point, decision and option, as the sweep's dataset."""
    import pandas as pd

    from sim.experiments.sweep import Design, run_points, sample_design

    members, seed = check.count("members", members, MAX_MEMBERS), check.seed(seed)
    sc = resolve_scenario(scenario).without_record()
    bounds = check.sweep_parameters(sc, parameters)  # as a sweep spec's, against the scenario
    size = check.check_design(method, samples, levels, len(bounds))
    check.check_work("this sweep", size * members, sc, check.flag("allow_large", allow_large),
                     ALLOW_LARGE, f"{size:,} points x {members:,} members")
    points = sample_design(bounds, Design(method=method, samples=samples, levels=levels), seed)
    columns = run_points(sc, _constants(constants), list(bounds), points, list(range(len(points))),
                         members, seed)
    return _categorical(pd.DataFrame(columns), sc)


def sensitivity(
    scenario: ScenarioLike,
    decision: str | None = None,
    option: str | None = None,
    *,
    samples: int = 64,
    members: int = 200,
    seed: int = DEFAULT_SEED,
    constants: Constants | str | os.PathLike[str] | None = None,
    allow_large: bool = False,
) -> pd.DataFrame:
    """Sobol indices (first order and total, with 95% intervals) of P(decision = option) and of
    its median timing over every ranged actor parameter, as ``diplosim sensitivity`` computes
    them; by default the first recorded decision and its recorded option."""
    import pandas as pd

    from sim.experiments.sensitivity import checked_points, sensitivity as sobol_indices

    samples = check.count("samples", samples, MAX_SAMPLES)
    members, seed = check.count("members", members, MAX_MEMBERS), check.seed(seed)
    sc = resolve_scenario(scenario)
    checked_points(sc, samples, members, check.flag("allow_large", allow_large), ALLOW_LARGE)
    decision = decision or next(iter(sc.recorded_outcome), sc.decisions[0].id)
    if decision not in [d.id for d in sc.decisions]:
        raise check.InvalidArgument(f"decision: unknown decision {decision!r}; expected one of "
                                    f"{[d.id for d in sc.decisions]}")
    options = [o.id for o in sc.decision(decision).options]
    record = sc.recorded_outcome.get(decision)
    option = option or (record.option if record else options[0])
    if option not in options:
        raise check.InvalidArgument(f"option: unknown option {option!r} of {decision}; expected "
                                    f"one of {options}")
    results, _ = sobol_indices(sc, _constants(constants), decision, option, samples, members, seed)
    return pd.DataFrame([
        {"output": r.output, "parameter": name, "S1": r.S1[j], "S1_conf": r.S1_conf[j],
         "ST": r.ST[j], "ST_conf": r.ST_conf[j]}
        for r in results for j, name in enumerate(r.names)
    ])


def ema_model(scenario: ScenarioLike, members: int = 100, seed: int = DEFAULT_SEED, *,
              constants: Constants | str | os.PathLike[str] | None = None) -> Any:
    """An ``ema_workbench.Model`` of the scenario (:mod:`sim.experiments.ema`), for
    ``ema_workbench.perform_experiments``."""
    from sim.experiments.ema import ema_model as build

    members, seed = check.count("members", members, MAX_MEMBERS), check.seed(seed)
    return build(resolve_scenario(scenario), _constants(constants), members, seed)


def _categorical(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Decision and option columns as categoricals, in the scenario's order."""
    import pandas as pd

    decisions = [d.id for d in scenario.decisions]
    options = list(dict.fromkeys(o.id for d in scenario.decisions for o in d.options))
    frame["decision"] = pd.Categorical(frame["decision"], categories=decisions)
    frame["option"] = pd.Categorical(frame["option"], categories=options)
    return frame
