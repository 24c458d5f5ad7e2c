"""M13 (docs/model.md, round 8): any actor's election may bring a turnover, a new government
with a sourced chance whose effects apply when it takes office. Every comparison holds every
other random input fixed: a turnover's quantities are drawn after all others."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim.engine.ensemble import VectorEngine
from sim.model.kernel import layout as L
from sim.model.scenario import ScenarioError, load_scenario, load_scenario_text
from tests.conftest import SCENARIO_2012

SEED = 7
MEMBERS = 2000
TAKES_OFFICE = "2012-06-27T12:00:00+09:00"


def _data():
    return yaml.safe_load(SCENARIO_2012.read_text(encoding="utf-8"))


def _patron(data) -> str:
    return next(a for a, spec in data["actors"].items() if spec["role"] == "patron")


def _scenario(data):
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return load_scenario_text(text, "variant.yaml", verify_quotes=False).scenario


def _withdrawal(patron: str) -> list[dict]:
    return [{"target": f"{patron}.base_pressure", "op": "set", "value": 0.0,
             "note": "the new government stops pressing"},
            {"target": f"{patron}.pressure", "op": "set", "value": 0.0,
             "note": "from the day it takes office"}]


def _with_turnover(chance: float, **turnover):
    data = _data()
    patron = _patron(data)
    data.setdefault("elections", []).append({
        "actor": patron, "date": "2012-06-27", "description": "a patron election (fictional)",
        "source": "record", "quote": "x",
        "turnover": {"chance": {"value": chance, "source": "record", "quote": "x",
                                "note": "test"},
                     "takes_office": TAKES_OFFICE, "effects": _withdrawal(patron), **turnover}})
    return _scenario(data)


def _with_event():
    data = _data()
    data["events"].append({"id": "new_government", "time": TAKES_OFFICE,
                           "description": "a new government", "source": "record", "quote": "x",
                           "effects": _withdrawal(_patron(data))})
    return _scenario(data)


def _outcomes(scenario, constants, members: int = MEMBERS):
    engine = VectorEngine(scenario, constants)
    return engine, engine.run(engine.inputs(SEED, range(members)))


def _p_sign(scenario, constants) -> float:
    engine, out = _outcomes(scenario, constants)
    k = engine.option_ids[0].index("sign")
    return float(np.mean((out.status[:, 0] == L.RESOLVED) & (out.option_index[:, 0] == k)))


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.option_index, b.option_index)
    np.testing.assert_array_equal(a.decided_h, b.decided_h)


def test_a_turnover_that_never_happens_changes_nothing(constants):
    base = load_scenario(SCENARIO_2012, verify_quotes=False).scenario
    _same(_outcomes(base, constants, 500)[1], _outcomes(_with_turnover(0.0), constants, 500)[1])


def test_a_certain_turnover_is_the_event_it_brings(constants):
    _same(_outcomes(_with_event(), constants, 500)[1],
          _outcomes(_with_turnover(1.0), constants, 500)[1])


def test_the_likelier_a_patron_that_stops_pressing_the_less_cooperation(constants):
    shares = [_p_sign(_with_turnover(chance), constants) for chance in (0.0, 0.5, 1.0)]
    assert shares[0] > shares[1] > shares[2], shares


def test_a_turnover_happens_in_about_its_share_of_runs(constants):
    scenario = _with_turnover(0.3)
    index = len(scenario.elections) - 1
    engine = VectorEngine(scenario, constants)
    inputs = engine.inputs(SEED, range(MEMBERS))
    out = engine.run(inputs, record=True)
    keys = [q.key for q in engine.quantities]
    draw, chance = (inputs.values[:, keys.index(f"election.{index}.turnover.{part}")]
                    for part in ("draw", "chance"))
    happened = draw < chance
    assert abs(happened.mean() - 0.3) < 0.04, happened.mean()
    pressure = out.trajectories[f"{_patron(_data())}.pressure"][:, -1]
    assert pressure[happened].max() < pressure[~happened].min()


def test_turnovers_in_both_engines_and_the_trace_says_so(constants):
    from sim.engine.runner import build_model
    from tests.test_engines import _compare

    scenario = _with_turnover(0.5)
    _compare(scenario, constants, seed=2, members=40)
    told = []
    for run in range(20):
        model = build_model(scenario, constants, SEED, run, trace=True)
        model.run()
        told.append(any("TURNOVER in" in text for _, text in model.story))
    assert 0 < sum(told) < 20


def _bad(**turnover):
    data = _data()
    patron = _patron(data)
    spec = {"chance": {"value": 0.5, "source": "record", "quote": "x", "note": "x"},
            "effects": _withdrawal(patron)}
    spec.update(turnover)
    data["elections"] = [{"actor": patron, "date": "2012-06-27", "description": "x",
                          "source": "record", "quote": "x", "turnover": spec}]
    return data


@pytest.mark.parametrize("data, where, message", [
    (_bad(chance={"value": 1.5, "source": "record", "quote": "x", "note": "x"}),
     "elections[0].turnover.chance.value", "must lie within [0.0, 1.0]"),
    (_bad(takes_office="2012-06-26T12:00:00+09:00"),
     "elections[0].turnover.takes_office", "must not be before the election"),
    (_bad(takes_office="2013-01-01T12:00:00+09:00"),
     "elections[0].turnover.takes_office", "outside the clock"),
    (_bad(effects=[{"target": "nobody.pressure", "op": "set", "value": 0.0, "note": "x"}]),
     "elections[0].turnover.effects[0].target", "unknown actor 'nobody'"),
    (_bad(effects=[]), "elections[0].turnover.effects", "at least 1 item"),
])
def test_bad_turnovers_give_one_located_error(data, where, message, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, verify_quotes=False)
    text = str(caught.value)
    assert text.startswith(f"{path}:") and where in text and message in text, text
