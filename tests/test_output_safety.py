"""Output safety: what a command may do with the folder it is told to write, and how every way
out of a write (an error, a full disk, Ctrl-C, SIGTERM, a kill) leaves no trace.

The policy (sim/outputs/output_folder.py) is the same for ``run --out``, the sweep spec's ``out``,
``validate --report``, ``counterfactual --out``, ``sensitivity --out`` and ``calibrate --out``:
a new or empty folder is written, an earlier result of the same kind is replaced (and the
command says so), another kind only with ``--force``, and anything else is refused with one
located line and left exactly as it was.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import ROOT, SCENARIO_2012, SCENARIO_2019

OVERLAY_2012 = ROOT / "scenarios" / "counterfactuals" / "no_election_2012.yaml"


# -- helpers ----------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder`` (links not followed): its kind, and a file's bytes' hash."""
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = ("link", os.readlink(path))
        elif path.is_file():
            found[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
        elif path.is_dir():
            found[key] = ("folder",)
        else:
            found[key] = ("special", os.lstat(path).st_mode)
    return found


def refused(capsys, argv: list[str]) -> str:
    """Run a command expected to be refused: exit 2, one line on stderr, no traceback."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diplosim: error: "), err
    assert "Traceback" not in err
    return lines[0]


def staging_left(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def _thesis(tmp_path: Path) -> Path:
    folder = tmp_path / "thesis"
    (folder / "figures").mkdir(parents=True)
    (folder / "thesis.tex").write_text("\\documentclass{article}\n")
    (folder / "figures" / "plot.pdf").write_bytes(b"%PDF-1.4 not really\n")
    return folder


def _regular_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    return path


def _link_to_folder(tmp_path: Path) -> Path:
    target = _thesis(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(target)
    return link


def _dangling_link(tmp_path: Path) -> Path:
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    return link


_HELD: list[int] = []  # open ends of the test's pipes


@pytest.fixture(autouse=True)
def _close_held_pipes():
    yield
    while _HELD:
        os.close(_HELD.pop())


def _fifo(tmp_path: Path) -> Path:
    """A named pipe, held open at both ends so that code opening it cannot block forever (the
    old code did, replacing it and then opening it to remove it)."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    _HELD.append(os.open(path, os.O_RDWR | os.O_NONBLOCK))
    return path


def _socket(tmp_path: Path) -> Path:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return path


HOSTILE_TARGETS = {
    "a folder of someone else's files": _thesis,
    "a regular file": _regular_file,
    "a link to a folder": _link_to_folder,
    "a dangling link": _dangling_link,
    "a named pipe": _fifo,
    "a socket": _socket,
}

COMMANDS = {
    "run": lambda out: ["run", str(SCENARIO_2012), "--runs", "5", "--quiet", "--out", out],
    "validate": lambda out: ["validate", str(SCENARIO_2012), "--runs", "5", "--quiet",
                             "--report", out],
    "counterfactual": lambda out: ["counterfactual", str(OVERLAY_2012), "--runs", "5",
                                   "--out", out],
    "sensitivity": lambda out: ["sensitivity", str(SCENARIO_2012), "--samples", "2",
                                "--members", "2", "--quiet", "--out", out],
}


def _spec(tmp_path: Path, out: str, *, scenario: str | None = None, bounds: str = "[0.3, 0.7]",
          samples: int = 8, chunk: int = 2, name: str = "spec.yaml") -> Path:
    spec = tmp_path / name
    spec.write_text(
        "format: diplosim-sweep/3\n"
        f"scenario: {scenario or 'gsomia_2012'}\n"
        "parameters:\n"
        "  signing.united_states.salience: [0.0, 1.0]\n"
        f"  signing.public.position: {bounds}\n"
        "design:\n"
        "  method: lhs\n"
        f"  samples: {samples}\n"
        "members: 5\n"
        "seed: 3\n"
        f"chunk_points: {chunk}\n"
        f"out: {out}\n"
    )
    return spec


# -- the policy: what is refused, and left untouched --------------------------------------------


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
@pytest.mark.parametrize("make", list(HOSTILE_TARGETS.values()), ids=list(HOSTILE_TARGETS))
def test_anything_but_a_diplosim_folder_is_refused_and_untouched(command, make, tmp_path, capsys):
    target = make(tmp_path)
    before = snapshot(tmp_path)
    for force in ([], ["--force"]):  # --force never lets these be replaced
        line = refused(capsys, [*COMMANDS[command](str(target)), *force])
        assert str(target) in line and "expected" in line
        assert snapshot(tmp_path) == before, "the target or something beside it changed"


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_refused_and_stays_a_device(tmp_path, capsys):
    device = tmp_path / "null"
    os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))  # a copy of /dev/null
    line = refused(capsys, COMMANDS["run"](str(device)))
    assert "character device" in line
    assert os.lstat(device).st_mode & 0o170000 == 0o020000
    assert staging_left(tmp_path) == []


