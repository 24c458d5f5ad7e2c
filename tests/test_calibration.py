"""Calibration: the targets file, the distance, ABC-SMC on a tiny budget, and its files."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from sim.experiments import calibration as cal
from sim.cli import main
from sim.model.constants import load_constants
from sim.model.scenario import ScenarioError
from tests.conftest import SOURCES

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "calibration" / "targets.yaml"
TINY = cal.Budget(population=8, generations=2, max_simulations=60)


def _targets_copy(tmp_path: Path, replace: tuple[str, str] | None = None) -> Path:
    """The shipped targets file in tmp_path, scenario paths made to point at the project."""
    text = TARGETS.read_text(encoding="utf-8").replace("../scenarios/", f"{ROOT / 'scenarios'}/")
    if replace is not None:
        assert replace[0] in text, replace[0]
        text = text.replace(*replace, 1)
    path = tmp_path / "targets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_shipped_targets_load_and_agree_with_the_scenarios():
    targets = cal.load_targets(TARGETS)
    assert [e.id for e in targets.episodes] == ["gsomia_2012", "gsomia_2016", "gsomia_2019"]
    assert 1 <= len(targets.fit) <= cal.MAX_FITTED
    assert targets.episode("gsomia_2012").targets["signing"].option == "postpone"
    assert set(targets.episode("gsomia_2019").targets) == {"termination_notice", "termination_takes_effect"}
    # the runs never see the record
    assert all(not e.scenario.recorded_outcome for e in targets.episodes)


@pytest.mark.parametrize(
    "replace, key_path, fragment, expected",
    [
        (("  attention_rate:\n", "  temperature:\n    low: 0.01\n    high: 1\n    scale: log\n    why: x\n  attention_rate:\n"),
         "fit", "fit:", "at most 3 constants"),
        (("  action_cost:\n", "  action_costs:\n"), "fit.action_costs", "action_costs:", "unknown constant 'action_costs'"),
        (("option: postpone", "option: sign"), "episodes[0].targets.signing.option", "option: sign",
         "disagrees with the scenario's recorded_outcome ('postpone')"),
        (("option: postpone", "option: shrug"), "episodes[0].targets.signing.option", "option: shrug",
         "no option 'shrug'"),
        (("hours_before_deadline: [5.0, 7.0]", "hours_before_deadline: [10.0, 12.0]"),
         "episodes[2].targets.termination_takes_effect.hours_before_deadline", "[10.0, 12.0]",
         "does not contain the scenario's recorded time (6 h before the deadline)"),
        (("came just six hours before the deadline", "came just seven hours before the deadline"),
         "episodes[2].targets.termination_takes_effect.quote", "seven hours", "quote not found"),
        (("    high: 4.0\n    scale: log\n    why: >\n      Weight", "    high: 0.1\n    scale: log\n    why: >\n      Weight"),
         "fit.w_domestic", "w_domestic:", "must exceed low"),
        (("  signing:\n", "  sighing:\n"), "episodes[0].targets.sighing", "sighing:", "has no decision 'sighing'"),
    ],
)
def test_bad_targets_give_located_errors(tmp_path, monkeypatch, replace, key_path, fragment, expected):
    if SOURCES is None and expected == "quote not found":
        pytest.skip("the shared source texts are not beside the project")
    if SOURCES is not None:  # the copy in tmp_path has no shared folder beside it
        monkeypatch.setenv("DIPLOSIM_SOURCES", SOURCES)
    path = _targets_copy(tmp_path, replace)
    with pytest.raises(ScenarioError) as caught:
        cal.load_targets(path)
    error = caught.value
    assert error.file == str(path)
    assert expected in error.message
    assert key_path in str(error)
    assert error.line == _line_of(path, fragment)


def test_missing_scenario_is_named(tmp_path):
    path = _targets_copy(tmp_path, (f"{ROOT / 'scenarios'}/gsomia_2012.yaml", "nowhere.yaml"))
    with pytest.raises(ScenarioError, match=r"episodes\[0\]\.scenario: scenario file 'nowhere.yaml' does not exist"):
        cal.load_targets(path)


def test_timing_term_is_zero_inside_the_window_and_grows_outside():
    assert cal.timing_term(6.0, (5.0, 7.0)) == 0.0
    assert cal.timing_term(0.0, (5.0, 7.0)) == pytest.approx(math.log(6.0))
    assert cal.timing_term(23.0, (5.0, 7.0)) == pytest.approx(math.log(24.0 / 8.0))
    assert cal.timing_term(48.0, (5.0, 7.0)) > cal.timing_term(23.0, (5.0, 7.0))


def test_a_wrong_option_always_costs_more_than_any_timing():
    targets = cal.load_targets(TARGETS)
    episodes = targets.episodes
    distance = cal.target_distance(episodes)
    observed = cal.observed_statistics(episodes)
    assert distance(observed, observed) == 0.0
    worst_timing = dict(observed)
    for key in worst_timing:
        if key.endswith("/hours"):
            worst_timing[key] = 10_000.0
    one_miss = dict(observed)
    one_miss["gsomia_2012/signing/option"] = 0.0  # "sign"
    assert distance(one_miss, observed) >= cal.miss_penalty(episodes) > distance(worst_timing, observed)


def test_fit_is_reproducible_and_stays_in_the_prior():
    targets = cal.load_targets(TARGETS)
    constants = load_constants()
    first = cal.fit(targets, ["gsomia_2012"], constants, 7, TINY)
    again = cal.fit(targets, ["gsomia_2012"], constants, 7, TINY)
    other = cal.fit(targets, ["gsomia_2012"], constants, 8, TINY)
    assert np.array_equal(first.samples, again.samples) and np.array_equal(first.weights, again.weights)
    assert not np.array_equal(first.samples, other.samples)
    assert first.weights.sum() == pytest.approx(1.0)
    for j, name in enumerate(first.names):
        prior = targets.fit[name]
        assert np.all((prior.low <= first.samples[:, j]) & (first.samples[:, j] <= prior.high))
    # the first generation already demands the recorded option in every target
    assert first.generations[0].epsilon < cal.miss_penalty([targets.episode("gsomia_2012")])
    assert first.total_simulations >= TINY.population


def test_calibrate_command_writes_posterior_and_loeo(tmp_path, capsys):
    out = tmp_path / "results"
    code = main(["calibrate", "--population", "8", "--generations", "1", "--max-simulations", "20",
                 "--draws", "2", "--members", "10", "--seed", "3", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    labels = ["gsomia_2012", "gsomia_2016", "gsomia_2019", "gsomia_2016+gsomia_2019",
              "gsomia_2012+gsomia_2019", "gsomia_2012+gsomia_2016",
              "gsomia_2012+gsomia_2016+gsomia_2019"]
    for label in labels:
        rows = (out / f"posterior_{label}.csv").read_text().splitlines()
        targets = cal.load_targets(TARGETS)
        assert rows[0] == ",".join([*targets.fit, "weight"])
        weights = [float(r.split(",")[-1]) for r in rows[1:]]
        assert len(weights) == 8 and sum(weights) == pytest.approx(1.0)
        summary = json.loads((out / f"posterior_{label}.json").read_text())
        assert summary["fitted_on"] == label.split("+")
        assert set(summary["constants"]) == set(targets.fit)
        assert summary["seed"] == 3
        image = matplotlib.image.imread(out / f"posterior_{label}.png")
        assert image.ndim == 3 and image.shape[0] > 100
    table = json.loads((out / "loeo.json").read_text())["rows"]
    held_out = [(r["episode"], r["fitted_on"]) for r in table if r["held_out"]]
    assert sorted(set(held_out)) == [("gsomia_2012", "gsomia_2016+gsomia_2019"),
                                     ("gsomia_2016", "gsomia_2012+gsomia_2019"),
                                     ("gsomia_2019", "gsomia_2012+gsomia_2016")]
    assert {r["decision"] for r in table} == {"signing", "termination_notice", "termination_takes_effect"}
    for row in table:
        assert 0.0 <= row["p_recorded"] <= 1.0
        assert row["runs"] == 20
        assert row["log_score_status_quo"] == "-inf"
    assert (out / "loeo.txt").read_text().strip() in printed
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_calibrate_rejects_bad_arguments_without_traceback(tmp_path):
    bad = _targets_copy(tmp_path, ("option: postpone", "option: sign"))
    for args, expected in (
        (["--targets", str(bad)], "disagrees with the scenario's recorded_outcome"),
        (["--fit-on", "gsomia_1999"], "unknown episode 'gsomia_1999'"),
        (["--population", "0"], "--population must be at least 1"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "sim.cli", "calibrate", "--out", str(tmp_path / "out"), *args],
            capture_output=True, text=True, cwd=ROOT,
        )
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "out").exists()
