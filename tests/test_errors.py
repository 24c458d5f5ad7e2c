"""Bad input: each class of error in a diplosim/3 file gives one located message, no traceback,
and no output."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.model.constants import load_constants
from sim.model.scenario import ScenarioError, load_scenario
from tests.conftest import SCENARIO_2019, SOURCES, needs_sources, with_episode_sources

VALID = SCENARIO_2019.read_text(encoding="utf-8")
US_POSITION = "          quote: \"Both Tokyo and Washington have strongly demanded that Seoul maintains the pact.\"\n"


def _line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


def _run_cli(tmp_path: Path, text: str, capsys, sources: str | None = None):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with_episode_sources(tmp_path)  # the episode's own sources, beside the file
    out = tmp_path / "out"
    argv = ["run", str(bad), "--runs", "2", "--out", str(out), "--quiet"]
    argv += ["--sources", sources or str(tmp_path / "no-sources-here")]
    code = main(argv)
    captured = capsys.readouterr()
    assert not out.exists(), "nothing may be written to --out on bad input"
    return code, captured.err, bad


END = "  end: 2019-11-23T00:00:00+09:00\n"
US_SALIENCE = "          range: [0.2, 0.4]\n          source: nikkei_2019\n          quote: \"the U.S. only"
PUBLIC_SALIENCE = "          range: [0.5, 0.8]\n          source: nikkei_2019\n          quote: \"Public opinion"

# (name, old text, new text, expected key path, text whose line the error must point at,
#  words the message must hold)
CASES = [
    ("yaml syntax", END, "  end: [2019-11-23\n", None, "actors:", "expected"),
    ("unknown key", END, END + "  tick: 3\n", "clock.tick", "  tick: 3", "unknown key 'tick'"),
    ("missing key", END, "", "clock.end", "clock:", "missing required key 'end'"),
    ("wrong type", END, "  end: soon\n", "clock.end", "  end: soon", "datetime"),
    ("range lo > hi", US_SALIENCE, US_SALIENCE.replace("[0.2, 0.4]", "[0.4, 0.2]"),
     "decisions[0].stakes.united_states.salience.range", "range: [0.4, 0.2]", "lo <= hi"),
    ("stake outside [0, 1]", PUBLIC_SALIENCE, PUBLIC_SALIENCE.replace("0.8]", "1.4]"),
     "decisions[0].stakes.public.salience.range", "range: [0.5, 1.4]", "within [0, 1]"),
    ("event outside the clock", "    time: 2019-08-02T10:00:00+09:00\n",
     "    time: 2019-12-02T10:00:00+09:00\n", "events[1].time", "time: 2019-12-02",
     "outside the clock"),
    ("unknown actor", "    decided_by: japan\n", "    decided_by: tokyo\n",
     "decisions[1].decided_by", "decided_by: tokyo", "unknown actor 'tokyo'"),
    ("effect on an actor without a stake", "      - target: termination_notice.executive.position\n",
     "      - target: termination_notice.president.position\n", "events[1].effects[0].target",
     "target: termination_notice.president", "'president' has no stake"),
    ("unknown option", "    default: renew\n", "    default: extend\n", "decisions[0].default",
     "default: extend", "unknown option 'extend'"),
    ("duplicate id", "  - id: whitelist_removal_approved\n", "  - id: export_controls_announced\n",
     "events[1].id", "  - id: export_controls_announced\n    kind: measure\n    time: 2019-08-02",
     "duplicate event id"),
    ("duplicate YAML key", END, END + END.replace("11-23", "11-24"), "clock.end",
     "  end: 2019-11-24", "duplicate key"),
    ("unknown source id", "          source: mainichi_2019\n" + US_POSITION,
     "          source: asahi_2019\n" + US_POSITION,
     "decisions[0].stakes.united_states.position.source", "source: asahi_2019",
     "unknown source 'asahi_2019'"),
    ("parameter without a quote", US_POSITION, "",
     "decisions[0].stakes.united_states.position.quote",
     "        position:\n          value: 1.0\n          source: mainichi_2019",
     "missing required key 'quote'"),
    ("python tag", "id: gsomia_2019\n", "id: !!python/object/apply:os.system [\"echo pwned\"]\n",
     "id", "id: !!python", "python"),
]


@pytest.mark.parametrize("name,old,new,path,anchor,words", CASES, ids=[c[0] for c in CASES])
def test_located_error(tmp_path, capsys, name, old, new, path, anchor, words):
    assert VALID.count(old) >= 1, f"test setup: {old!r} not in the valid scenario"
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
    assert line == _line_of(text, anchor), err
    assert words in message, err


@needs_sources
def test_source_file_that_does_not_exist(tmp_path, capsys):
    text = VALID.replace("file: sources/mainichi_2019.txt", "file: sources/999_missing.txt")
    code, err, bad = _run_cli(tmp_path, text, capsys, sources=SOURCES)
    assert code == 2 and "Traceback" not in err
    assert f"{bad}:{_line_of(text, 'sources/999_missing.txt')}: sources[1].file:" in err
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
    assert f"{bad}:{line}: decisions[0].stakes.united_states.position.quote:" in err
    assert "quote not found in source 'mainichi_2019'" in err


@needs_sources
def test_an_events_quote_not_in_its_source(tmp_path, capsys):
    text = VALID.replace("quote: \"GSOMIA and troop cost-sharing discussed.\"",
                         "quote: \"Troops will leave.\"")
    code, err, bad = _run_cli(tmp_path, text, capsys, sources=SOURCES)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert f"{bad}:{_line_of(text, 'Troops will leave')}: events[4].quote:" in err


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
    bad.write_text(VALID.replace("  end: 2019-11-23T00:00:00+09:00\n",
                                 "  end: 2019-06-01T00:00:00+09:00\n"), encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(bad), "--runs", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "clock" in proc.stderr and "before" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not out.exists()


# -- Model 3's constants file is validated like a scenario ------------------------------------

CONSTANTS3 = SCENARIO_2019.parents[2] / "calibration" / "constants3.yaml"


def test_the_shipped_constants_load():
    constants = load_constants()
    assert constants.temperature_decider > 0 and constants.attention_floor_hours > 0


@pytest.mark.parametrize("old,new,expected", [
    ("  value: 0.080\n", "  value: -0.080\n", "temperature_decider.value"),
    ("temperature_member:\n", "temperature_membr:\n", "unknown key 'temperature_membr'"),
    ("  value: 0.080\n", "  value: 0.080\n  weight: 2\n", "temperature_decider.weight"),
])
def test_bad_constants_are_located(tmp_path, old, new, expected):
    text = CONSTANTS3.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "constants.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_constants(bad)
    assert expected in str(info.value)
    assert str(info.value).startswith(f"{bad}:")


# -- random mutations of a valid diplosim/3 file never give a traceback -------------------------

DATA = yaml.safe_load(VALID)
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.floats(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2), st.dates().map(str),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


PATHS = [p for p in _paths(DATA) if p]


def _mutate(data, path, action, value):
    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif action == "add_key" and isinstance(parent, dict):
        parent[f"unexpected_{abs(hash(str(value))) % 97}"] = value
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    return data


def _load(text: str) -> None:
    """It loads, or it is refused with one located ScenarioError naming the file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutant.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_scenario(path, verify_quotes=False)
        except ScenarioError as exc:
            assert exc.file == str(path) and str(exc).startswith(str(path))
            assert exc.message and "\n" not in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), action=st.sampled_from(["delete", "replace", "add_key",
                                                             "duplicate"]), value=JUNK)
def test_structural_mutations_never_crash(path, action, value):
    _load(yaml.safe_dump(_mutate(DATA, path, action, value), allow_unicode=True,
                         sort_keys=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(0, len(VALID) - 1), length=st.integers(0, 20),
       insert=st.text(alphabet=st.sampled_from(list(":-[]{}!&*#'\"\n\t |>%@`,?0aZ")), max_size=6))
def test_textual_mutations_never_crash(position, length, insert):
    _load(VALID[:position] + insert + VALID[position + length:])