def test_empty_out_is_refused(tmp_path, capsys):
    line = refused(capsys, COMMANDS["run"](""))
    assert "--out" in line and "empty" in line


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_out_whose_parent_cannot_be_written_is_one_line(capsys):
    line = refused(capsys, COMMANDS["run"]("/proc/diplosim-x"))
    assert "/proc" in line and "cannot be written" in line


def test_schema_out_unwritable_or_not_a_file_is_one_line(tmp_path, capsys):
    if Path("/proc/self").exists():
        assert "/proc/x.json" in refused(capsys, ["schema", "--out", "/proc/x.json"])
    fifo = _fifo(tmp_path)
    notes = _regular_file(tmp_path)
    before = snapshot(tmp_path)
    assert "named pipe" in refused(capsys, ["schema", "--out", str(fifo)])
    assert "did not write" in refused(capsys, ["schema", "--out", str(notes)])
    assert snapshot(tmp_path) == before
    schema = tmp_path / "deeper" / "scenario.schema.json"
    assert main(["schema", "--out", str(schema)]) == 0
    assert main(["schema", "--out", str(schema)]) == 0  # an earlier copy is replaced
    assert json.loads(schema.read_text())["title"] == "diplosim scenario"


# -- the policy: what is written, replaced, and said --------------------------------------------


def test_new_and_empty_folders_are_written(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "a" / "b" / "new", empty):
        assert main(COMMANDS["run"](str(out))) == 0
        assert (out / "runs.csv").is_file()
        assert "replaced" not in capsys.readouterr().out
    assert staging_left(tmp_path) == [] and staging_left(tmp_path / "a" / "b") == []


def test_an_earlier_result_of_the_same_kind_is_replaced_and_said(tmp_path, capsys):
    out = tmp_path / "result"
    assert main(COMMANDS["run"](str(out))) == 0
    assert main(["report", str(out)]) == 0  # diplosim's report (report.sha256 vouches for it)
    capsys.readouterr()
    assert main(["run", str(SCENARIO_2019), "--runs", "3", "--quiet", "--out", str(out)]) == 0
    assert f"replaced the earlier run result in {out}" in capsys.readouterr().out
    assert not (out / "report.md").exists(), "a replaced folder is replaced whole"
    assert json.loads((out / "manifest.json").read_text())["scenario_id"] == "gsomia_2019"
    assert staging_left(tmp_path) == []


