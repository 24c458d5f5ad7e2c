"""The Python API (``sim.run``, ``sim.validate``, ...): typed tables that agree with the
engines and the commands they wrap."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

import sim
from sim import orchestrator
from sim.experiments.validate import score
from sim.formats.common import as_aware
from sim.model.engine import run_ensemble
from sim.model.forecasters import reference_forecasts
from sim.model.scenario import ScenarioError
from tests.conftest import SCENARIO_2012, SCENARIO_2019

NOT_REACHED = "not_reached"
DECISIONS_2019 = {
    "termination_notice": ["renew", "terminate"],
    "japan_talks": ["hold", "offer_talks"],
    "termination_takes_effect": ["let_expire", "suspend_conditionally", "withdraw_notice"],
}


@pytest.fixture(scope="module")
def runs_2019() -> pd.DataFrame:
    return sim.run("gsomia_2019", runs=300, seed=11)


def test_import_sim_stays_light():
    """``import sim`` (and so ``diplosim --help``) loads neither pandas nor Mesa."""
    code = "import sim, sys; print(sorted({'pandas', 'mesa', 'sim.api'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    with pytest.raises(AttributeError):
        sim.no_such_function  # noqa: B018


def test_run_is_one_typed_row_per_run(runs_2019, scenario_2019):
    df = runs_2019
    assert list(df["run"]) == list(range(300))
    assert df["run"].dtype == np.int64
    offset = as_aware(scenario_2019.clock.start).utcoffset()
    for decision, options in DECISIONS_2019.items():
        outcome = df[decision]
        assert isinstance(outcome.dtype, pd.CategoricalDtype)
        assert list(outcome.cat.categories) == options
        decided = df[f"{decision}.decided_at"]
        assert isinstance(decided.dtype, pd.DatetimeTZDtype)
        assert decided.dropna().map(lambda t: t.utcoffset()).eq(offset).all()
        assert offset == timedelta(hours=9)
        assert df[f"{decision}.hours_before_deadline"].dtype == np.float64
        assert df[f"{decision}.by_default"].dtype == np.bool_
    # a run that never reached the decision: missing outcome, time and hours; not by default
    unreached = df[df["termination_takes_effect"].isna()]
    assert len(unreached) > 0
    assert (unreached["termination_notice"] == "renew").all()
    assert unreached["termination_takes_effect.decided_at"].isna().all()
    assert unreached["termination_takes_effect.hours_before_deadline"].isna().all()
    assert not unreached["termination_takes_effect.by_default"].any()


def test_run_agrees_with_the_runner_rows(scenario_2019, constants):
    """Each cell is the runner's tidy row: outcome, moment, hours and default."""
    df = sim.run(scenario_2019, runs=25, seed=3, engine="agents")
    ensemble = run_ensemble(scenario_2019.without_record(), constants, 3, 25)
    assert len(ensemble.rows) == 25 * len(DECISIONS_2019)
    for row in ensemble.rows:
        line = df.iloc[row["run"]]
        decision = row["decision"]
        outcome = line[decision]
        assert (NOT_REACHED if pd.isna(outcome) else outcome) == row["outcome"]
        stamp = line[f"{decision}.decided_at"]
        assert ("" if pd.isna(stamp) else stamp.isoformat()) == row["decided_at"]
        assert line[f"{decision}.by_default"] == row["by_default"]
        np.testing.assert_equal(line[f"{decision}.hours_before_deadline"], row["hours_before_deadline"])


def test_same_seed_same_table_on_either_engine(runs_2019):
    again = sim.run(SCENARIO_2019, runs=300, seed=11)
    pd.testing.assert_frame_equal(again, runs_2019)
    agents = sim.run("gsomia_2019", runs=40, seed=11, engine="agents")
    pd.testing.assert_frame_equal(agents, runs_2019.head(40))
    other = sim.run("gsomia_2019", runs=300, seed=12)
    assert not other.equals(runs_2019)


def test_validate_gives_the_command_table_and_scoreboard(scenario_2012, scenario_2019, constants):
    validation = sim.validate(["gsomia_2012", SCENARIO_2019], runs=200, seed=7)
    table, board = validation
    assert set(table["scenario"]) == {"gsomia_2012", "gsomia_2019"}
    assert list(board["forecaster"]) == ["model", "status quo", "uniform", "veto players",
                                         "w. median", "w. mean"]
    result = orchestrator.validate([SCENARIO_2012, SCENARIO_2019], runs=200, seed=7)
    pd.testing.assert_frame_equal(table, pd.DataFrame(result.as_json()))  # the command's rows
    ensemble = run_ensemble(scenario_2012.without_record(), constants, 7, 200)
    reached = [s.as_dict() for s in score(scenario_2012, ensemble,
                                          references=reference_forecasts(scenario_2012, constants))]
    got = table[table["scenario"] == "gsomia_2012"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, pd.DataFrame(reached))
    with pytest.raises(ValueError, match="nothing to score"):
        sim.validate([scenario_2019.without_record()], runs=10)


def test_story_is_the_trace_of_the_command(capsys):
    from sim.cli import main

    told = sim.story("gsomia_2012", seed=3)
    assert main(["run", "gsomia_2012", "--trace", "--seed", "3"]) == 0
    assert capsys.readouterr().out == "\n".join(told) + "\n"
    assert told[-1].startswith("outcome: signing: ")
    with pytest.raises(ValueError, match="run_number"):
        sim.story("gsomia_2012", run_number=-1)


def test_load_gives_the_library_scenario_and_refuses_a_model2_file(tmp_path):
    scenario = sim.load("gsomia_2019")
    assert scenario.format == "diplosim/3" and scenario.id == "gsomia_2019"
    assert sim.load(SCENARIO_2019) == scenario
    old = tmp_path / "old.yaml"
    old.write_text("format: diplosim/2\nid: old\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="diplosim/3"):
        sim.load(old)


def test_whatif_is_a_paired_comparison_on_common_random_numbers():
    key = "termination_notice.united_states.salience"
    same = sim.whatif("gsomia_2019", runs=300, seed=5)
    assert (same["difference"] == 0).all() and (same["baseline"] == same["counterfactual"]).all()
    plain = sim.run("gsomia_2019", runs=300, seed=5)
    for decision in DECISIONS_2019:
        rows = same[same["decision"] == decision].set_index("option")
        shares = plain[decision].value_counts(normalize=True, dropna=False)
        for option in rows.index:
            want = shares.get(option, 0.0) if option != "not_reached" else plain[decision].isna().mean()
            assert rows.loc[option, "baseline"] == pytest.approx(want)  # every share over all runs
    pressed = sim.whatif("gsomia_2019", set={key: 1.0}, runs=300, seed=5)
    notice = pressed[pressed["decision"] == "termination_notice"].set_index("option")
    assert notice.loc["renew", "difference"] > 0  # the patron that cares most keeps the pact
    assert notice["difference"].sum() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="not a drawn quantity"):
        sim.whatif("gsomia_2019", set={"nobody.nothing.salience": 0.5}, runs=5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sim.whatif("gsomia_2019", set={key: 1.5}, runs=5)
    with pytest.raises(ValueError, match="no event"):
        sim.whatif("gsomia_2019", remove_events=["no_such_event"], runs=5)
