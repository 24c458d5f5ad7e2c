"""Bad input: each class of error gives one located message, no traceback, and no output."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import SCENARIO_2019, SOURCES, needs_sources

VALID = SCENARIO_2019.read_text(encoding="utf-8")


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def _run_cli(tmp_path: Path, text: str, capsys, sources: str | None = None):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", str(bad), "--runs", "2", "--out", str(out), "--quiet"]
    argv += ["--sources", sources or str(tmp_path / "no-sources-here")]
    code = main(argv)
    captured = capsys.readouterr()
    assert not out.exists(), "nothing may be written to --out on bad input"
    return code, captured.err, bad


# (name, old text, new text, expected key path, text whose line the error must point at)
CASES = [
    ("yaml syntax", "  step_hours: 24\n", "  step_hours: [24\n", None, "fine_step_hours"),
    ("unknown key", "  step_hours: 24\n", "  step_hours: 24\n  tick: 3\n", "clock.tick", "  tick: 3"),
    ("missing key", "  fine_window_hours: 48\n", "", "clock.fine_window_hours", "clock:"),
    ("wrong type", "  step_hours: 24\n", "  step_hours: daily\n", "clock.step_hours", "step_hours: daily"),
    (
        "range lo > hi",
        "        range: [0.40, 0.50]\n",
        "        range: [0.50, 0.40]\n",
        "actors.south_korea.parameters.initial_opposition.range",
        "range: [0.50, 0.40]",
    ),
    (
        "probability outside [0, 1]",
        "        range: [0.6, 0.9]\n        source: nikkei_2019\n        quote: \"Public opinion",
        "        range: [0.6, 1.4]\n        source: nikkei_2019\n        quote: \"Public opinion",
        "actors.south_korea.parameters.salience.range",
        "range: [0.6, 1.4]",
    ),
    (
        "event outside the clock",
        "    time: 2019-07-04T00:00:00+09:00\n",
        "    time: 2019-12-04T00:00:00+09:00\n",
        "events[1].time",
        "time: 2019-12-04",
    ),
    (
        "unknown actor",
        "      - target: japan.coercion\n        op: add\n        range: [0.2, 0.4]",
        "      - target: korea.coercion\n        op: add\n        range: [0.2, 0.4]",
        "events[0].effects[0].target",
        "target: korea.coercion",
    ),
    (
        "unknown option",
        "    default: renew\n",
        "    default: extend\n",
        "decisions[0].default",
        "default: extend",
    ),
    (
        "duplicate id",
        "  - id: export_controls_in_force\n",
        "  - id: export_controls_announced\n",
        "events[1].id",
        "  - id: export_controls_announced\n    time: 2019-07-04",
    ),
    (
        "duplicate YAML key",
        "  step_hours: 24\n",
        "  step_hours: 24\n  step_hours: 12\n",
        "clock.step_hours",
        "  step_hours: 12",
    ),
    (
        "unknown source id",
        "        source: mainichi_2019\n        quote: \"Both Tokyo",
        "        source: asahi_2019\n        quote: \"Both Tokyo",
        "actors.united_states.parameters.base_pressure.source",
        "source: asahi_2019",
    ),
    (
        "parameter without a quote",
        "        quote: \"Moon faces negative perceptions of having caved to America.\"\n",
        "",
        "actors.south_korea.parameters.pressure_backlash.quote",
        "pressure_backlash:",
    ),
    (
        "python tag",
        "id: gsomia_2019\n",
        "id: !!python/object/apply:os.system [\"echo pwned\"]\n",
        "id",
        "id: !!python",
    ),
]


@pytest.mark.parametrize("name,old,new,path,anchor", CASES, ids=[c[0] for c in CASES])
def test_located_error(tmp_path, capsys, name, old, new, path, anchor):
    assert old in VALID, f"test setup: {old!r} not in the valid scenario"
    text = VALID.replace(old, new, 1)
    code, err, bad = _run_cli(tmp_path, text, capsys)
    assert code == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1, f"expected one message line, got: {err!r}"
    match = re.match(rf"diplosim: error: {re.escape(str(bad))}:(\d+): (\S+): (.+)", err)
    assert match, err
    line, key_path, message = int(match.group(1)), match.group(2), match.group(3)
    if path is not None:
        assert key_path == path, err
    if name == "duplicate id":
        expected_line = _line_of(text, "  - id: export_controls_announced", 2)
    else:
        expected_line = _line_of(text, anchor)
    assert line == expected_line, err
    assert message.strip()


@needs_sources
def test_source_file_that_does_not_exist(tmp_path, capsys):
    text = VALID.replace("file: seeds/002_5765abbc6426c041.txt", "file: seeds/999_missing.txt")
    code, err, bad = _run_cli(tmp_path, text, capsys, sources=SOURCES)
    assert code == 2 and "Traceback" not in err
    assert f"{bad}:{_line_of(text, 'seeds/999_missing.txt')}: sources[1].file:" in err
    assert "does not exist" in err


@needs_sources
def test_quote_not_in_its_source(tmp_path, capsys):
    text = VALID.replace(
        "quote: \"Both Tokyo and Washington have strongly demanded that Seoul maintains the pact.\"",
        "quote: \"Washington threatened to withdraw its troops.\"",
    )
    code, err, bad = _run_cli(tmp_path, text, capsys, sources=SOURCES)
    assert code == 2 and "Traceback" not in err
    line = _line_of(text, "Washington threatened")
    assert f"{bad}:{line}: actors.united_states.parameters.base_pressure.quote:" in err
    assert "quote not found in source 'mainichi_2019'" in err


def test_not_a_mapping_and_empty_file(tmp_path, capsys):
    for text, expected in (("- just\n- a list\n", "expected a mapping"), ("", "empty")):
        code, err, _ = _run_cli(tmp_path, text, capsys)
        assert code == 2 and expected in err and "Traceback" not in err


def test_missing_file(tmp_path, capsys):
    code = main(["run", str(tmp_path / "nope.yaml"), "--runs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot read the file" in err and "Traceback" not in err


def test_subprocess_error_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("  step_hours: 24\n", "  step_hours: -1\n"), encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(bad), "--runs", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "clock.step_hours" in proc.stderr
    assert not out.exists()
