"""Sweeps: SALib designs, chunk- and worker-invariant datasets, resuming after SIGKILL, Dask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from sim.cli import main  # noqa: E402
from sim.model.scenario import ScenarioError  # noqa: E402
from sim.experiments.sweep import SweepRunner, design_points, load_spec  # noqa: E402
from tests.conftest import SCENARIO_2012, SCENARIO_2019  # noqa: E402


def _spec(tmp_path: Path, name: str, *, method="grid", samples=4, levels=3, members=20,
          chunk=2, scenario=SCENARIO_2012, parameters=None) -> Path:
    parameters = parameters or {
        "united_states.base_pressure": [0.0, 1.0],
        "south_korea.initial_opposition": [0.3, 0.8],
    }
    lines = [
        "format: diplosim-sweep/1",
        f"scenario: {scenario}",
        "parameters:",
        *[f"  {k}: [{lo}, {hi}]" for k, (lo, hi) in parameters.items()],
        "design:",
        f"  method: {method}",
        f"  samples: {samples}",
        f"  levels: {levels}",
        f"members: {members}",
        "seed: 11",
        f"chunk_points: {chunk}",
        f"out: {tmp_path / name}",
    ]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _dataset(out: Path):
    return pq.read_table(out / "dataset.parquet")


@pytest.mark.parametrize(
    "method,samples,levels,expected",
    [("grid", 1, 3, 9), ("lhs", 7, 4, 7), ("sobol", 8, 4, 8 * (2 + 2)), ("morris", 3, 4, 3 * (2 + 1))],
)
def test_designs_come_from_salib(tmp_path, method, samples, levels, expected):
    spec, _, _ = load_spec(_spec(tmp_path, "d", method=method, samples=samples, levels=levels))
    points = design_points(spec)
    assert points.shape == (expected, 2)
    assert points[:, 0].min() >= 0.0 and points[:, 0].max() <= 1.0
    assert points[:, 1].min() >= 0.3 and points[:, 1].max() <= 0.8


def test_sweep_output_and_chunk_invariance(tmp_path, capsys):
    a = _spec(tmp_path, "a", chunk=1)
    b = _spec(tmp_path, "b", chunk=4)
    assert main(["sweep", str(a), "--quiet"]) == 0
    assert main(["sweep", str(b), "--quiet"]) == 0
    ta, tb = _dataset(tmp_path / "a"), _dataset(tmp_path / "b")
    assert ta.equals(tb)
    assert ta.num_rows == 9 * 2  # 9 grid points x (sign, postpone)
    assert ta.column_names[:3] == ["point", "united_states.base_pressure", "south_korea.initial_opposition"]
    shares = ta.to_pydict()
    # more US pressure, less opposition: fewer postponements (corner points of the grid)
    postpone = {(p, o): s for p, o, opt, s in zip(shares["united_states.base_pressure"],
                shares["south_korea.initial_opposition"], shares["option"], shares["share"]) if opt == "postpone"}
    assert postpone[(1.0, 0.3)] <= postpone[(0.0, 0.8)]
    assert (tmp_path / "a" / "manifest.json").exists()


def test_rerun_after_completion_computes_nothing(tmp_path, capsys):
    spec = _spec(tmp_path, "c")
    main(["sweep", str(spec), "--quiet"])
    runner = SweepRunner(str(spec))
    assert runner.pending_chunks() == []


def test_resume_after_sigkill_gives_the_same_dataset(tmp_path, capsys):
    reference = _spec(tmp_path, "ref", method="lhs", samples=40, chunk=2, members=60, scenario=SCENARIO_2019)
    assert main(["sweep", str(reference), "--quiet"]) == 0
    killed = _spec(tmp_path, "killed", method="lhs", samples=40, chunk=2, members=60, scenario=SCENARIO_2019)
    chunks = tmp_path / "killed" / "chunks"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(killed), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not chunks.exists() or len(list(chunks.glob("chunk-*.parquet"))) < 3):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(chunks.glob("chunk-*.parquet")))
    assert 3 <= finished < 20, "the kill should land part-way"
    assert not (tmp_path / "killed" / "dataset.parquet").exists()
    assert main(["sweep", str(killed), "--quiet"]) == 0
    assert f"resuming: {finished} of 20" in capsys.readouterr().out or finished == 20
    assert _dataset(tmp_path / "killed").equals(_dataset(tmp_path / "ref"))


def test_dask_local_cluster_matches_serial(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    serial = _spec(tmp_path, "serial", method="lhs", samples=6, chunk=2)
    dasked = _spec(tmp_path, "dasked", method="lhs", samples=6, chunk=3)
    assert main(["sweep", str(serial), "--quiet"]) == 0
    assert main(["sweep", str(dasked), "--quiet", "--workers", "2"]) == 0
    assert _dataset(tmp_path / "dasked").equals(_dataset(tmp_path / "serial"))


def test_bad_spec_is_located(tmp_path, capsys):
    spec = _spec(tmp_path, "bad", parameters={"united_states.base_presure": [0.0, 1.0]})
    code = main(["sweep", str(spec), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{spec}:4: parameters.united_states.base_presure:" in err
    assert "not a drawn quantity" in err and "Traceback" not in err
    with pytest.raises(ScenarioError):
        load_spec(_spec(tmp_path, "bad2", method="latin"))
