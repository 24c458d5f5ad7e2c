"""M15 (docs/model.md, round 9): a demand in return makes backing down costly at home. While a
demand stands, an option more cooperative than the default that does not wait for the
counterpart's concession has its domestic cost multiplied by ``1 + demand``. Variants differ
only in the demand's value, so every random input is the same."""

from __future__ import annotations

import numpy as np
import yaml

from sim.engine.ensemble import VectorEngine
from sim.model.kernel import layout as L
from sim.model.scenario import load_scenario_text
from tests.conftest import SCENARIO_2016, SCENARIO_2019

SEED = 5


def _with_demand(path, value: float, time: str):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    decider = next(a for a, spec in data["actors"].items() if spec["role"] == "decider")
    data["events"] = [e for e in data["events"] if not any(
        f.get("target") == f"{decider}.demand" for f in e.get("effects", []))]
    data["events"].append({
        "id": "demand_made", "time": time, "description": "a public demand in return",
        "source": data["sources"][0]["id"], "quote": "x",
        "effects": [{"target": f"{decider}.demand", "op": "set", "value": value,
                     "note": "test"}]})
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return load_scenario_text(text, "variant.yaml", verify_quotes=False).scenario


def _shares(scenario, constants, decision: str, members: int = 2000, forced: bool = False):
    if forced:  # the earlier decisions imposed as recorded: every run reaches this one
        from sim.experiments.validate import forced_paths

        scenario = dict(forced_paths(scenario))[decision]
    scenario = scenario.without_record()
    engine = VectorEngine(scenario, constants)
    out = engine.run(engine.inputs(SEED, range(members)))
    i = [d.id for d in engine.decisions].index(decision)
    resolved = out.status[:, i] == L.RESOLVED
    return {o: float(np.mean(resolved & (out.option_index[:, i] == k)))
            for k, o in enumerate(engine.option_ids[i])}


def test_a_standing_demand_makes_an_unconditional_step_rarer(constants):
    """2016: signing is more cooperative than leaving the pact unsigned and waits for nobody;
    with a full demand standing it costs twice at home."""
    at = "2016-11-01T12:00:00+09:00"
    without = _shares(_with_demand(SCENARIO_2016, 0.0, at), constants, "signing")
    demanded = _shares(_with_demand(SCENARIO_2016, 1.0, at), constants, "signing")
    assert demanded["sign"] < without["sign"] - 0.01, (demanded, without)


def test_a_demand_spares_the_step_that_waits_for_the_concession(constants):
    """2019 November: the demand makes the unconditional withdrawal rarer and never the
    conditional suspension."""
    at = "2019-08-28T12:00:00+09:00"
    without = _shares(_with_demand(SCENARIO_2019, 0.0, at), constants,
                      "termination_takes_effect", forced=True)
    demanded = _shares(_with_demand(SCENARIO_2019, 1.0, at), constants,
                       "termination_takes_effect", forced=True)
    assert demanded["withdraw_notice"] < without["withdraw_notice"]
    assert demanded["suspend_conditionally"] >= without["suspend_conditionally"]


def test_a_demand_in_both_engines(constants):
    from tests.test_engines import _compare

    _compare(_with_demand(SCENARIO_2016, 0.8, "2016-11-20T12:00:00+09:00"), constants,
             seed=3, members=40)
