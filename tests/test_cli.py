"""The command line as users meet it: outputs, file formats, JSON keys, exit codes."""

from __future__ import annotations

import csv
import json

import pytest

from sim.cli import main
from tests.conftest import ROOT, SCENARIO_2012, SCENARIO_2019

VALIDATE_KEYS = {
    "scenario", "decision", "path", "recorded_outcome", "p_recorded", "ci_low", "ci_high",
    "modal_outcome", "recorded_hours_before_deadline", "median_hours_before_deadline",
    "brier", "brier_status_quo", "brier_uniform", "brier_veto_players", "brier_weighted_median",
    "brier_weighted_mean",
}
DECISIONS_2019 = ["termination_notice", "japan_talks", "termination_takes_effect"]


def test_run_writes_tables_and_manifest(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["run", str(SCENARIO_2019), "--runs", "25", "--seed", "7", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "termination_notice" in printed and "suspend_conditionally" in printed
    assert "25 runs, seed 7" in printed
    with open(out / "runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 25 * len(DECISIONS_2019)
    assert [r["decision"] for r in rows[:3]] == DECISIONS_2019
    assert set(rows[0]) == {"scenario", "run", "decision", "outcome", "by_default",
                            "decided_at", "hours_before_deadline"}
    with open(out / "draws.csv", newline="") as handle:
        draws = list(csv.DictReader(handle))
    key = "termination_notice.united_states.salience"
    assert len(draws) == 25 and key in draws[0]
    manifest = json.loads((out / "manifest.json").read_text())
    for name in ("version", "scenario_sha256", "seed", "runs", "parameter_draws", "wall_time_s"):
        assert name in manifest
    assert manifest["seed"] == 7 and manifest["runs"] == 25
    lo, hi = 0.2, 0.4  # the scenario's range for the patron's salience in the notice
    summary = manifest["parameter_draws"][key]
    assert lo <= summary["min"] <= summary["mean"] <= summary["max"] <= hi
    assert summary["min"] < summary["max"]


def test_run_by_episode_name_is_the_run_of_its_file(tmp_path, capsys):
    assert main(["run", "gsomia_2012", "--runs", "10", "--out", str(tmp_path / "a"),
                 "--quiet"]) == 0
    assert main(["run", str(SCENARIO_2012), "--runs", "10", "--out", str(tmp_path / "b"),
                 "--quiet"]) == 0
    assert (tmp_path / "a" / "runs.csv").read_bytes() == (tmp_path / "b" / "runs.csv").read_bytes()


def test_an_unknown_name_suggests_the_nearest_episodes(capsys):
    assert main(["run", "gsomia_2091", "--runs", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean" in err and "gsomia_2019" in err


def test_a_model2_file_gets_the_migration_message(tmp_path, capsys):
    old = tmp_path / "old.yaml"
    old.write_text("format: diplosim/2\nid: old\n", encoding="utf-8")
    assert main(["run", str(old), "--runs", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{old}:1: format:" in err and "diplosim/3" in err


def test_run_writes_parquet_when_pyarrow_is_installed(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "demo"
    assert main(["run", str(SCENARIO_2012), "--runs", "10", "--out", str(out), "--quiet"]) == 0
    table = pq.read_table(out / "runs.parquet")
    assert table.num_rows == 10
    with open(out / "runs.csv", newline="") as handle:
        assert [r["outcome"] for r in csv.DictReader(handle)] == table.column("outcome").to_pylist()


def test_rerun_replaces_the_result_whole(tmp_path, capsys):
    out = tmp_path / "demo"
    main(["run", str(SCENARIO_2012), "--runs", "10", "--out", str(out), "--quiet"])
    main(["run", str(SCENARIO_2012), "--runs", "5", "--out", str(out), "--quiet"])
    assert json.loads((out / "manifest.json").read_text())["runs"] == 5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_trace_tells_the_story(capsys):
    assert main(["run", str(SCENARIO_2012), "--trace", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "Foreign ministry spokesman says the pact will be signed" in text  # an event
    assert "looks after signing_announced (signing)" in text  # the look it brings
    assert text.rstrip().splitlines()[-1].startswith("outcome: signing: ")
    assert main(["run", str(SCENARIO_2012), "--trace", "--seed", "3"]) == 0
    assert capsys.readouterr().out == text  # the same seed tells the same story


def test_validate_json_has_the_documented_keys(capsys):
    assert main(["validate", str(SCENARIO_2012), str(SCENARIO_2019), "--runs", "30", "--json",
                 "--quiet"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["scenario"], r["decision"], r["path"]) for r in rows] == [
        ("gsomia_2012", "signing", "reached"),
        ("gsomia_2019", "termination_notice", "reached"),
        ("gsomia_2019", "japan_talks", "reached"),
        ("gsomia_2019", "termination_takes_effect", "reached"),
        ("gsomia_2019", "japan_talks", "forced"),
        ("gsomia_2019", "termination_takes_effect", "forced"),
    ]
    for row in rows:
        assert VALIDATE_KEYS <= set(row)
        assert 0.0 <= row["ci_low"] <= row["p_recorded"] <= row["ci_high"] <= 1.0
        assert 0.0 <= row["brier"] <= 2.0
    assert rows[0]["recorded_hours_before_deadline"] == 1.0  # 15:00 for a 16:00 ceremony
    assert rows[3]["recorded_hours_before_deadline"] == 6.0
    assert rows[0]["brier_status_quo"] == 2.0 and rows[0]["brier_uniform"] == 0.5


def test_validate_table(capsys):
    assert main(["validate", str(SCENARIO_2012), str(SCENARIO_2019), "--runs", "20",
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "gsomia_2012" in text and "gsomia_2019" in text and "Brier" in text
    assert "20 runs per scenario" in text


def test_schema_is_json_schema(tmp_path, capsys):
    out = tmp_path / "scenario.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    schema = json.loads(out.read_text())
    assert schema["type"] == "object"
    assert {"clock", "actors", "decisions", "recorded_outcome"} <= set(schema["properties"])
    assert schema["properties"]["format"]["const"] == "diplosim/3"
    assert {"Stake", "Decision", "Body"} <= set(schema["$defs"])


def test_bad_runs_argument(capsys):
    with pytest.raises(SystemExit):
        main(["run", str(SCENARIO_2012), "--runs", "0"])
    assert "--runs" in capsys.readouterr().err


def test_check_names_the_format_and_the_counts(capsys):
    assert main(["check", "gsomia_2019"]) == 0
    out = capsys.readouterr().out
    assert "gsomia_2019: ok (diplosim/3: 3 decisions, 7 actors" in out


def test_check_accepts_an_overlay_and_names_its_base(capsys):
    overlay = ROOT / "scenarios" / "counterfactuals" / "no_us_pressure_2019.yaml"
    assert main(["check", str(overlay)]) == 0
    assert "ok (an overlay on gsomia_2019" in capsys.readouterr().out


def test_scenarios_lists_the_library(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "library of recorded decisions" in out
    for name in ("gsomia_2012", "gsomia_2016", "gsomia_2019"):
        assert name in out
    assert "does not load" not in out


def test_init_copies_the_library_and_refuses_a_folder_in_use(tmp_path, capsys):
    assert main(["init", str(tmp_path / "mine")]) == 0
    assert (tmp_path / "mine" / "library" / "gsomia_2019" / "scenario.yaml").is_file()
    assert (tmp_path / "mine" / "calibration" / "constants3.yaml").is_file()
    capsys.readouterr()
    assert main(["init", str(tmp_path / "mine")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
