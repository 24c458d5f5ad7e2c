"""Sweeps on Model 3: the diplosim-sweep/3 spec, SALib designs, one row per point with every
option's share over all members, chunk- and worker-invariant datasets, resuming after SIGKILL,
Dask, and the library entry function."""

from __future__ import annotations

import json
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
from sim.experiments.sweep import (  # noqa: E402
    SweepRunner, design_points, load_spec, sweep,
)
from sim.formats.common import ScenarioError  # noqa: E402
from tests.conftest import ROOT, with_episode_sources  # noqa: E402

LIBRARY_2019 = ROOT / "library" / "gsomia_2019" / "scenario.yaml"
PATRON_LATE = "termination_takes_effect.united_states.salience"  # the patron, before expiry
PATRON_EARLY = "termination_notice.united_states.salience"  # the patron, before the notice
PUBLIC = "termination_notice.public.position"
DECISIONS = {"termination_notice": ["renew", "terminate"], "japan_talks": ["hold", "offer_talks"],
             "termination_takes_effect": ["let_expire", "suspend_conditionally",
                                          "withdraw_notice"]}


def _spec(tmp_path: Path, name: str, *, method="grid", samples=4, levels=3, members=20,
          chunk=2, scenario="gsomia_2019", parameters=None, seed=11, out=True) -> Path:
    parameters = parameters or {PATRON_EARLY: [0.0, 1.0], PUBLIC: [0.3, 0.7]}
    lines = [
        "format: diplosim-sweep/3",
        f"scenario: {scenario}",
        "parameters:",
        *[f"  {k}: [{lo}, {hi}]" for k, (lo, hi) in parameters.items()],
        "design:",
        f"  method: {method}",
        *([f"  samples: {samples}"] if method != "grid" else []),
        f"  levels: {levels}",
        f"members: {members}",
        f"seed: {seed}",
        f"chunk_points: {chunk}",
        *([f"out: {tmp_path / name}"] if out else []),
    ]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _dataset(out: Path):
    return pq.read_table(out / "dataset.parquet")


def _refused(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    "method,samples,levels,expected",
    [("grid", 1, 3, 9), ("lhs", 7, 4, 7), ("sobol", 8, 4, 8 * (2 + 2)), ("morris", 3, 4, 3 * (2 + 1))],
)
def test_designs_come_from_salib(tmp_path, method, samples, levels, expected):
    spec = load_spec(_spec(tmp_path, "d", method=method, samples=samples, levels=levels)).spec
    points = design_points(spec)
    assert points.shape == (expected, 2)
    assert points[:, 0].min() >= 0.0 and points[:, 0].max() <= 1.0
    assert points[:, 1].min() >= 0.3 and points[:, 1].max() <= 0.7


def test_one_row_per_point_with_self_explanatory_columns(tmp_path, capsys):
    assert main(["sweep", str(_spec(tmp_path, "a")), "--quiet"]) == 0
    data = _dataset(tmp_path / "a").to_pydict()
    assert list(data)[:4] == ["point", PATRON_EARLY, PUBLIC, "members"]
    assert data["point"] == list(range(9)) and set(data["members"]) == {20}
    for decision, options in DECISIONS.items():
        columns = [f"share.{decision}.{o}" for o in options] + [f"share.{decision}.not_reached"]
        assert f"median_hours_before_deadline.{decision}" in data
        for point in range(9):
            assert sum(data[c][point] for c in columns) == pytest.approx(1.0, abs=1e-12)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["format"] == "diplosim-sweep/3" and manifest["scenario_id"] == "gsomia_2019"
    assert manifest["rows"] == manifest["points"] == 9


def test_same_seed_same_dataset_whatever_the_chunking(tmp_path, capsys):
    a = _spec(tmp_path, "a", method="lhs", samples=6, chunk=1)
    b = _spec(tmp_path, "b", method="lhs", samples=6, chunk=4)
    c = _spec(tmp_path, "c", method="lhs", samples=6, chunk=4, seed=12)
    for spec in (a, b, c):
        assert main(["sweep", str(spec), "--quiet"]) == 0
    assert _dataset(tmp_path / "a").equals(_dataset(tmp_path / "b"))
    assert not _dataset(tmp_path / "a").equals(_dataset(tmp_path / "c"))


def test_the_patrons_pressure_before_the_notice_lowers_the_termination(tmp_path, capsys):
    """The patron wants the pact kept (position 1.0, "pressured Seoul to extend it"): the more
    it cares before the notice, the fewer members give notice of termination. Common random
    numbers: the two ends of the grid run the same members."""
    spec = _spec(tmp_path, "p", parameters={PATRON_EARLY: [0.0, 1.0]}, levels=2, members=2000)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    terminate = _dataset(tmp_path / "p").column("share.termination_notice.terminate").to_pylist()
    assert terminate[1] < terminate[0], terminate


