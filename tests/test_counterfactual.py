"""Counterfactual overlays: validation, common random numbers, exact zero for an empty overlay."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.experiments.counterfactual import compare, load_overlay, paired_inputs
from sim.engine.ensemble import VectorEngine
from tests.conftest import ROOT, SCENARIO_2012, SCENARIO_2019

OVERLAYS = sorted((ROOT / "scenarios" / "counterfactuals").glob("*.yaml"))


def _overlay(tmp_path: Path, body: str, base: Path = SCENARIO_2019) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(
        "format: diplosim-overlay/1\nid: test_overlay\n"
        f"base: {base}\nquestion: A question.\nanswer: An answer.\n" + body
    )
    return path


def test_empty_overlay_gives_exactly_zero_difference(tmp_path, constants):
    loaded = load_overlay(str(_overlay(tmp_path, "")))
    for comparison in compare(loaded, constants, seed=3, runs=300):
        for option, (diff, low, high) in comparison.difference.items():
            assert diff == 0.0 and low == 0.0 and high == 0.0
        assert comparison.base_shares == comparison.cf_shares
        for _, base_gap, cf_gap in comparison.attribution:
            assert base_gap == cf_gap or (np.isnan(base_gap) and np.isnan(cf_gap))


def test_common_random_numbers(tmp_path, constants):
    """The counterfactual shares the baseline's shock table and every common draw; only the
    overlay's settings and its own new quantities differ."""
    body = (
        "set:\n  united_states.escalation:\n    value: 0.0\n    note: none\n"
        "remove_events: [milley_visit]\n"
        "add_events:\n  - id: extra_visit\n    time: 2019-11-20T12:00:00+09:00\n"
        "    description: A hypothetical visit.\n    note: Illustration.\n    effects:\n"
        "      - {target: united_states.pressure, op: add, range: [0.0, 0.2], note: a pulse}\n"
    )
    loaded = load_overlay(str(_overlay(tmp_path, body)))
    base_engine = VectorEngine(loaded.base, constants)
    cf_engine = VectorEngine(loaded.counterfactual, constants)
    base_inputs = base_engine.inputs(5, range(50))
    cf_inputs = paired_inputs(base_engine, cf_engine, base_inputs, 5, {"united_states.escalation": 0.0})
    assert cf_inputs.seed == base_inputs.seed  # shocks are a function of (seed, run)
    assert np.array_equal(cf_inputs.runs, base_inputs.runs)
    assert np.array_equal(base_engine.clock.boundaries, cf_engine.clock.boundaries)
    for key, j in cf_engine.column.items():
        column = cf_inputs.values[:, j]
        if key == "united_states.escalation":
            assert np.all(column == 0.0)
        elif key in base_engine.column:
            assert np.array_equal(column, base_inputs.values[:, base_engine.column[key]])
        else:
            assert key.startswith("event.extra_visit.")
            assert np.all((0.0 <= column) & (column <= 0.2)) and column.std() > 0


@pytest.mark.parametrize(
    "body,where,message",
    [
        ("remove_events: [no_such_event]\n", "remove_events[0]", "unknown event 'no_such_event'"),
        ("set:\n  united_states.pressur:\n    value: 0.1\n    note: x\n", "set.united_states.pressur",
         "not a drawn quantity"),
        ("set:\n  united_states.escalation:\n    value: 0.1\n", "set.united_states.escalation.note",
         "missing required key 'note'"),
        ("move_events:\n  milley_visit: 2020-01-01T00:00:00+09:00\n", "move_events.milley_visit",
         "outside the clock"),
        ("remove_elections: maybe\n", "remove_elections", "valid boolean"),
    ],
)
def test_overlay_errors_are_located(tmp_path, capsys, body, where, message):
    path = _overlay(tmp_path, body)
    assert main(["counterfactual", str(path), "--runs", "10"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and f": {where}:" in err and message in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("path", OVERLAYS, ids=[p.stem for p in OVERLAYS])
def test_shipped_overlays_run(path, capsys):
    assert main(["counterfactual", str(path), "--runs", "40", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result and {"decision", "baseline", "counterfactual", "difference", "attribution"} <= set(result[0])


def test_at_least_three_teaching_overlays_per_episode():
    bases = [load_overlay(str(p)).base.id for p in OVERLAYS]
    assert all(bases.count(e) >= 3 for e in ("gsomia_2012", "gsomia_2016", "gsomia_2019"))


def test_removing_the_election_lowers_postponement(constants):
    loaded = load_overlay(str(ROOT / "scenarios" / "counterfactuals" / "no_election_2012.yaml"))
    # In Model 2 the election acts through the ruling party, which presses only in the last
    # hour and a half: a smaller effect, so more runs to resolve its sign.
    (signing,) = compare(loaded, constants, seed=1, runs=4000)
    diff, low, high = signing.difference["postpone"]
    assert high < 0
    assert SCENARIO_2012.exists()
