"""Hostile inputs: every kind of file and argument is refused quickly with one located line.

Each class of hostile input (impossible dates, alias bombs, deep nesting, files that are not
regular or too large, source paths leading out of the sources folder, overlay values outside
the scenario's bounds, out-of-range seeds and counts) is tried on every input kind that can
carry it: a scenario, an overlay, a sweep spec, the constants, the targets, and a scenario that
an overlay or the targets name. Each must exit with code 2 and one line naming the file (and
the file that refers to it), with no traceback, nothing written, and within a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli import main
from sim.formats.yamlmap import load_with_lines
from tests.conftest import ROOT, SCENARIO_2019

VALID = SCENARIO_2019.read_text(encoding="utf-8")
CONSTANTS = ROOT / "calibration" / "constants3.yaml"
OVERLAY_2019 = ROOT / "library" / "gsomia_2019" / "counterfactuals" / "no_us_pressure_2019.yaml"


class TookTooLong(Exception):
    """A command still running when it should long have refused its input."""


@contextmanager
def _within(seconds: float) -> Iterator[None]:
    """Fail (rather than hang or fill memory) if the block runs longer than ``seconds``."""

    def stop(signum, frame):
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


def _assert_one_located_line(err: str, names: list[str]) -> str:
    """The refusal is one ``diplosim: error:`` line naming every file in ``names``, the first
    with a line number or as a whole file, and no traceback."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diplosim: error: "), err
    for name in names:
        assert name in lines[0], (name, err)
    return lines[0]


