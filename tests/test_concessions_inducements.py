"""Round 5 and 6 of Model 2 (docs/model.md): graded concessions (the counterpart eases part
of its coercion, and an easing includes the offer of talks), inducements of the patron and
the rival apart from pressure, and optional parameters that change nothing where left out.
Every comparison holds every other random input fixed (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim.engine.ensemble import VectorEngine
from sim.model.draws import drawn_quantities
from sim.model.kernel import layout as L
from sim.model.scenario import ScenarioError, load_scenario, load_scenario_text
from tests.conftest import SCENARIO_2012, SCENARIO_2019

SEED = 11
MEMBERS = 2000


def _data(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _scenario(data):
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return load_scenario_text(text, "variant.yaml", verify_quotes=False).scenario


def _parameter(value: float) -> dict:
    return {"value": value, "source": "record", "quote": "x", "note": "test"}


def _with_parameter(path, actor: str, name: str, value: float | None):
    data = _data(path)
    parameters = data["actors"][actor]["parameters"]
    if value is None:
        parameters.pop(name, None)
    else:
        parameters[name] = _parameter(value)
    return _scenario(data)


def _run(scenario, constants, members: int = MEMBERS, record: bool = False):
    engine = VectorEngine(scenario, constants)
    return engine, engine.run(engine.inputs(SEED, range(members)), record=record)


def _share(engine, out, decision: str, option: str) -> float:
    i = [d.id for d in engine.decisions].index(decision)
    k = engine.option_ids[i].index(option)
    return float(np.mean((out.status[:, i] == L.RESOLVED) & (out.option_index[:, i] == k)))


# -- optional parameters ------------------------------------------------------------------------


def test_an_optional_parameter_left_out_draws_nothing_and_changes_nothing_before_it():
    """Optional parameters are drawn after every other quantity: leaving one out removes its
    draw and leaves every other quantity's column (so every other draw) where it was."""
    given = _with_parameter(SCENARIO_2019, "japan", "easing_share", 0.1)
    left_out = _with_parameter(SCENARIO_2019, "japan", "easing_share", None)
    keys_given = [q.key for q in drawn_quantities(given)]
    keys_left_out = [q.key for q in drawn_quantities(left_out)]
    assert keys_given[-1] == "japan.easing_share"
    assert keys_given[:-1] == keys_left_out


def test_without_easing_the_counterpart_never_eases(constants):
    scenario = _with_parameter(SCENARIO_2019, "japan", "easing_share", None)
    _, out = _run(scenario, constants, members=500, record=True)
    coercion = out.trajectories["japan.coercion"]
    before, after = coercion[:, :-1], coercion[:, 1:]
    fell = after < before
    assert fell.any(), "the counterpart never lifted"
    assert np.all(after[fell] == 0.0), "coercion fell part way without easing"


# -- M10 / M10': graded concessions ---------------------------------------------------------------


def test_an_easing_lowers_coercion_part_way_and_includes_the_offer_of_talks(constants):
    scenario = _with_parameter(SCENARIO_2019, "japan", "easing_share", 0.3)
    _, out = _run(scenario, constants, members=800, record=True)
    coercion = out.trajectories["japan.coercion"]
    concession = out.trajectories["japan.concession"]
    before, after = coercion[:, :-1], coercion[:, 1:]
    eased = (after < before) & (after > 0.0)
    assert eased.sum() > 20, "no run eased"
    np.testing.assert_allclose(after[eased] / before[eased], 0.7)
    assert np.all(concession[:, 1:][eased] == 1.0), "an easing without the offer of talks"


def test_a_counterpart_that_can_ease_climbs_down_more_often(constants):
    """Easing is one more way down the ladder, and each rung includes the offer of talks: the
    share of runs in which the counterpart has conceded by the end rises."""
    def conceded(scenario) -> float:
        _, out = _run(scenario, constants, members=1500, record=True)
        return float(np.mean(out.trajectories["japan.concession"][:, -1] > 0))

    without = conceded(_with_parameter(SCENARIO_2019, "japan", "easing_share", None))
    with_easing = conceded(_with_parameter(SCENARIO_2019, "japan", "easing_share", 0.1))
    assert with_easing > without + 0.02, (with_easing, without)


# -- M11: inducements -----------------------------------------------------------------------------


def _with_inducement(actor: str, value: float):
    data = _data(SCENARIO_2012)
    data["actors"][actor]["parameters"]["inducement"] = _parameter(value)
    return _scenario(data)


def _patron_and_rival(data):
    return [a for a, spec in data["actors"].items() if spec["role"] in ("patron", "rival")]


def test_a_patron_inducement_raises_cooperation_and_a_rival_inducement_lowers_it(constants):
    data = _data(SCENARIO_2012)
    roles = {spec["role"]: a for a, spec in data["actors"].items()}
    assert "patron" in roles and "rival" in roles
    base_engine, base = _run(load_scenario(SCENARIO_2012, verify_quotes=False).scenario, constants)
    p_base = _share(base_engine, base, "signing", "sign")
    e, with_patron = _run(_with_inducement(roles["patron"], 0.5), constants)
    p_patron = _share(e, with_patron, "signing", "sign")
    e, with_rival = _run(_with_inducement(roles["rival"], 0.5), constants)
    p_rival = _share(e, with_rival, "signing", "sign")
    assert p_patron > p_base + 0.01 > p_rival + 0.02, (p_patron, p_base, p_rival)


