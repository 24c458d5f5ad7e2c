"""The README and the guides cannot go stale: every output block is generated from its command
(``make readme``), every command they show in a sh block runs, and the generated blocks match
what the commands print today (wall times aside). The benchmarks run only in the generator;
everything else runs here, in each document's order, in one scratch folder per document."""

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

DOCUMENTS = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8").split("\n")
             for path in readme.DOCUMENTS}
LINES = DOCUMENTS["README.md"]
NOT_RUN_HERE = {  # command prefix -> why the test does not run it
    "make test": "the whole suite, this test among it",
    ".venv/bin/python benchmarks/bench.py": "minutes of benchmarks, on an idle machine: make readme-measured",
    ".venv/bin/diplosim app": "a server that runs until stopped: tests/test_browser.py serves it",
    ".venv/bin/diplosim sweep sweeps/us_pressure_2019.yaml --scheduler":
        "needs a Dask scheduler on another machine (the address is an example)",
}
_outputs: dict[tuple[str, str], list[str]] = {}  # (document, command) -> what it printed


def _skipped(command: str) -> str | None:
    return next((why for prefix, why in NOT_RUN_HERE.items() if command.startswith(prefix)), None)


@pytest.fixture(scope="module")
def scratch():
    folders = {document: readme.scratch_folder() for document in DOCUMENTS}
    yield folders
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_output_block_is_generated_or_says_why_not(document):
    assert readme.unmarked_output_blocks(DOCUMENTS[document]) == []


def test_the_readme_shows_the_main_job_a_trace_a_run_and_a_what_if():
    commands = {b.command for b in readme.marked_blocks(LINES)}
    assert {".venv/bin/diplosim run gsomia_2012 --trace --seed 3",
            ".venv/bin/diplosim run gsomia_2019 --runs 2000 --seed 7 --out results/demo",
            ".venv/bin/diplosim counterfactual no_us_pressure_2019 --runs 2000",
            "diplosim validate"} <= commands


SHOWN = [(doc, c) for doc, lines in DOCUMENTS.items() for c in readme.sh_commands(lines)]
BLOCKS = [(doc, b) for doc, lines in DOCUMENTS.items() for b in readme.marked_blocks(lines)]


@pytest.mark.parametrize("document, command", SHOWN, ids=[f"{d}: {c}" for d, c in SHOWN])
def test_every_command_the_documents_show_runs(document, command, scratch):
    why = _skipped(command)
    if why:
        pytest.skip(why)
    if command.startswith("make "):  # the target exists and its recipe parses
        done = subprocess.run(["make", "-n", *command.split()[1:]], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
    else:
        done = readme.run(command, scratch[document], timeout=300)
        _outputs[(document, command)] = [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")]
    assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{done.stderr[-2000:]}"


GENERATED = [(d, b) for d, b in BLOCKS if not (_skipped(b.command) or b.measured)]


@pytest.mark.parametrize("document, block", GENERATED,
                         ids=[f"{d}: {b.command.replace('.venv/bin/', '')}" for d, b in GENERATED])
def test_each_generated_block_shows_what_its_command_prints_today(document, block, scratch):
    cache = {c: out for (d, c), out in _outputs.items() if d == document}
    printed = readme.output_of(block.command, scratch[document], cache)
    shown = DOCUMENTS[document][block.start + 1:block.end]
    assert readme.comparable("\n".join(readme.select(printed, block.keep))) == \
        readme.comparable("\n".join(shown)), f"{document}:{block.start + 1} is stale: run `make readme`"


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