# ---------------------------------------------------------------------------------------------
# The input kinds: each writes the hostile file where a command reads it
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of input file: its valid text, the command that reads it, and a line of the
    valid text to replace (with the key path that line holds)."""

    name: str
    valid: Callable[[Path], str]
    command: Callable[[Path], list[str]]
    date_line: tuple[str, str, str]  # line to replace, replacement with {date}, key path
    file: str  # name of the file that carries the hostile text
    referrer: str | None = None  # name of the file that names it, written valid


SETTING_VALUE = "    value: 0.5\n"  # the overlay line a hostile date replaces
SETTING_KEY = "termination_takes_effect.united_states.salience"


def _overlay_text(base: Path | str, setting: str | None = None) -> str:
    """A valid diplosim-overlay/3 file on ``base``, setting one drawn quantity (``setting``,
    the ``set:`` block, replaces the default one)."""
    setting = setting or f"set:\n  {SETTING_KEY}:\n{SETTING_VALUE}    note: A probe.\n"
    return (
        f"format: diplosim-overlay/3\nid: hostile\nbase: {base}\nquestion: A question.\n"
        f"what_to_look_for: The last decision.\n{setting}"
    )


def _spec_text(tmp: Path) -> str:
    return (
        "format: diplosim-sweep/3\nscenario: gsomia_2019\nparameters:\n"
        "  termination_notice.united_states.salience: [0.0, 1.0]\n"
        "design:\n  method: grid\n  levels: 2\n"
        "members: 2\nseed: 2019\nout: out\n"
    )


def _no_sources(tmp: Path) -> list[str]:
    return ["--sources", str(tmp / "no-sources-here")]


def _run(tmp: Path, *extra: str) -> list[str]:
    # the sources are found as usual: a hostile scenario fails before they are read, and the
    # shipped scenario beside hostile constants must pass its own checks
    return ["run", *extra, "--runs", "2", "--quiet", "--out", str(tmp / "out")]


def _counterfactual(tmp: Path) -> list[str]:
    return ["counterfactual", str(tmp / "overlay.yaml"), "--runs", "5", "--out", str(tmp / "out"),
            *_no_sources(tmp)]


SCENARIO_DATE = ("  start: 2019-07-01T00:00:00+09:00\n", "  start: {date}\n", "clock.start")
KINDS = [
    Kind("scenario", lambda tmp: VALID, lambda tmp: _run(tmp, str(tmp / "scenario.yaml")),
         SCENARIO_DATE, "scenario.yaml"),
    Kind("overlay", lambda tmp: _overlay_text(SCENARIO_2019), _counterfactual,
         (SETTING_VALUE, "    value: {date}\n", f"set.{SETTING_KEY}.value"), "overlay.yaml"),
    Kind("sweep spec", _spec_text, lambda tmp: ["sweep", str(tmp / "spec.yaml"), "--quiet"],
         ("seed: 2019\n", "seed: {date}\n", "seed"), "spec.yaml"),
    Kind("constants", lambda tmp: CONSTANTS.read_text(encoding="utf-8"),
         lambda tmp: _run(tmp, str(SCENARIO_2019), "--constants", str(tmp / "constants.yaml")),
         ("  value: 0.080\n", "  value: {date}\n", "temperature_decider.value"), "constants.yaml"),
    Kind("base of an overlay", lambda tmp: VALID, _counterfactual, SCENARIO_DATE,
         "scenario.yaml", referrer="overlay.yaml"),
]


def _write_referrer(kind: Kind, tmp: Path) -> None:
    if kind.referrer == "overlay.yaml":
        (tmp / "overlay.yaml").write_text(_overlay_text("scenario.yaml"), encoding="utf-8")


def _refused(kind: Kind, tmp: Path, capsys, make: Callable[[Path], None], seconds: float = 10):
    """Make the hostile file of ``kind`` with ``make``, run the command that reads it, and check
    the refusal: exit code 2, one line naming the file (and its referrer), nothing written."""
    _write_referrer(kind, tmp)
    make(tmp / kind.file)
    before = sorted(tmp.rglob("*"))
    with _within(seconds):
        code = main(kind.command(tmp))
    err = capsys.readouterr().err
    assert code == 2, err
    assert sorted(tmp.rglob("*")) == before, "nothing may be written on hostile input"
    names = [kind.file] + ([kind.referrer] if kind.referrer else [])
    return _assert_one_located_line(err, names)


def _writer(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Impossible dates and times, in every file kind
# ---------------------------------------------------------------------------------------------

DATES = ["2019-13-45", "0000-01-01", "2020-02-30", "2019-07-01T00:00:00+99:00",
         "2019-07-01T24:30:00+09:00"]


@pytest.mark.parametrize("date", DATES)
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_impossible_dates_are_located_errors(tmp_path, capsys, kind, date):
    old, new, key_path = kind.date_line
    valid = kind.valid(tmp_path)
    assert old in valid, old
    text = valid.replace(old, new.format(date=date), 1)
    line = _refused(kind, tmp_path, capsys, _writer(text))
    expected = f"{kind.file}:{_line_of(text, new.format(date=date))}: {key_path}: not a valid date/time"
    assert expected in line, line
    assert "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]+HH:MM" in line


# ---------------------------------------------------------------------------------------------
# Alias bombs and deep nesting: refused quickly, before memory or the stack runs out
# ---------------------------------------------------------------------------------------------


def _laughs() -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


BOMBS = {
    # nine levels of nine aliases: 9**9 (387 million) strings from 500 bytes
    "billion laughs": (_laughs(), "keys and items"),
    # one list of 1,000 items used 10,000 times: 10 million items from 30 KB
    "wide alias": ("items: &items [" + ", ".join(["1"] * 1000) + "]\nuses: ["
                   + ", ".join(["*items"] * 10_000) + "]\n", "keys and items"),
    "deep flow nesting": ("key: " + "[" * 10_000 + "]" * 10_000 + "\n", "levels deep"),
    "deep block nesting": ("".join("  " * i + f"k{i}:\n" for i in range(1_000)) + "  " * 1_000
                           + "v: 1\n", "levels deep"),
    "alias inside itself": ("key: &self [*self]\n", "levels deep"),
}


@pytest.mark.parametrize("bomb", BOMBS, ids=list(BOMBS))
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_alias_bombs_and_deep_nesting_are_refused_quickly(tmp_path, capsys, kind, bomb):
    text, expected = BOMBS[bomb]
    if kind.referrer:  # an overlay's base is parsed once it declares the scenario format
        text = "format: diplosim/3\n" + text
    line = _refused(kind, tmp_path, capsys, _writer(text), seconds=5)
    assert expected in line and re.search(rf"{re.escape(kind.file)}:\d+: ", line), line


@pytest.mark.parametrize("bomb", BOMBS, ids=list(BOMBS))
def test_the_loader_refuses_a_bomb_in_well_under_a_second(bomb):
    started = time.perf_counter()
    with _within(5), pytest.raises(Exception, match=BOMBS[bomb][1]):
        load_with_lines(BOMBS[bomb][0])
    assert time.perf_counter() - started < 1.0


# ---------------------------------------------------------------------------------------------
# Files that are not regular, or too large: refused before they are read
# ---------------------------------------------------------------------------------------------

NOT_FILES = {
    "named pipe": (lambda path: os.mkfifo(path), "not a regular file (a named pipe)"),
    "folder": (lambda path: path.mkdir(), "not a regular file (a folder)"),
    "over 1 MiB": (_writer("# " + "x" * (1 << 20) + "\nformat: x\n"), "at most 1,048,576"),
}


@pytest.mark.parametrize("what", NOT_FILES, ids=list(NOT_FILES))
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_non_regular_and_oversize_files_are_refused(tmp_path, capsys, kind, what):
    make, expected = NOT_FILES[what]
    line = _refused(kind, tmp_path, capsys, make, seconds=5)
    assert expected in line, line
    if kind.referrer:  # reported at the line of the file that names it
        assert re.search(rf"{re.escape(kind.referrer)}:\d+: ", line), line


@pytest.mark.parametrize("argv", [
    ["run", "/dev/zero", "--runs", "1"],
    ["counterfactual", "{overlay}", "--runs", "1"],
    ["check", "{fifo}"],
], ids=["run /dev/zero", "overlay with base /dev/zero", "check a named pipe"])
def test_devices_and_pipes_in_a_real_process(tmp_path, argv):
    """``/dev/zero`` never ends and a pipe never answers: the old reader filled memory or
    waited forever, so this runs in a process of its own, with its memory capped."""
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(_overlay_text("/dev/zero"), encoding="utf-8")
    os.mkfifo(tmp_path / "fifo.yaml")
    argv = [a.format(overlay=overlay, fifo=tmp_path / "fifo.yaml") for a in argv]

    def cap_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", *argv], capture_output=True, text=True, timeout=30,
        preexec_fn=cap_memory, cwd=ROOT, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert proc.returncode == 2, proc.stderr
    line = _assert_one_located_line(proc.stderr, [])
    assert "not a regular file" in line, line
    if "counterfactual" in argv:
        assert f"{overlay}:3: base: base scenario '/dev/zero'" in line, line


def test_a_missing_base_names_the_overlay_and_its_line(tmp_path, capsys):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(_overlay_text("nowhere/gone.yaml"), encoding="utf-8")
    assert main(["counterfactual", str(overlay), "--runs", "2"]) == 2
    line = _assert_one_located_line(capsys.readouterr().err, ["gone.yaml"])
    assert f"{overlay}:3: base: base scenario 'nowhere/gone.yaml'" in line, line
    assert "No such file" in line


# ---------------------------------------------------------------------------------------------
# Source files must lie inside the sources folder
# ---------------------------------------------------------------------------------------------


def _sources_copy(tmp: Path) -> tuple[Path, Path]:
    """The episode's folder (its scenario's sources beside it, cited ``in: episode``), and a
    copy of the first cited file outside it (so that every quote would be found there)."""
    episode = tmp / "episode"
    shutil.copytree(SCENARIO_2019.parent, episode)
    first = re.search(r"    file: (\S+)", VALID).group(1)
    outside = tmp / "outside.txt"
    shutil.copy(episode / first, outside)
    return episode, outside


ESCAPES = {
    "parent folders": lambda episode, outside: "../outside.txt",
    "absolute path": lambda episode, outside: str(outside),
    "link leading out": lambda episode, outside: (
        (episode / "sources" / "link.txt").symlink_to(outside), "sources/link.txt")[1],
}


@pytest.mark.parametrize("escape", ESCAPES, ids=list(ESCAPES))
def test_a_source_file_outside_the_sources_folder_is_refused(tmp_path, capsys, escape):
    episode, outside = _sources_copy(tmp_path)
    cited = ESCAPES[escape](episode, outside)
    first = re.search(r"    file: (\S+)", VALID).group(1)
    text = VALID.replace(f"    file: {first}\n", f"    file: {cited}\n", 1)
    scenario = episode / "scenario.yaml"
    scenario.write_text(text, encoding="utf-8")
    assert main(["check", str(scenario)]) == 2
    line = _assert_one_located_line(capsys.readouterr().err, [])
    assert f"{scenario}:{_line_of(text, f'file: {cited}')}: sources[0].file: source file" in line
    assert "outside the sources folder" in line or "absolute path" in line


# ---------------------------------------------------------------------------------------------
# Overlays must meet the scenario's own bounds
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key,value,bounds", [
    ("termination_takes_effect.united_states.salience", "7.5", "[0, 1]"),
    ("termination_notice.executive.salience", "-0.1", "[0, 1]"),
    ("event.export_controls_announced.0", "1.5", "[-1, 1]"),
])
def test_an_overlay_setting_outside_the_scenario_bounds_is_refused(tmp_path, capsys, key, value, bounds):
    setting = f"set:\n  {key}:\n    value: {value}\n    note: Out of bounds.\n"
    text = _overlay_text(SCENARIO_2019, setting)
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    with _within(30):
        code = main(["counterfactual", str(overlay), "--runs", "5", "--out", str(out)])
    assert code == 2 and not out.exists()
    line = _assert_one_located_line(capsys.readouterr().err, [])
    assert f"{overlay}:{_line_of(text, f'value: {value}')}: set.{key}.value: must lie within {bounds}" in line


# ---------------------------------------------------------------------------------------------
# Seeds and counts on the command line
# ---------------------------------------------------------------------------------------------

S = str(SCENARIO_2019)
COMMANDS = {
    "run": ["run", S, "--quiet"],
    "validate": ["validate", S, "--quiet"],
    "counterfactual": ["counterfactual", str(OVERLAY_2019)],
    "sensitivity": ["sensitivity", S, "--samples", "2", "--members", "2", "--quiet"],
    "discover": ["discover", S, "--outcome", "terminate"],
    "calibrate": ["calibrate", "--design-log2", "2", "--quiet"],
}
BAD_ARGUMENTS = (
    [(c, "--seed", v) for c in COMMANDS for v in ("-1", str(2**63), "seven")]
    + [(c, "--runs", v) for c in ("run", "validate", "counterfactual")
       for v in ("0", "-3", "10000001")]
    + [("discover", "--points", v) for v in ("0", "-3", "100001")]
    + [("discover", "--members", v) for v in ("0", "1000001")]
    + [("sensitivity", "--members", v) for v in ("0", "1000001")]
    + [("calibrate", "--runs", v) for v in ("19", "20001")]
    + [("calibrate", "--design-log2", v) for v in ("1", "13")]
    + [("sensitivity", "--samples", v) for v in ("0", "1000001")]
)


@pytest.mark.parametrize("command,flag,value", BAD_ARGUMENTS,
                         ids=[f"{c} {f} {v}" for c, f, v in BAD_ARGUMENTS])
def test_seeds_and_counts_out_of_range_are_refused_by_the_parser(tmp_path, capsys, monkeypatch,
                                                                  command, flag, value):
    monkeypatch.chdir(tmp_path)
    argv = COMMANDS[command] + [flag, value]
    with _within(10), pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(rf"error: argument {flag}(/--[a-z-]+)?: expected a whole number from",
                     err.strip().splitlines()[-1]), err
    assert list(tmp_path.iterdir()) == []


def test_the_bounds_are_stated_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "1 to 10,000,000" in text and "0 to 2**63-1" in text


def test_discover_with_too_few_runs_says_why(capsys):
    with _within(30):
        code = main(["discover", S, "--outcome", "terminate", "--points", "1", "--members", "1",
                     "--quiet"])
    line = _assert_one_located_line(capsys.readouterr().err, [])
    assert code == 2 and "PRIM needs runs with the outcome and runs without it" in line


# ---------------------------------------------------------------------------------------------
# Strict JSON on standard output
# ---------------------------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"not strict JSON: {name}")


@pytest.mark.parametrize("argv", [
    ["validate", "--runs", "3", "--json", "--quiet"],
    ["counterfactual", str(OVERLAY_2019), "--runs", "1", "--json"],
], ids=["validate --json", "counterfactual --json"])
def test_json_output_is_strict_with_null_for_non_finite_numbers(capsys, argv):
    with _within(60):
        assert main(argv) == 0
    text = capsys.readouterr().out
    json.loads(text, parse_constant=_refuse_constant)  # NaN, Infinity, -Infinity refused
    assert "null" in text
