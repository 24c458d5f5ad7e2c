"""The README cannot go stale: every output block is generated from its command
(``make readme``), every command it shows in a sh block runs, and the generated blocks match
what the commands print today (wall times aside). The heaviest commands (the calibration, the
benchmarks) run only in the generator; everything else runs here, in README order, in one
scratch folder, in about a minute."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("readme", ROOT / "scripts" / "readme.py")
readme = importlib.util.module_from_spec(_spec)
sys.modules["readme"] = readme  # dataclasses look their module up
_spec.loader.exec_module(readme)

LINES = (ROOT / "README.md").read_text(encoding="utf-8").split("\n")
NOT_RUN_HERE = {  # command prefix -> why the test does not run it
    "make test": "the whole suite, this test among it",
    ".venv/bin/diplosim calibrate": "minutes of ABC-SMC: run by the generator (make readme)",
    ".venv/bin/python benchmarks/bench.py": "minutes of benchmarks, on an idle machine: make readme-measured",
    ".venv/bin/diplosim app": "a server that runs until stopped: tests/test_browser.py serves it",
    ".venv/bin/diplosim sweep sweeps/us_pressure_2019.yaml --scheduler":
        "needs a Dask scheduler on another machine (the address is an example)",
}
_outputs: dict[str, list[str]] = {}  # command -> what it printed, shared by the tests below


def _skipped(command: str) -> str | None:
    return next((why for prefix, why in NOT_RUN_HERE.items() if command.startswith(prefix)), None)


@pytest.fixture(scope="module")
def scratch():
    folder = readme.scratch_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_every_output_block_is_generated_or_says_why_not():
    assert readme.unmarked_output_blocks(LINES) == []
    commands = {b.command for b in readme.marked_blocks(LINES)}
    assert {".venv/bin/diplosim run scenarios/gsomia_2012.yaml --trace --seed 3",
            ".venv/bin/diplosim run scenarios/gsomia_2019.yaml --runs 2000 --seed 7 --out results/demo",
            "diplosim validate"} <= commands


@pytest.mark.parametrize("command", readme.sh_commands(LINES))
def test_every_command_the_readme_shows_runs(command, scratch):
    why = _skipped(command)
    if why:
        pytest.skip(why)
    if command.startswith("make "):  # the target exists and its recipe parses
        done = subprocess.run(["make", "-n", *command.split()[1:]], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
    else:
        done = readme.run(command, scratch, timeout=300)
        _outputs[command] = [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")]
    assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{done.stderr[-2000:]}"


@pytest.mark.parametrize("block", [b for b in readme.marked_blocks(LINES)
                                   if not (_skipped(b.command) or b.measured)],
                         ids=lambda b: b.command.replace(".venv/bin/", ""))
def test_each_generated_block_shows_what_its_command_prints_today(block, scratch):
    printed = readme.output_of(block.command, scratch, _outputs)
    shown = LINES[block.start + 1:block.end]
    assert readme.comparable("\n".join(readme.select(printed, block.keep))) == \
        readme.comparable("\n".join(shown)), f"README.md:{block.start + 1} is stale: run `make readme`"


def test_keep_selects_lines_by_number_pattern_and_offset():
    out = ["head", "a", "b", "EVENT x", "c", "DECISION y", "d", "tail"]
    assert readme.select(out, None) == out
    assert readme.select(out, "1, ..., /EVENT/-1../DECISION/+1, ..., $") == \
        ["head", "...", "b", "EVENT x", "c", "DECISION y", "d", "...", "tail"]
    assert readme.select(out, "/^a/../^c/-1") == ["a", "b", "EVENT x"]
    with pytest.raises(readme.ReadmeError, match="nothing matches /nowhere/"):
        readme.select(out, "/nowhere/")
    with pytest.raises(readme.ReadmeError, match="outside the 8 lines"):
        readme.select(out, "$+1")


def test_the_generator_rewrites_a_marked_block_and_leaves_the_rest(tmp_path):
    text = "\n".join([
        "Intro.", "<!-- output: printf 'one\\ntwo\\nthree\\n' -->", "<!-- keep: 1, ..., $ -->",
        "```", "stale", "```", "```sh", "echo kept", "```", "<!-- not generated: by hand -->",
        "```", "by hand", "```", ""])
    new = readme.generate(text, tmp_path)
    assert new.split("\n")[3:8] == ["```", "one", "...", "three", "```"]
    assert new.endswith("```sh\necho kept\n```\n<!-- not generated: by hand -->\n```\nby hand\n```\n")
    measured = "<!-- measured: echo new -->\n```\nold\n```\n"
    assert readme.generate(measured, tmp_path) == measured  # measurements: only when asked for
    assert readme.generate(measured, tmp_path, measured=True) == measured.replace("old", "new")
    readme_file = tmp_path / "README.md"
    readme_file.write_text(new, encoding="utf-8")
    assert readme.main(["--check", "--readme", str(readme_file)]) == 0
    readme_file.write_text(text, encoding="utf-8")
    assert readme.main(["--check", "--readme", str(readme_file)]) == 1
