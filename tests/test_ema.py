"""The EMA Workbench adapter: sourced ranges as uncertainties, outcome shares per experiment."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.model.draws import varying_actor_parameters


@pytest.fixture(scope="module")
def model():
    return sim.ema_model("gsomia_2019", members=60, seed=9)


def test_uncertainties_are_the_sourced_ranges(model, scenario_2019):
    ranges = {q.key.replace(".", "__"): (q.lo, q.hi) for q in varying_actor_parameters(scenario_2019)}
    got = {u.name: (u.lower_bound, u.upper_bound) for u in model.uncertainties}
    assert got == ranges
    assert "share__termination_takes_effect__suspend_conditionally" in model.outcomes.keys()


def test_perform_experiments_runs_the_ensemble_per_experiment(model):
    from ema_workbench import perform_experiments

    experiments, outcomes = perform_experiments(model, scenarios=5)
    assert len(experiments) == 5
    notice = outcomes["share__termination_notice__renew"] + outcomes["share__termination_notice__terminate"]
    np.testing.assert_allclose(notice, 1.0)
    # one experiment is the plain ensemble with every ranged parameter fixed at its values
    names = [u.name for u in model.uncertainties]
    first = experiments.iloc[0]
    overrides = {name.replace("__", "."): float(first[name]) for name in names}
    runs = sim.run("gsomia_2019", runs=60, seed=9, overrides=overrides)
    shares = runs["termination_takes_effect"].value_counts(normalize=True)
    for option in ("let_expire", "suspend_conditionally", "withdraw_notice"):
        assert outcomes[f"share__termination_takes_effect__{option}"][0] == pytest.approx(shares[option])
    assert outcomes["reached__termination_takes_effect"][0] == pytest.approx(
        runs["termination_takes_effect"].notna().mean())
