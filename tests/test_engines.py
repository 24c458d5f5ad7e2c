"""The vectorised engine is the same model as the Mesa agents: identical outcomes and decision
times for every member fed identical inputs, and state trajectories equal to 1e-9."""

from __future__ import annotations

import copy
import math
from datetime import timedelta

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.ensemble import VectorEngine
from sim.engine.runner import build_model, run_rows
from sim.model.scenario import load_scenario_text
from tests.conftest import SCENARIO_2019


def _same_rows(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for left, right in zip(a, b):
        for key in left:
            x, y = left[key], right[key]
            if isinstance(x, float) and math.isnan(x):
                assert isinstance(y, float) and math.isnan(y), (left, right)
            else:
                assert x == y, (key, left, right)


def _compare(scenario, constants, seed: int, members: int) -> None:
    """Every member: same drawn inputs, same outcome rows, same trajectories (to 1e-9)."""
    engine = VectorEngine(scenario, constants)
    inputs = engine.inputs(seed, range(members))
    outcomes = engine.run(inputs, record=True)
    vector_rows = engine.rows(outcomes)
    n_decisions = len(scenario.decisions)
    agent_rows = []
    for run in range(members):
        model = build_model(scenario, constants, seed, run, trace=True)
        model.run()
        assert np.array_equal([model.values[q.key] for q in engine.quantities], inputs.values[run])
        agent_rows.extend(run_rows(model, run))
        collected = model.datacollector.model_vars
        for key, trajectory in outcomes.trajectories.items():
            assert np.allclose(collected[key], trajectory[run], rtol=0, atol=1e-9), (run, key)
    _same_rows(agent_rows, vector_rows)
    assert len(vector_rows) == members * n_decisions


@pytest.mark.parametrize("name", ["gsomia_2012", "gsomia_2016", "gsomia_2019"])
def test_engines_agree_on_shipped_scenarios(name, scenario_2012, scenario_2016, scenario_2019,
                                            constants):
    scenario = {"gsomia_2012": scenario_2012, "gsomia_2016": scenario_2016,
                "gsomia_2019": scenario_2019}[name]
    _compare(scenario, constants, seed=2024, members=500)


BASE = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))


