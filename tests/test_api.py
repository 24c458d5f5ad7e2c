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
from sim.engine.runner import NOT_REACHED, run_ensemble
from sim.experiments.validate import score
from sim.model.scenario import as_aware

from conftest import SCENARIO_2019

DECISIONS_2019 = {
    "termination_notice": ["renew", "terminate"],
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


def test_overrides_fix_a_parameter_in_every_run():
    key = "united_states.base_pressure"
    df = sim.run("gsomia_2019", runs=50, seed=4, overrides={key: 0.95}, draws=True)
    assert (df[key] == 0.95).all()
    assert df["south_korea.salience"].nunique() == 50  # the others are still drawn
    agents = sim.run("gsomia_2019", runs=10, seed=4, overrides={key: 0.95}, draws=True,
                     engine="agents")
    pd.testing.assert_frame_equal(agents, df.head(10))
    with pytest.raises(ValueError, match="not a drawn quantity"):
        sim.run("gsomia_2019", runs=5, overrides={"united_states.no_such": 0.5})
    with pytest.raises(ValueError, match="within"):
        sim.run("gsomia_2019", runs=5, overrides={key: 1.5})


def test_validate_gives_the_command_table_and_scoreboard(scenario_2019, constants):
    validation = sim.validate(runs=200, seed=7)
    table, board = validation
    from sim.experiments.validate import recorded_decisions
    from sim.paths import shipped_scenarios

    recorded = {sc.id for sc in map(sim.load, shipped_scenarios()) if recorded_decisions(sc)}
    assert set(table["scenario"]) == recorded >= {"gsomia_2012", "gsomia_2019"}
    assert list(board["forecaster"]) == ["model", "status quo", "uniform"]
    from sim.engine.ensemble import run_vector_ensemble

    ensemble = run_vector_ensemble(scenario_2019.without_record(), constants, 7, 200)
    expected = pd.DataFrame([s.as_dict() for s in score(scenario_2019, ensemble)])
    got = table[table["scenario"] == "gsomia_2019"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    with pytest.raises(ValueError, match="nothing to score"):
        sim.validate([scenario_2019.without_record()], runs=10)


def test_counterfactual_baseline_is_the_plain_ensemble():
    """The overlay's baseline runs on the same members as ``sim.run`` with the same seed."""
    frame = sim.counterfactual("no_us_pressure_2019", runs=300, seed=11)
    assert frame.attrs["base"] == "gsomia_2019"
    assert isinstance(frame["option"].dtype, pd.CategoricalDtype)
    plain = sim.run("gsomia_2019", runs=300, seed=11)
    for decision, options in DECISIONS_2019.items():
        rows = frame[frame["decision"] == decision].set_index("option")
        assert list(rows.index) == options
        shares = plain[decision].value_counts(normalize=True)
        for option in options:
            assert rows.loc[option, "baseline"] == pytest.approx(shares[option])
    assert (frame["difference"] != 0).any()


def test_sweep_runs_each_point_of_the_design():
    frame = sim.sweep("gsomia_2019", {"united_states.base_pressure": (0.0, 1.0)}, method="grid",
                      levels=3, members=40, seed=2)
    assert sorted(frame["united_states.base_pressure"].unique()) == [0.0, 0.5, 1.0]
    assert len(frame) == 3 * sum(len(o) for o in DECISIONS_2019.values())
    assert isinstance(frame["decision"].dtype, pd.CategoricalDtype)
    # a point is the plain ensemble with that parameter fixed
    at_one = sim.run("gsomia_2019", runs=40, seed=2, overrides={"united_states.base_pressure": 1.0})
    rows = frame[(frame["united_states.base_pressure"] == 1.0)
                 & (frame["decision"] == "termination_notice")].set_index("option")
    assert rows.loc["terminate", "share"] == pytest.approx(
        at_one["termination_notice"].value_counts(normalize=True)["terminate"])
    with pytest.raises(ValueError, match="not a drawn quantity"):
        sim.sweep("gsomia_2019", {"nobody.nothing": (0.0, 1.0)}, samples=2)


def test_sensitivity_indexes_every_ranged_parameter():
    frame = sim.sensitivity("gsomia_2019", "termination_takes_effect", "suspend_conditionally",
                            samples=2, members=40, seed=1)
    from sim.experiments.sensitivity import actor_parameter_problem

    names = actor_parameter_problem(sim.load("gsomia_2019"))["names"]
    assert len(frame) == 2 * len(names)
    assert set(frame["parameter"]) == set(names)
    share = frame[frame["output"] == "P(termination_takes_effect = suspend_conditionally)"]
    assert len(share) == len(names) and np.isfinite(share["ST"]).all()
    with pytest.raises(ValueError, match="unknown option"):
        sim.sensitivity("gsomia_2019", "termination_notice", "suspend_conditionally")


def test_the_readme_example_runs(tmp_path):
    """The README's Python API examples run as written (from another folder)."""
    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    assert len(blocks) == 2
    script = tmp_path / "example.py"
    script.write_text("\n".join(blocks) + "\nassert len(rows) == 20 and 'termination_takes_effect' in rows[0]\n",
                      encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "datetime64[us, UTC+09:00]" in out.stdout or "datetime64[ns, UTC+09:00]" in out.stdout