@pytest.mark.xfail(strict=True, reason=(
    "measured on cf65bdb: with the patron's salience in the expiry decision at 0, 0.25, 0.5, 0.75, 1 (4000 members, seed 11) suspend_conditionally "
    "takes 0.585, 0.544, 0.486, 0.404, 0.345 of all members, withdraw_notice 0.079, 0.130, "
    "0.192, 0.276, 0.335, let_expire 0.018, 0.008, 0.004, 0.002, 0.002 (not_reached 0.319 "
    "throughout): the patron at position 1.0 pulls towards the full withdrawal of the notice, "
    "away from the recorded conditional suspension at 0.75"))
def test_the_patrons_salience_before_expiry_raises_the_recorded_suspension(tmp_path, capsys):
    """Stated before running: the sources say Washington "pressured Seoul to extend it" and
    the suspension came after the November visits; so the more the patron cares in the expiry
    decision (its salience swept from 0 to 1), the larger the share of the recorded option,
    suspend_conditionally."""
    spec = _spec(tmp_path, "s", parameters={PATRON_LATE: [0.0, 1.0]}, levels=5, members=4000)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    data = _dataset(tmp_path / "s").to_pydict()
    suspend = data["share.termination_takes_effect.suspend_conditionally"]
    assert suspend[-1] > suspend[0], suspend


def test_the_patrons_salience_before_expiry_lowers_the_lapse(tmp_path, capsys):
    """Written after the measurement above (so not a prediction): the patron's position is the
    pact kept (1.0), the lapse is at 0.0; more weight on the patron can only make the lapse
    rarer, point after point of the grid."""
    spec = _spec(tmp_path, "l", parameters={PATRON_LATE: [0.0, 1.0]}, levels=3, members=4000)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    lapse = _dataset(tmp_path / "l").column("share.termination_takes_effect.let_expire").to_pylist()
    assert lapse[0] > lapse[1] >= lapse[2], lapse


def test_a_constant_is_swept_and_bounded_positive(tmp_path, capsys):
    spec = _spec(tmp_path, "t", parameters={"temperature_decider": [0.02, 1.0]}, levels=2,
                 members=500)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    renew = _dataset(tmp_path / "t").column("share.termination_notice.renew").to_pylist()
    assert renew[0] != renew[1]
    bad = _spec(tmp_path, "t0", parameters={"temperature_decider": [0.0, 1.0]})
    line = _refused(capsys, ["sweep", str(bad), "--quiet"])
    assert f"{bad}:4: parameters.temperature_decider:" in line and "positive" in line


def test_rerun_after_completion_computes_nothing(tmp_path, capsys):
    spec = _spec(tmp_path, "c")
    assert main(["sweep", str(spec), "--quiet"]) == 0
    assert SweepRunner(str(spec)).pending_chunks() == []


def test_resume_after_sigkill_gives_the_same_dataset(tmp_path, capsys):
    options = dict(method="lhs", samples=40, chunk=2, members=3000)
    assert main(["sweep", str(_spec(tmp_path, "ref", **options)), "--quiet"]) == 0
    killed = _spec(tmp_path, "killed", **options)
    chunks = tmp_path / "killed" / "chunks"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(killed), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not chunks.exists()
                                      or len(list(chunks.glob("chunk-*.parquet"))) < 3):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(chunks.glob("chunk-*.parquet")))
    assert 3 <= finished < 20, "the kill should land part-way"
    assert not (tmp_path / "killed" / "dataset.parquet").exists()
    capsys.readouterr()
    assert main(["sweep", str(killed), "--quiet"]) == 0
    assert f"resuming: {finished} of 20" in capsys.readouterr().out
    assert _dataset(tmp_path / "killed").equals(_dataset(tmp_path / "ref"))


