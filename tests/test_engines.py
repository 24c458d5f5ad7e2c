"""Model 3's compiled ensemble is the same model as its Mesa agents (DiplomacyModel): for every
member fed the same seed and run number, the same drawn stakes, the same option, status,
moment, default flag and window of every decision, on every library episode and on scenarios
drawn around the diplosim/3 schema."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model.agents import DiplomacyModel
from sim.model.engine import Engine
from sim.model.scenario import load_scenario
from sim.paths import library_scenarios
from tests.conftest import SCENARIO_2019

EPISODES = library_scenarios()


def _compare(scenario, constants, seed: int, members: int) -> None:
    engine = Engine(scenario, constants)
    runs = np.arange(members)
    values = engine.values(seed, runs)
    compiled = engine.run(seed, runs)
    for run in range(members):
        model = DiplomacyModel(scenario, constants, seed, run)
        np.testing.assert_array_equal(model.member.values, values[run])
        while model.running:
            model.step()
        m = model.member
        np.testing.assert_array_equal(m.status, compiled.status[run], err_msg=f"run {run}")
        np.testing.assert_array_equal(m.option, compiled.option[run], err_msg=f"run {run}")
        np.testing.assert_array_equal(m.by_default, compiled.by_default[run], err_msg=f"run {run}")
        np.testing.assert_allclose(m.decided, compiled.decided_h[run], rtol=0, atol=1e-9,
                                   equal_nan=True, err_msg=f"run {run}")
        np.testing.assert_allclose(m.window_deadline, compiled.deadline_h[run], rtol=0,
                                   atol=1e-9, err_msg=f"run {run}")


@pytest.mark.parametrize("path", EPISODES, ids=[p.parent.name for p in EPISODES])
def test_engines_agree_on_every_library_episode(path, constants):
    scenario = load_scenario(path, verify_quotes=False).scenario
    _compare(scenario, constants, seed=2024, members=200)


def test_the_library_holds_bodies_consent_and_conditional_events():
    """The episodes above exercise every mechanism the random scenarios below leave out."""
    loaded = [load_scenario(p, verify_quotes=False).scenario for p in EPISODES]
    assert any(d.body is not None for s in loaded for d in s.decisions)
    assert any(stake.consent for s in loaded for d in s.decisions for stake in d.stakes.values())
    assert any(e.if_ is not None for s in loaded for e in s.events)


BASE = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))


def _unit_range(draw, low: float = 0.0, high: float = 1.0) -> list[float]:
    a, b = draw(st.floats(low, high)), draw(st.floats(low, high))
    return [min(a, b), max(a, b)]


@st.composite
def random_scenarios(draw):
    """The 2019 episode with every stake drawn anew (ranges, consent), events moved, dropped,
    re-aimed and re-sized, interior options moved, windows counted from the earlier decision
    and the first decision sometimes imposed."""
    data = copy.deepcopy(BASE)
    data.pop("recorded_outcome")
    start, end = data["clock"]["start"], data["clock"]["end"]
    span = (end - start).total_seconds() / 3600
    for decision in data["decisions"]:
        deciding = decision["decided_by"]
        for actor, stake in decision["stakes"].items():
            for name in ("position", "salience", "clout"):
                if name in stake:
                    stake[name].pop("value", None)
                    stake[name]["range"] = _unit_range(draw)
            stake["consent"] = actor != deciding and draw(st.booleans())
        for option in decision["options"]:
            if 0 < option["position"] < 1:
                option["position"] = draw(st.floats(0.01, 0.99))
        if "after" in decision and draw(st.booleans()):
            decision["runs_for"] = draw(st.floats(1, span))
    kept = []
    for event in data["events"]:
        if "time" in event:
            if draw(st.integers(0, 4)) == 0:
                continue  # dropped
            event["time"] = start + timedelta(hours=draw(st.floats(0, span - 1)))
        if event["kind"] in ("demand", "offer", "concession", "vote", "announcement"):
            event["addresses"] = draw(st.lists(st.sampled_from(
                [d["id"] for d in data["decisions"]]), max_size=2, unique=True))
        for effect in event.get("effects", []):
            effect.pop("value", None)
            effect["op"] = draw(st.sampled_from(["add", "set"]))
            effect["range"] = _unit_range(draw, -1.0 if effect["op"] == "add" else 0.0)
        kept.append(event)
    data["events"] = kept
    if draw(st.booleans()):
        first = data["decisions"][0]
        opens, deadline = first["opens"], first["deadline"]
        hours = (deadline - opens).total_seconds() / 3600
        first["imposed"] = {"option": draw(st.sampled_from([o["id"] for o in first["options"]])),
                            "time": opens + timedelta(hours=draw(st.floats(0, hours)))}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(text=random_scenarios(), seed=st.integers(0, 2**63 - 1))
def test_engines_agree_on_random_scenarios(text, seed, constants, tmp_path: Path):
    path = tmp_path / "random.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path, verify_quotes=False).scenario
    _compare(scenario, constants, seed=seed, members=60)
