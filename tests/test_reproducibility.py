"""One seed, one result: byte-identical tables in one process or many, on either driver;
a run's numbers do not depend on the ensemble around it; outcome-blindness."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.model import philox
from sim.model.engine import Engine, ensemble_chunks, run_agents, run_ensemble
from sim.model.scenario import load_scenario
from tests.conftest import SCENARIO_2019


def _run(tmp_path, name, seed, runs=40, scenario=SCENARIO_2019, engine="vector"):
    out = tmp_path / name
    assert main(["run", str(scenario), "--runs", str(runs), "--seed", str(seed),
                 "--engine", engine, "--out", str(out), "--quiet"]) == 0
    return out


def test_same_seed_gives_byte_identical_tables(tmp_path, capsys):
    a = _run(tmp_path, "a", 7)
    b = _run(tmp_path, "b", 7)
    for name in ("runs.csv", "draws.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    c = _run(tmp_path, "c", 8)
    assert (a / "draws.csv").read_bytes() != (c / "draws.csv").read_bytes()
    assert (a / "runs.csv").read_bytes() != (c / "runs.csv").read_bytes()


def test_same_seed_across_processes(tmp_path, capsys):
    here = _run(tmp_path, "here", 11, runs=20)
    for engine in ("vector", "agents"):
        there = tmp_path / f"there-{engine}"
        subprocess.run(
            [sys.executable, "-m", "sim.cli", "run", str(SCENARIO_2019), "--runs", "20",
             "--seed", "11", "--engine", engine, "--out", str(there), "--quiet"],
            check=True, capture_output=True, timeout=300,
        )
        assert (here / "runs.csv").read_bytes() == (there / "runs.csv").read_bytes(), engine
        assert (here / "draws.csv").read_bytes() == (there / "draws.csv").read_bytes(), engine


def test_run_streams_do_not_depend_on_ensemble_size(scenario_2019, constants):
    """Run i draws the same inputs and takes the same course whether it is run alone or as
    part of a larger ensemble, on either driver, in whatever chunks."""
    engine = Engine(scenario_2019, constants)
    full = engine.run(3, np.arange(12))
    part = engine.run(3, np.arange(8, 12))
    np.testing.assert_array_equal(part.option, full.option[8:])
    np.testing.assert_array_equal(part.decided_h, full.decided_h[8:])
    np.testing.assert_array_equal(engine.values(3, np.arange(8, 12)), engine.values(3, np.arange(12))[8:])
    agents = run_agents(scenario_2019, constants, 3, 4, first=8)
    np.testing.assert_array_equal(agents.option, full.option[8:])
    whole = run_ensemble(scenario_2019, constants, 3, 12).rows
    chunked = [row for rows, _, _ in ensemble_chunks(scenario_2019, constants, 3, 12, chunk=5)
               for row in rows]
    assert chunked == whole


def test_model_is_outcome_blind(constants, tmp_path):
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
    for n, variant in enumerate((text, changed, removed)):
        path = tmp_path / f"variant{n}.yaml"
        path.write_text(variant, encoding="utf-8")
        scenario = load_scenario(path, verify_quotes=False).scenario
        ensemble = run_ensemble(scenario, constants, seed=5, runs=30)
        results.append((ensemble.rows, ensemble.draws.tolist()))
    assert results[0] == results[1] == results[2]


def test_engines_write_identical_tables(tmp_path, capsys):
    for engine in ("vector", "agents"):
        _run(tmp_path, engine, 4, runs=30, engine=engine)
    for name in ("runs.csv", "draws.csv"):
        assert (tmp_path / "vector" / name).read_bytes() == (tmp_path / "agents" / name).read_bytes()


# -- the random numbers: NumPy's own Philox, addressed by (seed, run, stream, index) ---------


@pytest.mark.parametrize("seed", [0, 1, 20190822, 2**63 - 1, 2**64 + 5, 2**127 + 12345])
def test_philox_words_are_numpys(seed):
    k0, k1 = philox.seed_key(seed)
    key = np.array([k0, k1], dtype=np.uint64)
    for counter in ([0, 0, 0, 0], [5, 7, 1, 0], [2**64 - 1, 3, 0, 0]):
        reference = np.random.Philox(key=key, counter=np.array(counter, dtype=np.uint64)).random_raw(4)
        # NumPy increments the counter before it computes its first block
        low = (counter[0] + 1) % 2**64
        carried = [low, counter[1] + (low == 0), counter[2], counter[3]]
        words = philox.philox_block(np.uint64(k0), np.uint64(k1), *(np.uint64(c) for c in carried))
        assert [int(w) for w in words] == [int(r) for r in reference]


def test_uniforms_are_numpys_doubles_at_the_run_and_stream_address():
    k0, k1 = philox.seed_key(42)
    # counter (0, run 7, stream 1, 0) is what NumPy reaches after one increment from below it
    start = np.array([2**64 - 1, 6, 1, 0], dtype=np.uint64)
    generator = np.random.Generator(np.random.Philox(key=np.array([k0, k1], dtype=np.uint64),
                                                     counter=start))
    assert np.array_equal(generator.random(10), philox.uniforms(42, [7], 1, 10)[0])


def test_seed_outside_the_key_space_is_refused():
    with pytest.raises(ValueError):
        philox.seed_key(-1)
    with pytest.raises(ValueError):
        philox.seed_key(2**128)


def test_calibration_is_reproducible_and_stays_in_the_prior(scenario_2012, scenario_2019):
    from sim.experiments.calibrate import calibrate, report
    from sim.model.constants import PRIORS
    from sim.model.constants import load_constants
    from tests.conftest import ROOT

    as_set = load_constants(ROOT / "calibration" / "constants3_as_set.yaml")
    fit = [calibrate([scenario_2012, scenario_2019], as_set, log2_points=2, runs=30, seed=s)
           for s in (4, 4, 5)]
    assert report(fit[0]) == report(fit[1])
    np.testing.assert_array_equal(fit[0].points, fit[1].points)
    assert not np.array_equal(fit[0].points[1:], fit[2].points[1:])  # another seed, another design
    for j, name in enumerate(fit[0].names):
        lo, hi = PRIORS[name]
        assert ((lo <= fit[0].points[1:, j]) & (fit[0].points[1:, j] <= hi)).all(), name
