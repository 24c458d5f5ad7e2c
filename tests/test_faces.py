"""The three faces give the same numbers for the same inputs (issue 21): for each experiment,
what ``diplosim`` prints (``--json`` or its files) equals what the Python API returns, and the
page's what-if equals both (the browser test checks the page as drawn)."""

from __future__ import annotations

import contextlib
import io
import json

import pandas as pd
import pytest

import sim
from sim.cli import main

SEED = 11


def _printed(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


def test_run_the_command_s_files_are_the_api_s_rows(tmp_path):
    main(["run", "gsomia_2019", "--runs", "60", "--seed", str(SEED), "--out",
          str(tmp_path / "o"), "--quiet"])
    written = pd.read_csv(tmp_path / "o" / "runs.csv", keep_default_na=False)
    frame = sim.run("gsomia_2019", runs=60, seed=SEED)
    for decision in ("termination_notice", "japan_talks", "termination_takes_effect"):
        cli = written[written.decision == decision].outcome.tolist()
        api = frame[decision].astype(object).fillna("not_reached").tolist()
        assert cli == api


def test_validate_the_command_s_json_is_the_api_s_table():
    printed = json.loads(_printed(["validate", "gsomia_2012", "gsomia_2019", "--runs", "80",
                                   "--seed", str(SEED), "--json", "--quiet"]))
    table = sim.validate(["gsomia_2012", "gsomia_2019"], runs=80, seed=SEED).table
    assert len(printed) == len(table)  # the forced-path rows in both
    for row, (_, api) in zip(printed, table.iterrows()):
        assert (row["scenario"], row["decision"], row["path"]) == \
            (api["scenario"], api["decision"], api["path"])
        assert row["p_recorded"] == pytest.approx(api["p_recorded"], abs=0)
        assert row["brier_weighted_median"] == pytest.approx(api["brier_weighted_median"], abs=0)


def test_counterfactual_the_command_the_api_and_the_page_agree():
    from sim import teaching
    from sim.experiments.counterfactual import load_overlay

    printed = json.loads(_printed(["counterfactual", "no_us_pressure_2019", "--runs", "300",
                                   "--seed", str(SEED), "--json"]))
    frame = sim.counterfactual("no_us_pressure_2019", runs=300, seed=SEED)
    loaded = load_overlay("no_us_pressure_2019")
    page = teaching._comparison("gsomia_2019", tuple(loaded.change.set.items()),
                                tuple(loaded.change.remove_events),
                                tuple(loaded.change.remove_elections), SEED, 300)
    for d in printed["decisions"]:
        for o in d["options"]:
            api = frame[(frame.decision == d["decision"]) & (frame.option == o)].iloc[0]
            shown = page.decision(d["decision"])
            assert d["counterfactual"][o] == api["counterfactual"] == shown.changed_shares[o]
            assert d["difference"][o]["mean"] == api["difference"] == shown.difference[o][0]


def test_sweep_the_command_s_dataset_is_the_api_s(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("format: diplosim-sweep/3\nscenario: gsomia_2012\nparameters:\n"
                    "  signing.ruling_party.clout: [0.0, 1.0]\ndesign:\n  method: grid\n"
                    f"  levels: 3\nmembers: 50\nseed: {SEED}\n", encoding="utf-8")
    main(["sweep", str(spec), "--out", str(tmp_path / "cli"), "--quiet"])
    cli = pd.read_parquet(next((tmp_path / "cli").glob("*.parquet")))
    api = sim.sweep(str(spec), tmp_path / "api")
    shares = [c for c in api.columns if c.startswith("share.")]
    assert shares and cli[shares].equals(api[shares])


def test_sensitivity_the_command_s_json_is_the_api_s_table():
    printed = json.loads(_printed(["sensitivity", "gsomia_2012", "--samples", "4", "--members",
                                   "20", "--seed", str(SEED), "--json", "--quiet"]))
    frame = sim.sensitivity("gsomia_2012", samples=4, members=20, seed=SEED)
    cli = pd.DataFrame(printed["indices"]).set_index("input")["ST"]
    api = frame.set_index("input")["ST"]
    assert cli.round(12).to_dict() == api.round(12).to_dict()


def test_discover_the_command_s_json_is_the_api_s_box():
    printed = json.loads(_printed(["discover", "gsomia_2019", "--outcome", "terminate",
                                   "--points", "200", "--members", "10", "--seed", str(SEED),
                                   "--json"]))
    frame = sim.discover("gsomia_2019", "termination_notice", "terminate", points=200,
                         members=10, seed=SEED)
    assert [b["input"] for b in printed["box"]] == frame["input"].tolist()


def test_calibrate_the_command_s_json_is_the_api_s_tables():
    argv = ["calibrate", "--design-log2", "2", "--runs", "20", "--seed", str(SEED), "--json",
            "--quiet"]
    printed = json.loads(_printed(argv))
    tables = sim.calibrate(runs=20, seed=SEED, design_log2=2)
    assert printed["design_points"] == 5 and printed["decisions"] == len(tables.held_out)
    cli = pd.DataFrame(printed["scoreboard"]).set_index(["scored", "forecaster"])["mean_brier"]
    api = tables.scoreboard.set_index(["scored", "forecaster"])["mean_brier"]
    assert cli.round(12).to_dict() == api.round(12).to_dict()
    assert set(cli.index.get_level_values("forecaster")) == {
        "model", "status quo", "uniform", "veto players", "weighted median", "weighted mean"}
    held = pd.DataFrame(printed["held_out"]).set_index(["episode", "decision"])["p_recorded"]
    assert held.round(12).to_dict() == \
        tables.held_out.set_index(["episode", "decision"])["p_recorded"].round(12).to_dict()
    assert [p["mean"] for p in printed["posterior"]] == pytest.approx(
        tables.posterior["mean"].tolist(), rel=1e-12)


def test_calibrate_misuse_is_one_sentence():
    with pytest.raises(ValueError, match=r"^runs must be a whole number from 20 to 20,000, got 5$"):
        sim.calibrate(runs=5)
    with pytest.raises(ValueError, match=r"^design_log2 must be a whole number from 2 to 12"):
        sim.calibrate(design_log2=20)
