"""Scenario discovery with PRIM: a known box is found, and the command prints a readable rule."""

from __future__ import annotations

import numpy as np

from sim.cli import main
from sim.experiments.discover import describe, find_box
from tests.conftest import SCENARIO_2019


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(0)
    x = rng.random((3000, 3))
    y = (x[:, 0] > 0.7) & (x[:, 1] < 0.3)
    box = find_box(x, ["a", "b", "c"], y, threshold=0.9)
    limits = {name: (lower, upper) for name, lower, upper in box.limits}
    assert set(limits) == {"a", "b"}
    assert abs(limits["a"][0] - 0.7) < 0.05 and limits["a"][1] is None
    assert limits["b"][0] is None and abs(limits["b"][1] - 0.3) < 0.05
    assert box.density > 0.9 and box.coverage > 0.9
    assert describe(box, "hit").startswith("a > 0.7")


def test_discover_command(capsys):
    assert main(["discover", str(SCENARIO_2019), "--outcome", "suspend_conditionally",
                 "--runs", "1500"]) == 0
    out = capsys.readouterr().out
    assert "-> suspend_conditionally in" in out and "covering" in out


def test_discover_rejects_unknown_outcome(capsys):
    assert main(["discover", str(SCENARIO_2019), "--outcome", "invade", "--runs", "10"]) == 2
    assert "no decision of gsomia_2019 has option 'invade'" in capsys.readouterr().err
