"""The scoreboard: mean scores of the model and the baselines over recorded decisions."""

from __future__ import annotations

import dataclasses
import math

import pytest

from sim.cli import main
from sim.experiments.scoreboard import format_scoreboard, scoreboard
from sim.experiments.validate import DecisionScore
from tests.conftest import SCENARIO_2012


def _score(brier: float, log: float, decision: str = "d") -> DecisionScore:
    nan = math.nan
    return DecisionScore(
        scenario="s", decision=decision, recorded_outcome="a", p_recorded=math.exp(log),
        ci_low=nan, ci_high=nan, modal_outcome="a", p_modal=nan, p_reached=1.0, runs=10,
        recorded_hours_before_deadline=0.0, median_hours_before_deadline=0.0,
        q25_hours_before_deadline=0.0, q75_hours_before_deadline=0.0, timing_abs_error_hours=0.0,
        median_hours_if_recorded_option=0.0, brier=brier, brier_status_quo=2.0, brier_uniform=0.5,
        log_score=log, log_score_status_quo=-math.inf, log_score_uniform=math.log(0.5), shares={},
    )


def test_means_and_intervals_over_decisions():
    scores = [_score(0.2, -0.1, "x"), _score(1.0, -1.0, "y"), _score(0.6, -0.5, "z")]
    model, status_quo, uniform = scoreboard(scores, seed=1)
    assert model.decisions == 3 and model.unscored == 0
    assert model.mean_brier == pytest.approx(0.6)
    assert model.mean_log == pytest.approx(-0.5333333333)
    assert 0.2 <= model.brier_low <= model.mean_brier <= model.brier_high <= 1.0
    assert status_quo.mean_brier == 2.0 and status_quo.mean_log == -math.inf
    assert uniform.mean_brier == 0.5 and uniform.brier_low == uniform.brier_high == 0.5
    assert scoreboard(scores, seed=1) == [model, status_quo, uniform]  # same seed, same numbers


def test_an_unreached_decision_is_left_out_of_the_models_means():
    scores = [_score(0.2, -0.1), dataclasses.replace(_score(0.0, 0.0), brier=math.nan, log_score=math.nan)]
    model = scoreboard(scores, seed=3)[0]
    assert model.decisions == 1 and model.unscored == 1 and model.mean_brier == pytest.approx(0.2)
    assert "(+1 unreached)" in format_scoreboard(scoreboard(scores, seed=3))


def test_validate_ends_with_the_scoreboard(capsys):
    assert main(["validate", str(SCENARIO_2012), "--runs", "50", "--quiet"]) == 0
    out = capsys.readouterr().out
    board = out[out.index("scoreboard"):]
    for forecaster in ("model", "status quo", "uniform", "veto players", "w. median", "w. mean"):
        assert any(line.startswith(forecaster) for line in board.splitlines())
