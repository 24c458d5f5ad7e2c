"""The EMA Workbench adapter on Model 3: the drawn quantities (and constants) as uncertainties,
each option's share per decision out, the same numbers as the what-if core's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sim import orchestrator
from sim.experiments.ema import ema_model, ema_name
from sim.experiments.inputs import model_inputs
from sim.experiments.whatif import Change, compare
from sim.model.constants import PRIORS
from sim.model.plan import drawn_quantities


@pytest.fixture(scope="module")
def consts():
    return orchestrator.constants()


@pytest.fixture(scope="module")
def episode():
    return orchestrator.load("gsomia_2019", verify_quotes=False).scenario


@pytest.fixture(scope="module")
def model(episode, consts):
    return ema_model(episode, consts, members=60, seed=9)


@pytest.fixture(scope="module")
def experiments(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import perform_experiments

        return perform_experiments(model, scenarios=4)


def test_uncertainties_are_the_sourced_ranges(model, episode):
    ranges = {ema_name(q.key): (q.lo, q.hi) for q in drawn_quantities(episode) if q.hi > q.lo}
    got = {u.name: (u.lower_bound, u.upper_bound) for u in model.uncertainties}
    assert got == ranges
    assert "share__termination_takes_effect__suspend_conditionally" in model.outcomes.keys()
    assert "share__japan_talks__not_reached" in model.outcomes.keys()


def test_the_constants_are_uncertainties_on_the_prior_box(episode, consts):
    with_constants = ema_model(episode, consts, members=5, seed=1, include_constants=True)
    got = {u.name: (u.lower_bound, u.upper_bound) for u in with_constants.uncertainties}
    for name, bounds in PRIORS.items():
        assert got[f"constant__{name}"] == bounds


def test_each_decisions_shares_sum_to_one(experiments, episode):
    _, outcomes = experiments
    for d in episode.decisions:
        total = sum(outcomes[f"share__{d.id}__{o}"]
                    for o in [*(x.id for x in d.options), "not_reached"])
        np.testing.assert_allclose(total, 1.0)


def test_an_experiment_is_the_what_if_of_its_values(experiments, episode, consts):
    """Experiment 0 is the scenario with every uncertainty fixed at its values, run on the
    same members as the what-if core runs them (an independent path to the same numbers)."""
    table, outcomes = experiments
    setting = {i.key: float(table.iloc[0][ema_name(i.key)]) for i in model_inputs(episode)}
    comparison = compare(episode, Change(set=setting), consts, seed=9, runs=60)
    for d in comparison.decisions:
        for option in d.options:
            assert outcomes[f"share__{d.decision}__{option}"][0] == pytest.approx(
                d.changed_shares[option])


def test_the_same_experiment_gives_the_same_outcomes(model, experiments):
    table, outcomes = experiments
    point = {u.name: float(table.iloc[1][u.name]) for u in model.uncertainties}
    again = model.function(**point)
    assert all(again[name] == outcomes[name][1] for name in again)


def test_an_uncertainty_left_out_keeps_each_runs_draw(model, episode, consts):
    """No uncertainty set: the plain ensemble of 60 runs (the what-if's baseline)."""
    plain = model.function()
    comparison = compare(episode, Change(), consts, seed=9, runs=60)
    for d in comparison.decisions:
        for option in d.options:
            assert plain[f"share__{d.decision}__{option}"] == pytest.approx(d.base_shares[option])


def test_more_members_than_one_batch(episode, consts, monkeypatch):
    """A point of more members than one engine call takes is run in batches: the same shares
    as the what-if core's single call."""
    import sim.experiments.inputs as inputs

    monkeypatch.setattr(inputs, "BATCH_RUNS", 1000)
    model = ema_model(episode, consts, members=2500, seed=4)
    point = {u.name: (u.lower_bound + u.upper_bound) / 2 for u in model.uncertainties}
    shares = model.function(**point)
    setting = {i.key: (i.lo + i.hi) / 2 for i in model_inputs(episode)}
    comparison = compare(episode, Change(set=setting), consts, seed=4, runs=2500)
    for d in comparison.decisions:
        for option in d.options:
            assert shares[f"share__{d.decision}__{option}"] == pytest.approx(
                d.changed_shares[option])
