"""One seed, one result: byte-identical tables in one process or many; outcome-blindness."""

from __future__ import annotations

import subprocess
import sys

import yaml

from sim.cli import main
from sim.engine.runner import run_ensemble
from sim.model.scenario import load_scenario_text
from tests.conftest import SCENARIO_2019


def _run(tmp_path, name, seed, runs=40, scenario=SCENARIO_2019):
    out = tmp_path / name
    assert main(["run", str(scenario), "--runs", str(runs), "--seed", str(seed),
                 "--out", str(out), "--quiet"]) == 0
    return out


def test_same_seed_gives_byte_identical_tables(tmp_path, capsys):
    a = _run(tmp_path, "a", 7)
    b = _run(tmp_path, "b", 7)
    for name in ("runs.csv", "draws.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    c = _run(tmp_path, "c", 8)
    assert (a / "draws.csv").read_bytes() != (c / "draws.csv").read_bytes()


def test_same_seed_across_processes(tmp_path, capsys):
    here = _run(tmp_path, "here", 11, runs=20)
    there = tmp_path / "there"
    subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(SCENARIO_2019), "--runs", "20",
         "--seed", "11", "--out", str(there), "--quiet"],
        check=True, capture_output=True, timeout=300,
    )
    assert (here / "runs.csv").read_bytes() == (there / "runs.csv").read_bytes()
    assert (here / "draws.csv").read_bytes() == (there / "draws.csv").read_bytes()


def test_run_streams_do_not_depend_on_ensemble_size(scenario_2019, constants):
    """Run i draws the same inputs whether it is run alone or as part of a larger ensemble."""
    full = run_ensemble(scenario_2019, constants, seed=3, runs=12)
    part = run_ensemble(scenario_2019, constants, seed=3, runs=4, first_run=8)
    assert part.rows == full.rows[8 * 2 : 12 * 2]
    assert part.draws == full.draws[8:12]


def test_model_is_outcome_blind(constants):
    """Changing the recorded outcome changes no simulated number."""
    text = SCENARIO_2019.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["recorded_outcome"]["termination_notice"]["option"] = "renew"
    data["recorded_outcome"]["termination_notice"]["time"] = "2019-07-02T00:00:00+09:00"
    data["recorded_outcome"]["termination_takes_effect"]["option"] = "let_expire"
    changed = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    del data["recorded_outcome"]
    removed = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    results = []
    for variant in (text, changed, removed):
        scenario = load_scenario_text(variant, "variant.yaml", verify_quotes=False).scenario
        ensemble = run_ensemble(scenario, constants, seed=5, runs=30)
        results.append((ensemble.rows, ensemble.draws))
    assert results[0] == results[1] == results[2]


def test_engines_write_identical_tables(tmp_path, capsys):
    for engine in ("vector", "agents"):
        assert main(["run", str(SCENARIO_2019), "--runs", "30", "--seed", "4", "--engine", engine,
                     "--out", str(tmp_path / engine), "--quiet"]) == 0
    for name in ("runs.csv", "draws.csv"):
        assert (tmp_path / "vector" / name).read_bytes() == (tmp_path / "agents" / name).read_bytes()
