"""The command line as users meet it: outputs, file formats, JSON keys, exit codes."""

from __future__ import annotations

import csv
import json

import pytest

from sim.cli import main
from tests.conftest import ROOT, SCENARIO_2012, SCENARIO_2019

VALIDATE_KEYS = {
    "scenario", "decision", "recorded_outcome", "p_recorded", "ci_low", "ci_high",
    "modal_outcome", "recorded_hours_before_deadline", "median_hours_before_deadline",
    "brier", "brier_status_quo", "brier_uniform",
}


def test_run_writes_tables_and_manifest(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["run", str(SCENARIO_2019), "--runs", "25", "--seed", "7", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "termination_notice" in printed and "suspend_conditionally" in printed
    with open(out / "runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 25 * 2
    assert set(rows[0]) == {"scenario", "run", "decision", "outcome", "by_default",
                            "decided_at", "hours_before_deadline"}
    with open(out / "draws.csv", newline="") as handle:
        draws = list(csv.DictReader(handle))
    assert len(draws) == 25 and "united_states.base_pressure" in draws[0]
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("version", "scenario_sha256", "seed", "runs", "parameter_draws", "wall_time_s"):
        assert key in manifest
    assert manifest["seed"] == 7 and manifest["runs"] == 25
    lo, hi = 0.3, 0.6  # the scenario's range for united_states.base_pressure
    summary = manifest["parameter_draws"]["united_states.base_pressure"]
    assert lo <= summary["min"] <= summary["mean"] <= summary["max"] <= hi


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
    assert "EVENT signing_announced" in text
    assert "DECISION signing" in text
    assert "U: sign=" in text and "postpone=" in text
    assert "SK.opp=" in text and "US.prs=" in text


def test_validate_json_has_the_documented_keys(capsys):
    assert main(["validate", str(SCENARIO_2012), str(SCENARIO_2019), "--runs", "30", "--json",
                 "--quiet"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["scenario"], r["decision"], r["path"]) for r in rows] == [
        ("gsomia_2012", "signing", "reached"),
        ("gsomia_2019", "termination_notice", "reached"),
        ("gsomia_2019", "termination_takes_effect", "reached"),
        ("gsomia_2019", "termination_takes_effect", "forced"),
    ]
    for row in rows:
        assert VALIDATE_KEYS <= set(row)
        assert 0.0 <= row["ci_low"] <= row["p_recorded"] <= row["ci_high"] <= 1.0
        assert 0.0 <= row["brier"] <= 2.0
    assert rows[0]["recorded_hours_before_deadline"] == 1.0
    assert rows[2]["recorded_hours_before_deadline"] == 6.0
    assert rows[0]["brier_status_quo"] == 2.0 and rows[0]["brier_uniform"] == 0.5


def test_validate_table(capsys):
    assert main(["validate", "--runs", "20", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "gsomia_2012" in text and "gsomia_2019" in text and "Brier" in text


def test_schema_is_json_schema(tmp_path, capsys):
    out = tmp_path / "scenario.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    schema = json.loads(out.read_text())
    assert schema["type"] == "object"
    assert {"clock", "actors", "decisions", "recorded_outcome"} <= set(schema["properties"])
    assert "DeciderParameters" in schema["$defs"]


def test_bad_runs_argument(capsys):
    with pytest.raises(SystemExit):
        main(["run", str(SCENARIO_2012), "--runs", "0"])
    assert "--runs" in capsys.readouterr().err


def test_check_accepts_an_overlay_and_names_its_base(capsys):
    overlay = ROOT / "scenarios" / "counterfactuals" / "no_us_pressure_2019.yaml"
    assert main(["check", str(overlay)]) == 0
    assert "ok (an overlay on gsomia_2019" in capsys.readouterr().out
