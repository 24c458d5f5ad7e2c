"""Sobol sensitivity: known indices on a toy function, and the command's outputs."""

from __future__ import annotations

import csv

import numpy as np

from sim.cli import main
from sim.experiments.sensitivity import sobol_analyze
from tests.conftest import SCENARIO_2012


def test_sobol_indices_of_the_ishigami_function():
    """Ishigami (a=7, b=0.1): S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244)."""
    from SALib.sample import sobol

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol.sample(problem, 4096, calc_second_order=False, seed=1)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    result = sobol_analyze(problem, y, seed=1, label="ishigami")
    assert np.allclose(result.S1, [0.314, 0.442, 0.0], atol=0.05)
    assert np.allclose(result.ST, [0.558, 0.442, 0.244], atol=0.05)
    assert np.all(result.S1_conf > 0)


def test_sensitivity_command_writes_table_and_chart(tmp_path, capsys):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(SCENARIO_2012), "--samples", "4", "--members", "10",
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Sobol indices of P(signing = postpone)" in printed
    with open(out / "sensitivity.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["parameter"] for r in rows} >= {"south_korea.initial_opposition", "united_states.base_pressure"}
    assert (out / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sensitivity_rejects_unknown_decision(capsys):
    assert main(["sensitivity", str(SCENARIO_2012), "--decision", "nope", "--quiet"]) == 2
    assert "unknown decision 'nope'" in capsys.readouterr().err
