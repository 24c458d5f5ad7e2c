"""Regenerate the README's and the guides' example outputs from the commands that make them.

A fenced block in README.md, docs/guide.md or docs/development.md preceded by a marker is replaced by what the command prints::

    <!-- output: diplosim run scenarios/gsomia_2012.yaml --trace --seed 3 -->
    <!-- keep: 1..4, ..., /EVENT signing_announced/-2../DECISION signing/+1, ... -->
    ```
    (replaced)
    ```

``keep`` (optional) selects lines, comma-separated: ``A..B`` a range, ``A`` one line, ``...`` a
literal "..." line. A line reference is ``N`` (1-based), ``$`` (the last line) or ``/regex/``
(the first matching line after the previous selection, for a range's end after its start),
with an optional ``+k`` or ``-k``. A block marked ``<!-- not generated: why -->`` is left alone.
A block marked ``<!-- measured: COMMAND -->`` holds measurements (the benchmarks), which mean
something only on an idle machine: it is rerun only with ``--measured``.

Commands run with bash, in README order, in one scratch folder that holds links to the
project's files and a fresh ``results/``, with the project's ``.venv/bin`` first on ``PATH``:
relative paths mean what they mean at the project's root, and what they write lands in the
scratch folder (removed at the end), not in the checkout. Only standard output goes into a
block.

    python scripts/readme.py              # rewrite README.md (make readme)
    python scripts/readme.py --measured   # the measurements too (make readme-measured)
    python scripts/readme.py --check      # exit 1 if a block differs (wall times aside)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "guide.md", ROOT / "docs" / "development.md")
OUTPUT = re.compile(r"^<!-- (?P<kind>output|measured): (?P<command>.+?) -->$")
KEEP = re.compile(r"^<!-- keep: (?P<spec>.+?) -->$")
STATIC = re.compile(r"^<!-- not generated: .+ -->$")
FENCE = "```"
WALL_TIME = re.compile(r"\b\d+(\.\d+)? s\b")  # "1.1 s": differs from run to run
NOT_LINKED = {".git", ".venv", "results"}  # the scratch folder gets its own results/
COPIED = {"sweeps"}  # a spec's `out` is relative to the spec: a copy writes into the scratch folder


class ReadmeError(Exception):
    """A marker that cannot be used, or a command that failed: says which and why."""


@dataclass(frozen=True)
class Block:
    """One marked output block: the command, its line selection, and where it stands."""

    command: str
    keep: str | None
    start: int  # index of the opening fence in the README's lines
    end: int  # index of the closing fence
    measured: bool = False  # a measurement (rerun only when asked for)


def marked_blocks(lines: list[str]) -> list[Block]:
    """Every ``output`` marker with the fenced block right after it (a ``keep`` between)."""
    blocks = []
    for i, line in enumerate(lines):
        match = OUTPUT.match(line)
        if not match:
            continue
        keep, j = None, i + 1
        if j < len(lines) and (k := KEEP.match(lines[j])):
            keep, j = k["spec"], j + 1
        if j >= len(lines) or lines[j] != FENCE:
            raise ReadmeError(f"README.md:{i + 1}: an output marker must stand right before a "
                              f"``` block")
        end = lines.index(FENCE, j + 1)
        blocks.append(Block(match["command"], keep, j, end, match["kind"] == "measured"))
    return blocks


def unmarked_output_blocks(lines: list[str]) -> list[int]:
    """Line numbers of plain ``` blocks (outputs, not sh or yaml) with neither marker."""
    found, inside = [], False
    for i, line in enumerate(lines):
        if line.startswith(FENCE):
            if not inside and line == FENCE:
                above = lines[i - 1] if i else ""
                if not (OUTPUT.match(above) or KEEP.match(above) or STATIC.match(above)):
                    found.append(i + 1)
            inside = not inside
    return found


def sh_commands(lines: list[str]) -> list[str]:
    """Each command line of the ```sh blocks, without its trailing comment."""
    commands, inside = [], False
    for line in lines:
        if line.startswith(FENCE):
            inside = line == FENCE + "sh" if not inside else False
            continue
        if inside and line.strip():
            commands.append(re.sub(r"\s+#.*$", "", line).strip())
    return commands


# -- selecting lines ------------------------------------------------------------------------------


def select(output: list[str], spec: str | None) -> list[str]:
    """The lines ``spec`` keeps (all of them without one)."""
    if spec is None:
        return output
    kept, after = [], 0
    for item in (part.strip() for part in spec.split(",")):
        if item == "...":
            kept.append("...")
            continue
        first, _, last = item.partition("..")
        start = _line(output, first, after, item)
        stop = _line(output, last, start, item) if last else start
        if stop < start:
            raise ReadmeError(f"keep {item!r}: ends before it starts")
        kept.extend(output[start:stop + 1])
        after = stop + 1
    return kept


def _line(output: list[str], ref: str, after: int, item: str) -> int:
    """The 0-based index ``ref`` names, searching regexes from ``after``."""
    match = re.fullmatch(r"(?:(?P<n>\d+)|(?P<last>\$)|/(?P<re>.*)/)(?P<off>[+-]\d+)?", ref.strip())
    if not match:
        raise ReadmeError(f"keep {item!r}: {ref!r} is not N, $ or /regex/ (with +k or -k)")
    if match["n"]:
        index = int(match["n"]) - 1
    elif match["last"]:
        index = len(output) - 1
    else:
        pattern = re.compile(match["re"])
        index = next((i for i in range(after, len(output)) if pattern.search(output[i])), None)
        if index is None:
            raise ReadmeError(f"keep {item!r}: nothing matches /{match['re']}/ after line {after}")
    index += int(match["off"] or 0)
    if not 0 <= index < len(output):
        raise ReadmeError(f"keep {item!r}: line {index + 1} is outside the {len(output)} lines printed")
    return index


# -- running ----------------------------------------------------------------------------------------


def scratch_folder(root: Path = ROOT) -> Path:
    """A new folder of links to the project's files, with its own empty ``results/``."""
    folder = Path(tempfile.mkdtemp(prefix="diplosim-readme-"))
    for entry in root.iterdir():
        if entry.name in COPIED:
            shutil.copytree(entry, folder / entry.name)
        elif entry.name not in NOT_LINKED:
            (folder / entry.name).symlink_to(entry)
    if (root / ".venv").exists():
        (folder / ".venv").symlink_to(root / ".venv")
    (folder / "results").mkdir()
    return folder