def test_dask_local_cluster_matches_serial(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    serial = _spec(tmp_path, "serial", method="lhs", samples=6, chunk=2)
    dasked = _spec(tmp_path, "dasked", method="lhs", samples=6, chunk=3)
    assert main(["sweep", str(serial), "--quiet"]) == 0
    assert main(["sweep", str(dasked), "--quiet", "--workers", "2"]) == 0
    assert _dataset(tmp_path / "dasked").equals(_dataset(tmp_path / "serial"))


def test_the_entry_function_returns_the_dataset_and_where_it_is(tmp_path):
    spec = _spec(tmp_path, "e", out=False)
    seen = []
    result = sweep(spec, tmp_path / "elsewhere", progress=lambda done, total: seen.append(
        (done, total)))
    assert result.out == tmp_path / "elsewhere" and result.dataset.is_file()
    assert result.frame.equals(pq.read_table(result.dataset).to_pandas())
    assert len(result.frame) == 9 and seen == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    mapping = {"format": "diplosim-sweep/3", "scenario": str(LIBRARY_2019),
               "parameters": {PATRON_EARLY: [0.0, 1.0], PUBLIC: [0.3, 0.7]},
               "design": {"method": "grid", "levels": 3}, "members": 20, "seed": 11,
               "chunk_points": 2}
    again = sweep(mapping, tmp_path / "from-mapping")
    assert again.frame.equals(result.frame)


def test_a_scenario_file_beside_the_spec_is_read(tmp_path, capsys):
    folder = with_episode_sources(tmp_path / "episode", LIBRARY_2019)
    (folder / "scenario.yaml").write_bytes(LIBRARY_2019.read_bytes())
    a = _spec(tmp_path, "by-name")
    b = _spec(tmp_path, "by-path", scenario="episode/scenario.yaml")
    assert main(["sweep", str(a), "--quiet"]) == 0 and main(["sweep", str(b), "--quiet"]) == 0
    assert _dataset(tmp_path / "by-name").equals(_dataset(tmp_path / "by-path"))


def test_an_unknown_parameter_is_located_with_the_nearest_names(tmp_path, capsys):
    spec = _spec(tmp_path, "bad", parameters={"termination_notice.united_states.salince": [0, 1]})
    line = _refused(capsys, ["sweep", str(spec), "--quiet"])
    assert line.startswith(f"diplosim: error: {spec}:4: "
                           "parameters.termination_notice.united_states.salince: "), line
    assert "nearest valid names: termination_notice.united_states.salience" in line
    assert not (tmp_path / "bad").exists()


def test_an_unknown_spec_key_is_located_with_the_nearest_names(tmp_path, capsys):
    spec = _spec(tmp_path, "bad")
    spec.write_text(spec.read_text().replace("members:", "membres:"))
    line = _refused(capsys, ["sweep", str(spec), "--quiet"])
    where = next(i for i, row in enumerate(spec.read_text().splitlines(), 1)
                 if row.startswith("membres"))
    assert line.startswith(f"diplosim: error: {spec}:{where}: membres: unknown key"), line
    assert "nearest valid names: members" in line
    spec.write_text(spec.read_text().replace("membres:", "members:").replace("levels:", "level:"))
    assert "design.level: unknown key 'level'; nearest valid names: levels" in _refused(
        capsys, ["sweep", str(spec), "--quiet"])


def test_an_unknown_episode_names_the_nearest(tmp_path, capsys):
    spec = _spec(tmp_path, "bad", scenario="gsomia_2091")
    line = _refused(capsys, ["sweep", str(spec), "--quiet"])
    assert f"{spec}:2: scenario: " in line and "gsomia_2019" in line


def test_a_model_2_spec_or_scenario_gets_what_to_change(tmp_path, capsys):
    old = _spec(tmp_path, "old")
    old.write_text(old.read_text().replace("diplosim-sweep/3", "diplosim-sweep/1"))
    line = _refused(capsys, ["sweep", str(old), "--quiet"])
    assert f"{old}:1: format: is a Model 2 sweep spec" in line and "diplosim-sweep/3" in line
    model_2 = tmp_path / "model_2.yaml"
    model_2.write_text("format: diplosim/2\nid: old\n", encoding="utf-8")
    two = _spec(tmp_path, "two", scenario=model_2)
    line = _refused(capsys, ["sweep", str(two), "--quiet"])
    assert f"{two}:2: scenario: " in line and "diplosim/2" in line


def test_bounds_outside_a_stake_or_an_effect_are_refused(tmp_path, capsys):
    spec = _spec(tmp_path, "bad", parameters={PATRON_LATE: [0.0, 1.5]})
    assert "[0, 1]" in _refused(capsys, ["sweep", str(spec), "--quiet"])
    spec = _spec(tmp_path, "bad", parameters={"event.milley_visit.0": [-1.0, 1.0]}, levels=2)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    spec = _spec(tmp_path, "bad2", parameters={"event.milley_visit.0": [-2.0, 1.0]})
    assert "[-1, 1]" in _refused(capsys, ["sweep", str(spec), "--quiet"])
    with pytest.raises(ScenarioError):
        load_spec(_spec(tmp_path, "bad3", method="latin"))


def test_chunks_where_no_member_reached_a_decision_assemble(tmp_path, capsys):
    """A point whose members all renew never reaches the later decisions: its median is null,
    and its chunk has the same column types as one where members reached them."""
    spec = _spec(tmp_path, "n", parameters={PATRON_EARLY: [0.0, 1.0]}, levels=2, members=2,
                 chunk=1, seed=1)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    table = _dataset(tmp_path / "n")
    hours = table.column("median_hours_before_deadline.termination_takes_effect")
    assert pa.types.is_float64(hours.type)
    assert 0 < hours.null_count < table.num_rows, hours.to_pylist()
