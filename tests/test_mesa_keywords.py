"""Mesa-style construction of the core model: ``DiplomacyModel(scenario="gsomia_2019",
seed=..., overrides=...)``, as ``mesa.batch_run`` and SolaraViz build models."""

from __future__ import annotations

import math

import mesa
import pytest

from sim.engine.runner import NOT_REACHED, build_model, run_rows
from sim.model.model import DiplomacyModel
from sim.outputs.trace import trace_lines

from conftest import SCENARIO_2019


def _rows(scenario, constants, seed, run):
    model = build_model(scenario.without_record(), constants, seed, run)
    model.run()
    return run_rows(model, run)


def test_batch_run_builds_the_model_and_collects_each_outcome(scenario_2019, constants):
    results = mesa.batch_run(
        DiplomacyModel,
        parameters={"scenario": "gsomia_2019", "seed": [1, 2], "run": range(6)},
        display_progress=False,
    )
    assert len(results) == 12
    by_default = 0
    for result in results:
        for row in _rows(scenario_2019, constants, result["seed"], result["run"]):
            decision = row["decision"]
            assert result[decision] == row["outcome"], (result["seed"], result["run"], decision)
            assert result[f"{decision}.by_default"] == row["by_default"]
            hours = result[f"{decision}.hours_before_deadline"]
            assert (math.isnan(hours) and math.isnan(row["hours_before_deadline"])
                    or hours == row["hours_before_deadline"])
            by_default += row["by_default"]
    assert by_default > 0  # outcomes that only the end of the clock settles are collected too


def test_keywords_build_the_ensemble_member(scenario_2019, constants):
    """Same (seed, run) -> the runner's member: the same drawn values and the same outcome."""
    positional = build_model(scenario_2019.without_record(), constants, 5, 3)
    for scenario in ("gsomia_2019", SCENARIO_2019, str(SCENARIO_2019), scenario_2019):
        keyword = DiplomacyModel(scenario=scenario, seed=5, run=3)
        assert keyword.values == positional.values
        assert keyword.scenario.recorded_outcome == {}  # never the record
    positional.run()
    keyword.run()
    assert [d.outcome for d in keyword.decisions] == [d.outcome for d in positional.decisions]
    assert positional.datacollector is None  # the ensemble's models collect nothing


def test_overrides_and_their_checks(scenario_2019, constants):
    model = DiplomacyModel(scenario="gsomia_2019", seed=5, run=3,
                           overrides={"united_states.base_pressure": 0.9})
    plain = build_model(scenario_2019.without_record(), constants, 5, 3)
    assert model.values["united_states.base_pressure"] == 0.9
    assert {k: v for k, v in model.values.items() if k != "united_states.base_pressure"} == {
        k: v for k, v in plain.values.items() if k != "united_states.base_pressure"}
    with pytest.raises(ValueError, match="not a drawn quantity"):
        DiplomacyModel(scenario="gsomia_2019", overrides={"japan.no_such": 0.5})
    with pytest.raises(ValueError, match="within"):
        DiplomacyModel(scenario="gsomia_2019", overrides={"japan.hard_line": -0.1})
    with pytest.raises(ValueError, match="not both"):
        DiplomacyModel(scenario_2019, constants, plain.values,
                       overrides={"japan.hard_line": 0.5})


def test_keyword_trace_tells_the_same_story(scenario_2019, constants):
    positional = build_model(scenario_2019.without_record(), constants, 8, 2, trace=True)
    keyword = DiplomacyModel(scenario="gsomia_2019", seed=8, run=2, trace=True)
    positional.run()
    keyword.run()
    assert trace_lines(keyword) == trace_lines(positional)
    outcome = keyword.datacollector.get_model_vars_dataframe()["termination_takes_effect"]
    final = keyword.decisions[1].outcome or NOT_REACHED
    assert outcome.iloc[-1] == final


def test_solara_viz_accepts_the_keywords():
    """SolaraViz checks the parameters against the constructor, then calls it with them."""
    from mesa.visualization.solara_viz import _check_model_params

    params = {"scenario": "gsomia_2019", "seed": 3,
              "overrides": {"united_states.base_pressure": 0.5}}
    _check_model_params(DiplomacyModel.__init__, params)
    model = DiplomacyModel(**params)
    model.step()
    assert model.steps == 1 and model.running
