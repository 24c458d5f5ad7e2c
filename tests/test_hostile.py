"""The hostile corpus: every kind of input the tool reads, given something wrong.

Each case asserts what a user relies on when a file or an argument is bad: a non-zero exit, one
located message on stderr that names the file at fault (and the file that referred to it), no
Python traceback, nothing written or removed anywhere under the working folder, and a quick
answer. The kinds: scenario, overlay, sweep spec, constants, results folders given to
``report``, and command-line arguments. Hostile *files* are applied to every YAML kind alike,
since they all go through the same reader.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from sim.cli import main
from tests.conftest import ROOT, SCENARIO_2019, SOURCES, with_episode_sources

ERROR_LINE = re.compile(r"^diplosim(?: [a-z-]+)?: error: ")
SECONDS = 10  # a case that has not answered by then has failed

# -- the hostile texts, one per class, applied to every YAML input kind ---------------------------

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)
WIDE_ALIASES = "a: &a [" + ", ".join(["0"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 10_000) + "]\n"
DEEP = "a: " + "[" * 10_000 + "]" * 10_000 + "\n"

HOSTILE_TEXTS: dict[str, bytes] = {
    "empty": b"",
    "only a comment": b"# nothing here\n",
    "a list, not a mapping": b"- 1\n- 2\n",
    "a scalar": b"just words\n",
    "syntax error": b"a: [1, 2\nb: 3\n",
    "tab indentation": b"a:\n\tb: 1\n",
    "duplicate key": b"format: x\nformat: y\n",
    "python tag": b"a: !!python/object/apply:os.system ['echo pwned']\n",
    "custom tag": b"a: !secret 1\n",
    "not UTF-8": b"a: \xff\xfe\xfd\n",
    "NUL bytes": b"a: 1\n\x00\x00\n",
    "month 13": b"a: 2019-13-45\n",
    "year zero": b"a: 0000-01-01\n",
    "30 February": b"a: 2020-02-30T00:00:00+09:00\n",
    "offset +99:00": b"a: 2019-08-22T10:00:00+99:00\n",
    "alias bomb": ALIAS_BOMB.encode(),
    "aliases expanding to millions": WIDE_ALIASES.encode(),
    "nested 10,000 deep": DEEP.encode(),
}

SPECIAL_PATHS = {
    "missing file": lambda tmp: tmp / "no-such-file.yaml",
    "a folder": lambda tmp: _mkdir(tmp / "a-folder.yaml"),
    "oversized file": lambda tmp: _write(tmp / "huge.yaml", b"a: " + b"x" * 60_000_000 + b"\n"),
}


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- the input kinds: how a hostile file reaches the tool ------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One input kind: the command line that reads ``bad`` and the file the message must name
    besides it (a referring file), if any."""

    name: str
    argv: Callable[[Path, Path], list[str]]  # (bad file, work folder) -> argv
    referrer: Callable[[Path, Path], Path | None] = lambda bad, work: None


def _overlay_for(base: Path, work: Path) -> Path:
    overlay = work / "overlay.yaml"
    overlay.write_text(
        "format: diplosim-overlay/3\nid: probe\n"
        f"base: {os.path.relpath(base, work)}\n"
        "question: q\nwhat_to_look_for: the last decision\n",
        encoding="utf-8",
    )
    return overlay


def _spec_for(scenario: Path, work: Path) -> Path:
    spec = work / "spec.yaml"
    spec.write_text(
        "format: diplosim-sweep/3\n"
        f"scenario: {os.path.relpath(scenario, work)}\n"
        "parameters:\n  termination_notice.united_states.salience: [0.0, 1.0]\n"
        "design:\n  method: grid\n  levels: 2\n"
        "members: 2\nseed: 1\nout: sweep-out\n",
        encoding="utf-8",
    )
    return spec


def _copy_scenario(work: Path) -> Path:
    return Path(shutil.copy(SCENARIO_2019, with_episode_sources(work) / "base.yaml"))


KINDS = [
    Kind("scenario", lambda bad, work: ["run", str(bad), "--runs", "2", "--quiet",
                                        "--out", str(work / "out")]),
    Kind("scenario (check)", lambda bad, work: ["check", str(bad)]),
    Kind("overlay", lambda bad, work: ["counterfactual", str(bad), "--runs", "2",
                                       "--out", str(work / "out")]),
    Kind("overlay's base scenario",
         lambda bad, work: ["counterfactual", str(_overlay_for(bad, work)), "--runs", "2"],
         referrer=lambda bad, work: work / "overlay.yaml"),
    Kind("sweep spec", lambda bad, work: ["sweep", str(bad), "--quiet"]),
    Kind("sweep's scenario", lambda bad, work: ["sweep", str(_spec_for(bad, work)), "--quiet"],
         referrer=lambda bad, work: work / "spec.yaml"),
    Kind("constants", lambda bad, work: ["run", str(_copy_scenario(work)), "--runs", "2",
                                         "--quiet", "--constants", str(bad),
                                         "--out", str(work / "out")]),
    Kind("constants (calibrate)", lambda bad, work: ["calibrate", "--constants", str(bad),
                                                     "--design-log2", "2", "--quiet"]),
]