def run(command: str, folder: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """``command`` through bash in ``folder``, the project's venv first on PATH."""
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(["bash", "-c", command], cwd=folder, env=env, text=True,
                          capture_output=True, timeout=timeout)


def output_of(command: str, folder: Path, cache: dict[str, list[str]]) -> list[str]:
    """What ``command`` prints, its trailing blank lines dropped (each command runs once)."""
    if command not in cache:
        done = run(command, folder)
        if done.returncode != 0:
            raise ReadmeError(f"`{command}` exited {done.returncode}:\n{done.stderr[-2000:]}")
        lines = done.stdout.rstrip("\n").split("\n")
        cache[command] = [line.rstrip() for line in lines]
    return cache[command]


def wanted(block: Block, only: list[str] | None, measured: bool = False) -> bool:
    """Whether ``block`` is among those asked for (every output without ``only``; the
    measurements only with ``measured``)."""
    return (measured or not block.measured) and (not only or any(p in block.command for p in only))


def generate(text: str, folder: Path, only: list[str] | None = None,
             cache: dict[str, list[str]] | None = None, measured: bool = False) -> str:
    """``text`` with every marked block asked for (see :func:`wanted`) regenerated."""
    lines = text.split("\n")
    cache = {} if cache is None else cache
    for block in reversed(marked_blocks(lines)):  # from the end: earlier indices stay valid
        if not wanted(block, only, measured):
            continue
        print(f"readme: {block.command}", file=sys.stderr, flush=True)
        body = select(output_of(block.command, folder, cache), block.keep)
        lines[block.start + 1:block.end] = body
    return "\n".join(lines)


def comparable(text: str) -> str:
    """``text`` with wall times masked, for --check."""
    return WALL_TIME.sub("<t> s", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a block is out of date")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="only the blocks whose command contains TEXT (repeatable)")
    parser.add_argument("--measured", action="store_true",
                        help="also rerun the measurements (the benchmarks: on an idle machine)")
    parser.add_argument("--readme", type=Path, action="append",
                        help="a file to regenerate (repeatable; default: "
                        f"{', '.join(str(p.relative_to(ROOT)) for p in DOCUMENTS)})")
    args = parser.parse_args(argv)
    codes = [regenerate(path, args) for path in args.readme or DOCUMENTS]
    return max(codes)


def regenerate(path: Path, args) -> int:
    """One document's blocks, run in its order (a report reads what an earlier command wrote)."""
    text = path.read_text(encoding="utf-8")
    folder = scratch_folder()
    try:
        cache: dict[str, list[str]] = {}
        for block in marked_blocks(text.split("\n")):
            if wanted(block, args.only, args.measured):
                output_of(block.command, folder, cache)
        new = generate(text, folder, args.only, cache, args.measured)
    except ReadmeError as error:
        print(f"readme: error: {path.name}: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.check:
        stale = comparable(new) != comparable(text)
        print(f"readme: {path.name} " + ("out of date: run `make readme`" if stale else
                                         "up to date"), file=sys.stderr)
        return 1 if stale else 0
    if new != text:
        path.write_text(new, encoding="utf-8")
    done = [b for b in marked_blocks(new.split("\n")) if wanted(b, args.only, args.measured)]
    print(f"readme: {path.name}: {len(done)} blocks generated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
