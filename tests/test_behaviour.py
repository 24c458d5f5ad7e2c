"""Behaviour users rely on: the model responds to its drivers in the direction theory says,
with every other random input held fixed (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.draws import draw_values, drawn_quantities
from sim.model.model import DiplomacyModel

COOPERATIVE_2019 = {"suspend_conditionally", "withdraw_notice"}


def _outcomes(scenario, constants, overrides, runs=150, seed=5):
    """Resolved decisions of each run, with ``overrides`` applied to the drawn values."""
    results = []
    for run in range(runs):
        values = draw_values(drawn_quantities(scenario), seed, run)
        values.update(overrides)
        model = DiplomacyModel(scenario, constants, values, seed, run)
        model.run()
        results.append({d.id: d for d in model.decisions})
    return results


def _pact_survives_2019(decisions) -> bool:
    notice = decisions["termination_notice"]
    if notice.outcome == "renew":
        return True
    return decisions["termination_takes_effect"].outcome in COOPERATIVE_2019


def test_more_us_pressure_does_not_lower_p_extend_2019(scenario_2019, constants):
    shares = []
    for level in (0.1, 0.4, 0.7, 1.0):
        runs = _outcomes(
            scenario_2019,
            constants,
            {"united_states.base_pressure": level, "united_states.escalation": level},
        )
        shares.append(np.mean([_pact_survives_2019(r) for r in runs]))
    assert all(b >= a for a, b in zip(shares, shares[1:])), shares
    assert shares[-1] - shares[0] > 0.2, shares


def test_no_election_lowers_p_postpone_2012(scenario_2012, constants):
    without = scenario_2012.model_copy(update={"elections": []})
    with_election = _outcomes(scenario_2012, constants, {}, runs=200)
    no_election = _outcomes(without, constants, {}, runs=200)
    p_with = np.mean([r["signing"].outcome == "postpone" for r in with_election])
    p_without = np.mean([r["signing"].outcome == "postpone" for r in no_election])
    assert p_without < p_with, (p_with, p_without)


def test_conditional_option_needs_the_concession(scenario_2019, constants):
    """Without Japan's concession the conditional suspension is never chosen."""
    runs = _outcomes(scenario_2019, constants, {"japan.talks_willingness": 0.0,
                                                "japan.pressure_responsiveness": 0.0,
                                                "japan.hard_line": 1.0}, runs=100)
    chosen = {r["termination_takes_effect"].outcome for r in runs}
    assert "suspend_conditionally" not in chosen


def test_default_happens_at_the_deadline(scenario_2012, constants):
    runs = _outcomes(scenario_2012, constants, {}, runs=100)
    for r in runs:
        d = r["signing"]
        if d.by_default:
            assert d.outcome == "sign" and d.decided_h == d.deadline_h
        else:
            assert d.outcome == "postpone" and d.decided_h < d.deadline_h


@pytest.mark.parametrize("name", ["gsomia_2012", "gsomia_2019"])
def test_decision_times_resolve_hours_near_the_deadline(name, scenario_2012, scenario_2019, constants):
    """Decisions taken in the last 48 hours fall on the fine (sub-daily) grid."""
    scenario = scenario_2012 if name == "gsomia_2012" else scenario_2019
    hours = [
        d.deadline_h - d.decided_h
        for r in _outcomes(scenario, constants, {}, runs=150)
        for d in r.values()
        if d.status == "resolved" and not d.by_default
    ]
    late = [h for h in hours if h < 48]
    assert late, "some decisions should come in the last two days"
    assert any(h % 24 != 0 for h in late)