def test_an_inducement_does_not_feed_public_opposition(constants):
    """The same dated pulse as pressure raises the public's opposition (being seen to cave);
    as an inducement it leaves opposition where it was. The patron does not escalate here, so
    its pressure does not follow the decider's lean."""
    def opposition_after(target: str, size: float = 0.3) -> np.ndarray:
        data = _data(SCENARIO_2019)
        patron = next(a for a, spec in data["actors"].items() if spec["role"] == "patron")
        decider = next(a for a, spec in data["actors"].items() if spec["role"] == "decider")
        data["actors"][patron]["parameters"]["escalation"] = _parameter(0.0)
        data["events"].append({  # the same draws in every variant: only the pulse differs
            "id": "pulse", "time": "2019-08-10T00:00:00+09:00", "description": "a pulse",
            "source": "record", "quote": "x",
            "effects": [{"target": f"{patron}.{target}", "op": "add", "value": size,
                         "note": "test"}]})
        _, out = _run(_scenario(data), constants, members=1000, record=True)
        return out.trajectories[f"{decider}.opposition"], out.option_index, out.decided_h

    (base, b_option, b_time), (pressed, _, _), (induced, i_option, i_time) = (
        opposition_after(*variant) for variant in (("inducement", 0.0), ("pressure",),
                                                  ("inducement",)))
    assert pressed.mean() > base.mean() + 1e-4, (pressed.mean(), base.mean())
    # where the inducement did not change what was decided, or when, opinion is unchanged
    same = np.all((b_option == i_option) & ((b_time == i_time) | np.isnan(b_time)
                                            & np.isnan(i_time)), axis=1)
    assert same.sum() > 50
    np.testing.assert_array_equal(induced[same], base[same])


def test_inducements_and_easing_in_both_engines(constants):
    from tests.test_engines import _compare

    data = _data(SCENARIO_2019)
    for actor in _patron_and_rival(data):
        data["actors"][actor]["parameters"]["inducement"] = _parameter(0.3)
    data["events"].append({
        "id": "donation", "time": "2019-10-01T00:00:00+09:00", "description": "a pledge",
        "source": "record", "quote": "x",
        "effects": [{"target": f"{_patron_and_rival(data)[0]}.inducement", "op": "add",
                     "range": [0.1, 0.3], "note": "test"}]})
    _compare(_scenario(data), constants, seed=4, members=60)


def test_an_event_changes_an_inducement(constants):
    """A dated pledge raises the patron's inducement from then on (its state)."""
    data = _data(SCENARIO_2019)
    patron = next(a for a, spec in data["actors"].items() if spec["role"] == "patron")
    data["events"].append({
        "id": "pledge", "time": "2019-10-01T00:00:00+09:00", "description": "a pledge",
        "source": "record", "quote": "x",
        "effects": [{"target": f"{patron}.inducement", "op": "set", "value": 0.4,
                     "note": "test"}]})
    _, out = _run(_scenario(data), constants, members=50, record=True)
    path = out.trajectories[f"{patron}.inducement"]
    assert np.all(path[:, 0] == 0.0) and np.all(path[:, -1] == 0.4)


# -- concessions withdrawn, written with what exists --------------------------------------------


def test_a_withdrawn_offer_lowers_the_conditional_suspension(scenario_2019, constants):
    """An event that sets the counterpart's concession back to 0 (an offer withdrawn) makes
    the option that waits for it rarer."""
    data = _data(SCENARIO_2019)
    counterpart = next(a for a, spec in data["actors"].items() if spec["role"] == "counterpart")
    data["events"].append({
        "id": "offer_withdrawn", "time": "2019-11-20T00:00:00+09:00",
        "description": "the offer is withdrawn", "source": "record", "quote": "x",
        "effects": [{"target": f"{counterpart}.concession", "op": "set", "value": 0.0,
                     "note": "test"}]})
    engine, base = _run(scenario_2019, constants)
    _, withdrawn = _run(_scenario(data), constants)
    assert (_share(engine, withdrawn, "termination_takes_effect", "suspend_conditionally")
            < _share(engine, base, "termination_takes_effect", "suspend_conditionally"))


@pytest.mark.parametrize("actor, value, where", [
    ("united_states", 1.5, "actors.united_states.parameters.inducement.value"),
    ("japan", -0.1, "actors.japan.parameters.easing_share.value"),
])
def test_new_parameters_out_of_bounds_give_a_located_error(actor, value, where, tmp_path):
    data = _data(SCENARIO_2019)
    name = "inducement" if actor == "united_states" else "easing_share"
    data["actors"][actor]["parameters"][name] = _parameter(value)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, verify_quotes=False)
    assert where in str(caught.value) and "must lie within [0.0, 1.0]" in str(caught.value)
