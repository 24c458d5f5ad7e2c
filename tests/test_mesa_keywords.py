"""Mesa-style construction of Model 3's agents: ``DiplomacyModel(scenario="gsomia_2019",
seed=..., run=...)``, as ``mesa.batch_run`` and SolaraViz build models; the model so built is
the ensemble's member of that seed and run."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pytest

from sim.model.agents import DiplomacyModel
from sim.model.engine import Engine, story
from tests.conftest import ROOT, SCENARIO_2019

DECISIONS = ("termination_notice", "japan_talks", "termination_takes_effect")


def test_batch_run_builds_the_model_and_collects_each_outcome(scenario_2019, constants):
    results = mesa.batch_run(
        DiplomacyModel,
        parameters={"scenario": "gsomia_2019", "seed": [1, 2], "run": range(6)},
        display_progress=False,
    )
    assert len(results) == 12
    by_default = 0
    engine = Engine(scenario_2019, constants)
    for result in results:
        compiled = engine.run(result["seed"], [result["run"]])
        for i, decision in enumerate(DECISIONS):
            options = [o.id for o in scenario_2019.decisions[i].options]
            reached = compiled.option[0, i] >= 0
            expected = options[compiled.option[0, i]] if reached else "not_reached"
            assert result[decision] == expected, (result["seed"], result["run"], decision)
            assert result[f"{decision}.by_default"] == bool(compiled.by_default[0, i])
            hours = result[f"{decision}.hours_before_deadline"]
            want = compiled.deadline_h[0, i] - compiled.decided_h[0, i]
            assert (math.isnan(hours) and not reached) or hours == pytest.approx(want, abs=1e-9)
            by_default += result[f"{decision}.by_default"]
    assert by_default > 0  # outcomes that only a deadline settles are collected too
    assert any(r["japan_talks"] == "not_reached" for r in results)  # and unreached decisions


def test_keywords_build_the_ensemble_member(scenario_2019, constants):
    """Same (seed, run) -> the engine's member: the same drawn values and the same outcome."""
    positional = DiplomacyModel(scenario_2019, constants, 5, 3)
    for scenario in ("gsomia_2019", SCENARIO_2019, str(SCENARIO_2019), scenario_2019):
        keyword = DiplomacyModel(scenario=scenario, seed=5, run=3)
        np.testing.assert_array_equal(keyword.member.values, positional.member.values)
        assert keyword.scenario.recorded_outcome == {}  # never the record
    while positional.running:
        positional.step()
    while keyword.running:
        keyword.step()
    assert keyword.outcomes() == positional.outcomes()
    compiled = Engine(scenario_2019, constants).run(5, [3])
    np.testing.assert_array_equal(keyword.member.option, compiled.option[0])


def test_the_constants_as_an_object_or_a_file(constants):
    as_set = ROOT / "calibration" / "constants3_as_set.yaml"
    from_file = DiplomacyModel("gsomia_2019", constants=str(as_set), seed=3)
    fitted = DiplomacyModel("gsomia_2019", constants=constants, seed=3)
    default = DiplomacyModel("gsomia_2019", seed=3)
    assert default.constants == fitted.constants == constants
    assert from_file.constants != constants


@pytest.mark.parametrize("keywords, words", [
    ({"seed": 2**64}, "2**63-1"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "whole number"),
    ({"run": -1}, "run"),
    ({"scenario": "gsomia_2091"}, "did you mean"),
])
def test_bad_keywords_are_one_plain_sentence(keywords, words):
    with pytest.raises(ValueError) as caught:
        DiplomacyModel(**{"scenario": "gsomia_2019", **keywords})
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_keyword_model_tells_the_story_of_its_run(scenario_2019, constants):
    model = DiplomacyModel(scenario="gsomia_2019", seed=8, run=2)
    while model.running:
        model.step()
    told = story(scenario_2019, constants, 8, 2)
    assert told[: len(model.story)] == model.story
    collected = model.datacollector.get_model_vars_dataframe()
    assert len(collected) == model.steps
    assert collected["termination_takes_effect"].iloc[-1] == model.outcome(2)[0]


def test_solara_viz_accepts_the_keywords():
    """SolaraViz checks the parameters against the constructor, then calls it with them."""
    from mesa.visualization.solara_viz import _check_model_params

    params = {"scenario": "gsomia_2019", "seed": 3, "run": 1}
    _check_model_params(DiplomacyModel.__init__, params)
    model = DiplomacyModel(**params)
    model.step()
    assert model.steps == 1 and model.running
    while model.running:
        model.step()
    finished, collected = model.outcomes(), len(model.datacollector.model_vars["japan_talks"])
    for _ in range(10):
        model.step()  # past the end: nothing happens, nothing more is collected
    assert not model.running and model.outcomes() == finished
    assert len(model.datacollector.model_vars["japan_talks"]) == collected