def test_an_old_run_manifest_without_kind_still_counts_as_a_run(tmp_path, capsys):
    out = tmp_path / "example"
    shutil.copytree(ROOT / "results" / "example", out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("kind", None)  # as manifests were written before they said it
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(COMMANDS["run"](str(out))) == 0
    assert "replaced the earlier run result" in capsys.readouterr().out


def test_an_old_run_manifest_without_hashes_vouches_for_nothing(tmp_path, capsys):
    """A manifest written before manifests gave each file's SHA-256 cannot tell an edited table
    from its own: the run is recognised, but its files are named and kept."""
    out = tmp_path / "example"
    shutil.copytree(ROOT / "results" / "example", out)
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("kind", "sha256"):
        manifest.pop(key, None)
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(tmp_path)
    line = refused(capsys, COMMANDS["run"](str(out)))
    assert "earlier run result" in line and "runs.csv (added)" in line
    assert snapshot(tmp_path) == before


def test_another_kind_is_replaced_only_with_force(tmp_path, capsys):
    out = tmp_path / "validated"
    assert main(COMMANDS["validate"](str(out))) == 0
    capsys.readouterr()
    before = snapshot(tmp_path)
    line = refused(capsys, COMMANDS["run"](str(out)))
    assert "validation result" in line and "--force" in line
    assert snapshot(tmp_path) == before
    assert main([*COMMANDS["run"](str(out)), "--force"]) == 0
    assert "replaced the earlier validation result" in capsys.readouterr().out
    assert (out / "runs.csv").is_file() and not (out / "validation.json").exists()


def _assert_manifest(folder: Path, kind: str) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == kind and manifest["package"] == "diplosim"
    listed = manifest["files"]
    hashes = manifest["sha256"]
    assert hashes, "a manifest lists the SHA-256 of its data files"
    for name, digest in hashes.items():
        assert any(name == f or name.startswith(f) for f in listed)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    for name in listed:
        if not name.endswith("/"):
            assert name in hashes
    return manifest


@pytest.mark.parametrize("command,kind", [
    ("run", "run"), ("validate", "validation"), ("counterfactual", "counterfactual"),
    ("sensitivity", "sensitivity"),
])
def test_every_manifest_carries_its_kind_and_hashes(command, kind, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(COMMANDS[command](str(out))) == 0
    manifest = _assert_manifest(out, kind)
    if kind == "validation":
        assert any(name.startswith("runs/") for name in manifest["sha256"])


def test_a_sweep_manifest_carries_its_kind_and_hashes(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    assert main(["sweep", str(_spec(tmp_path, "sweep-out")), "--quiet"]) == 0
    _assert_manifest(tmp_path / "sweep-out", "sweep")


# -- faults: a full disk, other write errors, stale staging -------------------------------------


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_during_run_is_one_line_and_removes_the_staging(tmp_path, capsys, monkeypatch):
    import sim.outputs.results

    calls = {"n": 0}
    real = sim.outputs.results.ResultWriter._parquet_add

    def fill_then_fail(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:  # runs.csv, draws.csv and runs.parquet hold a block by now
            _full_disk()
        return real(self, *args)

    monkeypatch.setattr(sim.outputs.results.ResultWriter, "_parquet_add", fill_then_fail)
    out = tmp_path / "deep" / "result"
    line = refused(capsys, ["run", str(SCENARIO_2012), "--runs", "50", "--quiet", "--out",
                            str(out)])
    assert line.startswith(f"diplosim: error: no space left writing {out}")
    assert calls["n"] == 2
    assert list(tmp_path.iterdir()) == [], "staging folder or created parents left behind"


def test_disk_full_during_a_staged_report_removes_it(tmp_path, capsys, monkeypatch):
    import sim.outputs.output_folder

    monkeypatch.setattr(sim.outputs.output_folder, "write_manifest", _full_disk)
    out = tmp_path / "comparison"
    line = refused(capsys, COMMANDS["counterfactual"](str(out)))
    assert line.startswith(f"diplosim: error: no space left writing {out}")
    assert list(tmp_path.iterdir()) == []


def test_other_write_errors_name_the_path(tmp_path, capsys, monkeypatch):
    import sim.outputs.results

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x"))

    monkeypatch.setattr(sim.outputs.results, "write_manifest", denied)
    line = refused(capsys, COMMANDS["run"](str(tmp_path / "out")))
    assert f"cannot write {tmp_path / 'x'}: Permission denied" in line
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_staging_of_a_killed_run_does_not_block_the_next(tmp_path, capsys):
    stale = tmp_path / f".result.diplosim-staging-{_dead_pid()}-0123abcd"
    stale.mkdir()
    (stale / "runs.csv").write_bytes(b"x" * 100_000)
    assert main(COMMANDS["run"](str(tmp_path / "result"))) == 0
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_a_live_runs_staging_is_left_alone(tmp_path, capsys):
    live = tmp_path / f".result.diplosim-staging-{os.getppid()}-0123abcd"
    live.mkdir()
    assert main(COMMANDS["run"](str(tmp_path / "result"))) == 0
    assert live.is_dir()


# -- signals ------------------------------------------------------------------------------------


def _start_long_run(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "result"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", str(SCENARIO_2019), "--runs", "5000000",
         "--quiet", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        # as at a terminal, even when the tests run where Ctrl-C is ignored (a background job)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 60
    # signal once the first block of runs is in the staging folder: well inside the runs (and
    # past any compiling at start-up, where a Ctrl-C may go unseen)
    while not any(p.name.startswith(".result.") and (p / "runs.csv").is_file()
                  and (p / "runs.csv").stat().st_size > 10_000 for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.02)
    return proc, out


@pytest.mark.parametrize("signum,code,word", [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
])
def test_a_signal_during_run_out_is_one_line_and_leaves_nothing(signum, code, word, tmp_path):
    proc, out = _start_long_run(tmp_path)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"diplosim: {word}"), err
    assert f"nothing was written to {out}" in lines[0]
    assert list(tmp_path.iterdir()) == [], "a staging folder was left behind"


def test_ctrl_c_during_a_sweep_keeps_finished_chunks_and_resumes(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pyarrow")
    import sim.experiments.sweep

    spec = _spec(tmp_path, "sweep-out", samples=10, chunk=2)
    real = sim.experiments.sweep._write_parquet_atomically
    written = {"n": 0}

    def two_then_ctrl_c(columns, path, *metadata):
        if written["n"] == 2:
            raise KeyboardInterrupt
        written["n"] += 1
        real(columns, path, *metadata)

    monkeypatch.setattr(sim.experiments.sweep, "_write_parquet_atomically", two_then_ctrl_c)
    try:
        code = main(["sweep", str(spec), "--quiet"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped as a traceback")
    err = capsys.readouterr().err
    assert code == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and "2 of 5 chunks" in lines[0]
    assert "resume" in lines[0]
    chunks = tmp_path / "sweep-out" / "chunks"
    assert sorted(p.name for p in chunks.iterdir()) == ["chunk-000000.parquet",
                                                        "chunk-000001.parquet"]
    monkeypatch.setattr(sim.experiments.sweep, "_write_parquet_atomically", real)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    assert "resuming: 2 of 5 chunks already finished" in capsys.readouterr().out


def test_disk_full_during_a_sweep_keeps_finished_chunks(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pyarrow")
    import sim.experiments.sweep

    spec = _spec(tmp_path, "sweep-out", samples=10, chunk=2)
    real = sim.experiments.sweep._write_parquet_atomically
    written = {"n": 0}

    def three_then_full(columns, path, *metadata):
        if written["n"] == 3:
            _full_disk()
        written["n"] += 1
        real(columns, path, *metadata)

    monkeypatch.setattr(sim.experiments.sweep, "_write_parquet_atomically", three_then_full)
    line = refused(capsys, ["sweep", str(spec), "--quiet"])
    assert "no space left writing" in line and "3 of 5 chunks" in line and "resume" in line
    monkeypatch.setattr(sim.experiments.sweep, "_write_parquet_atomically", real)
    assert main(["sweep", str(spec), "--quiet"]) == 0
    assert "resuming: 3 of 5" in capsys.readouterr().out


# -- sweeps: the spec's out, bounds, base scenario and scheduler ----------------------------------


def _line_of(spec: Path, key: str) -> int:
    return next(i for i, line in enumerate(spec.read_text().splitlines(), 1)
                if line.strip().startswith(f"{key}:"))


@pytest.mark.parametrize("make", [_regular_file, _thesis, _link_to_folder, _fifo],
                         ids=["regular file", "foreign folder", "link", "named pipe"])
def test_sweep_out_that_is_not_a_sweep_folder_is_located_and_untouched(make, tmp_path, capsys):
    target = make(tmp_path)
    spec = _spec(tmp_path, target.name)
    before = snapshot(tmp_path)
    for force in ([], ["--force"]):
        line = refused(capsys, ["sweep", str(spec), "--quiet", *force])
        assert line.startswith(f"diplosim: error: {spec}:{_line_of(spec, 'out')}: out: ")
        assert str(target) in line
        assert snapshot(tmp_path) == before


def test_a_different_unfinished_sweep_is_replaced_only_with_force(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pyarrow")
    import sim.experiments.sweep

    first = _spec(tmp_path, "sweep-out", samples=10, name="first.yaml")
    monkeypatch.setattr(sim.experiments.sweep, "_write_parquet_atomically", _full_disk)
    refused(capsys, ["sweep", str(first), "--quiet"])  # leaves an unfinished sweep
    monkeypatch.undo()
    second = _spec(tmp_path, "sweep-out", samples=6, name="second.yaml")
    line = refused(capsys, ["sweep", str(second), "--quiet"])
    assert "different unfinished sweep" in line and "--force" in line
    assert main(["sweep", str(second), "--quiet", "--force"]) == 0
    assert "replaced the earlier unfinished sweep result" in capsys.readouterr().out


def test_a_reversed_sweep_bound_is_located_at_its_line(tmp_path, capsys):
    spec = _spec(tmp_path, "sweep-out", bounds="[0.8, 0.3]")
    line = refused(capsys, ["sweep", str(spec), "--quiet"])
    where = _line_of(spec, "signing.public.position")
    assert line.startswith(f"diplosim: error: {spec}:{where}: "
                           "parameters.signing.public.position: ")
    assert "lo < hi" in line


def test_a_missing_base_scenario_names_the_spec_and_its_line(tmp_path, capsys):
    spec = _spec(tmp_path, "sweep-out", scenario="no-such-scenario.yaml")
    line = refused(capsys, ["sweep", str(spec), "--quiet"])
    assert line.startswith(f"diplosim: error: {spec}:{_line_of(spec, 'scenario')}: scenario: ")
    assert "no-such-scenario.yaml" in line
    assert not (tmp_path / "sweep-out").exists()


def test_a_scheduler_that_does_not_answer_is_one_line_in_bounded_time(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    spec = _spec(tmp_path, "sweep-out")
    silent = socket.socket()  # accepts connections (the kernel's backlog) but never speaks
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    started = time.perf_counter()
    try:
        line = refused(capsys, ["sweep", str(spec), "--quiet", "--scheduler", address,
                                "--connect-timeout", "1"])
    finally:
        silent.close()
    assert time.perf_counter() - started < 15
    assert line.startswith(f"diplosim: error: --scheduler {address}: ")
    assert "within 1 s" in line