@st.composite
def random_scenarios(draw):
    """Scenarios drawn around the schema: random ranges, event times and effects, option
    cooperation levels, domestic players, inducements, turnovers, windows counted from the
    earlier decision, and actors left out."""
    data = copy.deepcopy(BASE)
    data.pop("recorded_outcome")
    start, end = data["clock"]["start"], data["clock"]["end"]
    span = (end - start).total_seconds() / 3600
    for actor in data["actors"].values():
        for name, param in actor["parameters"].items():
            hi_bound = 0.1 if name == "provocation_rate_per_day" else 1.0
            a = draw(st.floats(0, hi_bound))
            b = draw(st.floats(0, hi_bound))
            param.pop("value", None)
            param["range"] = [min(a, b), max(a, b)]
    for event in data["events"]:
        event["time"] = start + timedelta(hours=draw(st.floats(0, span - 1)))
        for effect in event["effects"]:
            a, b = draw(st.floats(-1, 1)), draw(st.floats(-1, 1))
            effect.pop("value", None)
            effect["range"] = [min(a, b), max(a, b)]
            effect["op"] = draw(st.sampled_from(["add", "set"]))
    if draw(st.booleans()):  # an event that changes a parameter (kept within its bounds)
        data["events"].append({
            "id": "parameter_change", "description": "x", "source": "record", "quote": "x",
            "time": start + timedelta(hours=draw(st.floats(0, span - 1))),
            "effects": [{"target": "japan.hard_line", "op": draw(st.sampled_from(["add", "set"])),
                         "range": sorted([draw(st.floats(-1, 1)), draw(st.floats(-1, 1))]),
                         "note": "drawn"}]})
    for decision in data["decisions"]:
        decision["attention"] = draw(st.sampled_from(["deadline", "even"]))
        for option in decision["options"]:
            option["cooperation"] = draw(st.floats(0, 1))
            if draw(st.booleans()):
                option.update(home_signal=draw(st.floats(0, 1)), reversible=draw(st.floats(0, 1)),
                              source="record", quote="x", note="drawn")
            if draw(st.booleans()):  # taking the option acts
                option["effects"] = [{"target": draw(st.sampled_from(
                    ["south_korea.coercion_answered", "south_korea.salience", "japan.hard_line"])),
                    "op": draw(st.sampled_from(["add", "set"])),
                    "range": sorted([draw(st.floats(-1, 1)), draw(st.floats(-1, 1))]),
                    "note": "drawn"}]
    later = data["decisions"][1]  # its window counted from the earlier decision (M12)
    if draw(st.booleans()):
        later["runs_for"] = draw(st.floats(1, span))
    if draw(st.booleans()):
        later["resumes"] = data["decisions"][0]["id"]
    _add_domestic_players(draw, data, start, span)
    if draw(st.booleans()):  # the first decision imposed at a time in its window
        first = data["decisions"][0]
        opens, deadline = first["opens"], first["deadline"]
        hours = (deadline - opens).total_seconds() / 3600
        first["imposed"] = {"option": draw(st.sampled_from([o["id"] for o in first["options"]])),
                            "time": opens + timedelta(hours=draw(st.floats(0, hours)))}
    _add_inducements_and_turnover(draw, data, start, span)
    for role_actor in ("china", "north_korea", "united_states"):
        if draw(st.booleans()):
            del data["actors"][role_actor]
            data["events"] = [
                e for e in data["events"]
                if all(not f["target"].startswith(role_actor + ".") for f in e["effects"])
            ]
            data["elections"] = [e for e in data["elections"] if e["actor"] != role_actor]
    data["clock"]["fine_step_hours"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _add_inducements_and_turnover(draw, data, start, span) -> None:
    """Inducements of the patron and the rival (M11), sometimes; and sometimes a patron election
    whose turnover, with a drawn chance, changes its pressure and inducement (M13)."""
    for actor in ("united_states", "china"):
        if draw(st.booleans()):
            a, b = draw(st.floats(0, 1)), draw(st.floats(0, 1))
            data["actors"][actor]["parameters"]["inducement"] = {
                "range": [min(a, b), max(a, b)], "source": "record", "quote": "x",
                "note": "drawn"}
    if draw(st.booleans()):
        when = start + timedelta(hours=draw(st.floats(0, span - 1)))
        data.setdefault("elections", []).append({
            "actor": "united_states", "date": when.date(), "description": "an election",
            "source": "record", "quote": "x",
            "turnover": {"chance": {"range": sorted([draw(st.floats(0, 1)), draw(st.floats(0, 1))]),
                                    "source": "record", "quote": "x", "note": "drawn"},
                         "effects": [{"target": draw(st.sampled_from(
                             ["united_states.base_pressure", "united_states.inducement"])),
                             "op": draw(st.sampled_from(["add", "set"])),
                             "range": sorted([draw(st.floats(-1, 1)), draw(st.floats(-1, 1))]),
                             "note": "drawn"}]}})


def _add_domestic_players(draw, data, start, span) -> None:
    """Up to two domestic players: random stance, leverage, veto, an election and an event
    that changes how hard each presses."""
    data.setdefault("elections", [])
    for index in range(draw(st.integers(0, 2))):
        player = f"party_{index}"
        parameters = {}
        for name in ("opposition", "leverage", "initial_pressing"):
            a, b = draw(st.floats(0, 1)), draw(st.floats(0, 1))
            parameters[name] = {"range": [min(a, b), max(a, b)], "source": "record",
                                "quote": "x", "note": "drawn"}
        data["actors"][player] = {"name": player, "role": "domestic", "veto": draw(st.booleans()),
                                  "parameters": parameters}
        if draw(st.booleans()):
            data["elections"].append({"actor": player, "date": (start + timedelta(
                days=draw(st.integers(1, 400)))).date(), "description": "an election",
                "source": "record", "quote": "x"})
        data["events"].append({
            "id": f"{player}_presses", "description": "presses", "source": "record", "quote": "x",
            "time": start + timedelta(hours=draw(st.floats(0, span - 1))),
            "effects": [{"target": f"{player}.pressing", "op": draw(st.sampled_from(["add", "set"])),
                         "range": sorted([draw(st.floats(-1, 1)), draw(st.floats(-1, 1))]),
                         "note": "drawn"}]})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=random_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_engines_agree_on_random_scenarios(text, seed, constants):
    scenario = load_scenario_text(text, "random.yaml", verify_quotes=False).scenario
    _compare(scenario, constants, seed=seed, members=40)