# -- the checks every case shares ---------------------------------------------------------------


class TookTooLong(Exception):
    pass


@contextmanager
def time_limit(seconds: int):
    """Fail a case that hangs (an alias bomb, a blocking read) instead of hanging the suite."""

    def expire(signum, frame):
        raise TookTooLong(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with a digest of its content (folders as 'dir')."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[key] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[key] = "dir"
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "special"
    return found


def invoke(argv: list[str], capsys) -> tuple[int, str]:
    """Run the command line in this process; (exit code, stderr). A traceback is a failure."""
    try:
        with time_limit(SECONDS):
            code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    return code, captured.err


def assert_refused(code: int, err: str, *names: str) -> None:
    """Non-zero exit; exactly one error line, naming every file in ``names``; no traceback."""
    assert code not in (0, None), f"exit code {code}; stderr: {err!r}"
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if ERROR_LINE.match(line)]
    others = [line for line in err.splitlines()
              if line.strip() and not ERROR_LINE.match(line)
              and not line.startswith(("usage:", "  ", "diplosim: warning:"))]
    assert len(errors) == 1, f"expected one error line, got: {err!r}"
    assert not others, f"unexpected lines beside the error: {others}"
    for name in names:
        assert name in errors[0], f"{name!r} not named in: {errors[0]}"


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder the command runs in; the sources are those of the project when found."""
    monkeypatch.chdir(tmp_path)
    if SOURCES:
        monkeypatch.setenv("DIPLOSIM_SOURCES", SOURCES)
    return tmp_path


def _expect_quiet_refusal(argv: list[str], work: Path, capsys, *names: str) -> None:
    before = snapshot(work)
    project_before = snapshot(ROOT / "calibration")
    code, err = invoke(argv, capsys)
    assert_refused(code, err, *names)
    assert snapshot(work) == before, "files were written or removed"
    assert snapshot(ROOT / "calibration") == project_before


# -- hostile files, every kind ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
@pytest.mark.parametrize("text", list(HOSTILE_TEXTS), ids=list(HOSTILE_TEXTS))
def test_hostile_text_is_refused_with_one_located_line(kind, text, work, capsys):
    bad = work / "bad.yaml"
    bad.write_bytes(HOSTILE_TEXTS[text])
    argv = kind.argv(bad, work)
    referrer = kind.referrer(bad, work)
    names = [bad.name] + ([referrer.name] if referrer else [])
    _expect_quiet_refusal(argv, work, capsys, *names)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
@pytest.mark.parametrize("special", list(SPECIAL_PATHS), ids=list(SPECIAL_PATHS))
def test_unreadable_path_is_refused(kind, special, work, capsys):
    bad = SPECIAL_PATHS[special](work)
    argv = kind.argv(bad, work)
    referrer = kind.referrer(bad, work)
    names = [bad.name] + ([referrer.name] if referrer else [])
    _expect_quiet_refusal(argv, work, capsys, *names)


# Reading a device or a FIFO blocks or never ends: these run in a child process with a bounded
# address space and time, so a regression fails the case instead of exhausting the machine.
STREAMS = {
    "run /dev/zero": lambda work: ["run", "/dev/zero", "--runs", "2", "--quiet"],
    "overlay base /dev/zero": lambda work: ["counterfactual", str(_overlay_for(Path("/dev/zero"), work)),
                                            "--runs", "2"],
    "constants /dev/zero": lambda work: ["run", str(_copy_scenario(work)), "--runs", "2", "--quiet",
                                         "--constants", "/dev/zero"],
    "run a FIFO": lambda work: (os.mkfifo(work / "pipe.yaml"), ["run", str(work / "pipe.yaml"),
                                                                "--runs", "2", "--quiet"])[1],
    "sweep a FIFO": lambda work: (os.mkfifo(work / "pipe.yaml"), ["sweep", str(work / "pipe.yaml")])[1],
}


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


@pytest.mark.parametrize("case", list(STREAMS), ids=list(STREAMS))
def test_devices_and_fifos_are_refused_without_reading_them(case, work):
    argv = STREAMS[case](work)
    before = snapshot(work)
    try:
        done = subprocess.run([sys.executable, "-m", "sim.cli", *argv], cwd=work, capture_output=True,
                              text=True, timeout=30, preexec_fn=_limit_memory, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case}: no answer within 30 s")
    assert_refused(done.returncode, done.stderr)
    assert snapshot(work) == before


# -- command-line arguments ---------------------------------------------------------------------

ARGUMENTS = {
    "negative seed": ["run", "SCENARIO", "--seed", "-1", "--runs", "2"],
    "huge seed": ["run", "SCENARIO", "--seed", str(2**200), "--runs", "2"],
    "seed not a number": ["run", "SCENARIO", "--seed", "one"],
    "zero runs": ["run", "SCENARIO", "--runs", "0"],
    "runs beyond the maximum": ["run", "SCENARIO", "--runs", str(10**12)],
    "validate negative seed": ["validate", "SCENARIO", "--seed", "-5", "--runs", "2"],
    "counterfactual negative seed": ["counterfactual", "OVERLAY", "--seed", "-1", "--runs", "2"],
    "counterfactual huge runs": ["counterfactual", "OVERLAY", "--runs", str(10**12)],
    "sensitivity zero samples": ["sensitivity", "SCENARIO", "--samples", "0"],
    "sensitivity huge members": ["sensitivity", "SCENARIO", "--members", str(10**12)],
    "discover one run": ["discover", "SCENARIO", "--outcome", "terminate", "--points", "1",
                         "--members", "1"],
    "discover zero points": ["discover", "SCENARIO", "--outcome", "terminate", "--points", "0"],
    "discover threshold 2": ["discover", "SCENARIO", "--outcome", "terminate", "--threshold", "2"],
    "discover unknown outcome": ["discover", "SCENARIO", "--outcome", "surrender", "--points", "50"],
    "sweep zero workers": ["sweep", "SPEC", "--workers", "0"],
    "app port out of range": ["app", "--port", "99999"],
    "empty --out": ["run", "SCENARIO", "--runs", "2", "--out", ""],
    "--out under /proc": ["run", "SCENARIO", "--runs", "2", "--out", "/proc/diplosim-x"],
    "schema --out under /proc": ["schema", "--out", "/proc/diplosim-x.json"],
    "report on a missing folder": ["report", "no-such-folder"],
    "unknown command": ["frobnicate"],
}


@pytest.mark.parametrize("case", list(ARGUMENTS), ids=list(ARGUMENTS))
def test_bad_arguments_are_refused(case, work, capsys):
    scenario = _copy_scenario(work)
    overlay = _overlay_for(scenario, work)
    spec = _spec_for(scenario, work)
    swap = {"SCENARIO": str(scenario), "OVERLAY": str(overlay), "SPEC": str(spec)}
    argv = [swap.get(a, a) for a in ARGUMENTS[case]]
    _expect_quiet_refusal(argv, work, capsys)


# -- results folders given to `report` ----------------------------------------------------------


def _run_folder(work: Path, capsys) -> Path:
    out = work / "result"
    assert main(["run", str(_copy_scenario(work)), "--runs", "5", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def _edit_manifest(folder: Path, change: Callable[[dict], object]) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _drop_rows(folder: Path) -> None:
    lines = (folder / "runs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "runs.csv").write_text("".join(lines[:3]), encoding="utf-8")


RESULT_FOLDERS = {
    "manifest is not JSON": lambda f: (f / "manifest.json").write_text("{not json", encoding="utf-8"),
    "manifest is a list": lambda f: (f / "manifest.json").write_text("[1, 2]", encoding="utf-8"),
    "manifest runs is text": lambda f: _edit_manifest(f, lambda m: m.update(runs="five")),
    "manifest says more runs than the table holds": lambda f: _edit_manifest(f, lambda m: m.update(runs=500)),
    "runs.csv lost rows": _drop_rows,
    "runs.csv is garbage": lambda f: (f / "runs.csv").write_bytes(b"\x00\xff garbage"),
    "runs.csv missing": lambda f: (f / "runs.csv").unlink(),
    "runs.parquet truncated": lambda f: (f / "runs.parquet").write_bytes(
        (f / "runs.parquet").read_bytes()[:100]),
    "scenario_file points outside": lambda f: _edit_manifest(
        f, lambda m: m.update(scenario_file="../../../../../../etc/passwd", scenario_sha256=None)),
}


@pytest.mark.parametrize("case", list(RESULT_FOLDERS), ids=list(RESULT_FOLDERS))
def test_damaged_results_folder_is_refused_by_report(case, work, capsys):
    folder = _run_folder(work, capsys)
    RESULT_FOLDERS[case](folder)
    _expect_quiet_refusal(["report", str(folder)], work, capsys, folder.name)


def test_garbage_sweep_dataset_is_refused_by_report(work, capsys):
    folder = work / "sweep"
    folder.mkdir()
    (folder / "sweep.json").write_text("{}", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"kind": "sweep", "spec_sha256": "0" * 64}),
                                          encoding="utf-8")
    (folder / "dataset.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    _expect_quiet_refusal(["report", str(folder)], work, capsys, "sweep")


def test_report_never_copies_a_file_from_outside_the_results(work, capsys):
    """Whatever a manifest names, no byte of a file outside the results reaches the report."""
    folder = _run_folder(work, capsys)
    secret = work.parent / f"{work.name}-secret.yaml"
    secret.write_text("SECRET-LINE-THAT-MUST-NOT-LEAK\n", encoding="utf-8")
    try:
        _edit_manifest(folder, lambda m: m.update(scenario_file=f"../../{work.name}-secret.yaml",
                                                  scenario_sha256=None))
        try:
            with time_limit(60):
                code = main(["report", str(folder)])
        except SystemExit as exc:
            code = exc.code
        capsys.readouterr()
        for path in folder.rglob("*"):
            if path.is_file():
                assert b"SECRET-LINE" not in path.read_bytes(), f"leaked into {path.name} (exit {code})"
    finally:
        secret.unlink()
