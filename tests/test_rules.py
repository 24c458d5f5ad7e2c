"""The model's formulas (compiled, shared by the agents and the engine): properties the
model relies on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.kernel import rules
from sim.model.clock import build_clock


@given(
    h=st.floats(0.5, 5000),
    step=st.floats(0.01, 200),
    split=st.floats(0.05, 0.95),
    rate=st.floats(0.1, 3),
)
@settings(max_examples=200, deadline=None)
def test_attention_does_not_depend_on_step_cutting(h, step, split, rate):
    step = min(step, h)
    whole = rules.attention_probability(h, step, rate, 1.0)
    first = rules.attention_probability(h, step * split, rate, 1.0)
    second = rules.attention_probability(h - step * split, step * (1 - split), rate, 1.0)
    assert abs((1 - whole) - (1 - first) * (1 - second)) < 1e-9


def test_logit_restricts_to_available_options_and_choice_inverts_the_cdf():
    utilities = np.array([0.0, 0.1, -0.2])
    probabilities = np.empty(3)
    rules.logit_probabilities(utilities, 0.1, np.array([True, True, False]), probabilities)
    assert abs(probabilities.sum() - 1.0) < 1e-12
    assert probabilities[2] == 0.0
    assert probabilities[1] / probabilities[0] == np.exp(1.0) or abs(
        probabilities[1] / probabilities[0] - np.exp(1.0)) < 1e-12
    assert rules.choose(np.array([0.2, 0.8]), 0.0) == 0
    assert rules.choose(np.array([0.2, 0.8]), 0.2) == 1
    assert rules.choose(np.array([0.2, 0.8]), 0.999999) == 1
    assert rules.choose(probabilities, 0.999999) == 1  # never an unavailable option


def test_fine_steps_before_deadlines(scenario_2012, scenario_2019):
    clock = build_clock(scenario_2012)
    deadline = clock.hours(scenario_2012.decisions[0].deadline)
    last_two_days = clock.step_lengths[clock.step_starts >= deadline - 48]
    assert np.all(last_two_days <= 0.5)
    assert deadline in clock.boundaries
    clock = build_clock(scenario_2019)
    for decision in scenario_2019.decisions:
        assert clock.hours(decision.deadline) in clock.boundaries
    assert clock.step_lengths.max() == 24
