"""Reports: a results folder becomes ``report.html`` (self-contained) and ``report.md`` with PNG
plots in ``plots/``, so a result can be read, shared and archived without re-running anything.

The kind of folder is told from its manifest:

- run: ``diplosim run --out`` (``manifest.json`` with ``scenario_file`` and ``runs``, ``runs.csv``);
- sweep: ``diplosim sweep`` (``sweep.json`` beside ``manifest.json``, ``dataset.parquet``);
- validation: ``diplosim validate --report`` (manifest ``kind: validation``, ``validation.json``
  and one run folder per scenario under ``runs/``);
- counterfactual: ``diplosim counterfactual --out`` (manifest ``kind: counterfactual``,
  ``comparison.json``).

Everything shown comes from those files and from the scenario they name (for the recorded
outcome, the decisions' questions and the traced run); nothing here knows any particular
scenario. Numbers are formatted as the command-line tables format them (shares and intervals
to 3 decimals, hours to 1), so a table in the report can be recomputed from the folder's data.
Files are written into a staging folder first and renamed into place: a failed report leaves
the previous one (or none), never half of one.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Callable, Literal

import numpy as np
from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator,
)

from sim.engine.runner import NOT_REACHED, DecisionSummary
from sim.model.scenario import LoadedScenario, Scenario, ScenarioError, as_aware, load_scenario
from sim.model.yamlmap import YamlError, line_for, load_with_lines
from sim.paths import SCENARIOS

PROJECT_SCENARIOS = SCENARIOS
KINDS_EXPECTED = (
    "a results folder written by `diplosim run --out`, `diplosim sweep`, "
    "`diplosim validate --report` or `diplosim counterfactual --out`"
)
ROLE_SERIES = (  # (role, state variable, label) plotted on the traced run's timeline
    ("decider", "opposition", "public opposition"),
    ("patron", "pressure", "pressure"),
    ("decider", "threat", "perceived threat"),
)


class ReportError(ScenarioError):
    """A results folder (or a flag) the report cannot use: names the path and what was expected.
    A ScenarioError, so the command line reports it like any other input error (exit 2)."""

    def __init__(self, path: str | os.PathLike[str], message: str,
                 key: tuple[str | int, ...] = (), line: int | None = None):
        if key or line:  # located inside the file: FILE:LINE: key.path: message
            ScenarioError.__init__(self, str(path), key, line, message)
            return
        self.file, self.path, self.line, self.message = str(path), (), None, message
        Exception.__init__(self, f"{path}: {message}")


# -- the document ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells (the same strings go to HTML and Markdown)."""

    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Plot:
    """A PNG image, written to ``plots/<name>.png`` and embedded in the HTML."""

    name: str
    caption: str
    png: bytes


Block = str | Table | Plot  # a str is a paragraph


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    summary: list[str]
    sections: list[Section]

    def plots(self) -> list[Plot]:
        """Every plot, in reading order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Plot)]


# -- number formats (those of the command-line tables) --------------------------------------


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def f3(value: float | None) -> str:
    """A share or score: 3 decimals."""
    return "-" if _missing(value) else f"{value:.3f}"


def f1(value: float | None) -> str:
    """Hours: 1 decimal."""
    return "-" if _missing(value) else f"{value:.1f}"


def interval3(low: float | None, high: float | None) -> str:
    """A 95% interval of a share: ``[0.146, 0.178]``."""
    return "-" if _missing(low) or _missing(high) else f"[{low:.3f}, {high:.3f}]"


def interval1(low: float | None, high: float | None) -> str:
    """An interquartile range of hours: ``[1.0, 8.0]``."""
    return "-" if _missing(low) or _missing(high) else f"[{low:.1f}, {high:.1f}]"


def signed3(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """A difference with its interval, as ``diplosim counterfactual`` prints it."""
    if _missing(value):
        return "-"
    if _missing(low) or _missing(high):
        return f"{value:+.3f}"
    return f"{value:+.3f} [{low:+.3f}, {high:+.3f}]"


# -- folders and manifests ------------------------------------------------------------------

JSON_LIMIT = 64 * 1024 * 1024  # bytes: far above any JSON file diplosim writes
KNOWN_KINDS = ("run", "sweep", "validation", "counterfactual")
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}")  # scenario, decision and option ids
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")  # a plot's file name


def inside(folder: Path, relative: str | os.PathLike[str]) -> Path:
    """``folder / relative``, or a ReportError when it would resolve outside ``folder`` (an
    absolute path, ``..``, or a link pointing elsewhere): a results folder is read alone."""
    path = folder / relative
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ReportError(path, f"resolves outside the results folder {folder}; a results "
                                "folder may only refer to files inside it")
    return path


def read_json(path: Path) -> Any:
    """Parsed JSON, or a ReportError naming the file."""
    try:
        if not path.is_file():
            raise ReportError(path, "file not found" if not path.exists() else
                              "not a regular file; expected a JSON file")
        if path.stat().st_size > JSON_LIMIT:
            raise ReportError(path, f"larger than {JSON_LIMIT // 2**20} MiB; expected a JSON file "
                                    "written by diplosim")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ReportError(path, f"not a readable JSON file ({exc})") from None


def _bare_name(value: str) -> str:
    """A file name without any folder part (looked up beside the results and in scenarios/)."""
    if (not value or value in (".", "..") or "/" in value or "\\" in value or "\0" in value
            or len(value) > 255):
        raise ValueError(f"expected a bare file name (no folder part), got {value!r}")
    return value


def _relative(value: str) -> str:
    """A relative path inside the folder: no absolute path, no ``..`` part."""
    parts = PurePosixPath(value).parts
    if (not value or "\\" in value or "\0" in value or value.startswith("/")
            or any(p == ".." for p in parts) or len(value) > 1000):
        raise ValueError(f"expected a path inside the results folder, got {value!r}")
    return value


BareName = Annotated[str, AfterValidator(_bare_name)]
RelativePath = Annotated[str, AfterValidator(_relative)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Count = Annotated[int, Field(ge=0)]
Bounds = Annotated[list[float], Field(min_length=2, max_length=2)]  # [low, high]


class _Checked(BaseModel):
    """A file diplosim wrote: the fields the report uses are type-checked (strictly: no
    coercion of text to numbers); other keys are kept, as newer versions add some."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, allow_inf_nan=False)


class Manifest(_Checked):
    """What every manifest may carry."""

    kind: Literal["run", "sweep", "validation", "counterfactual"] | None = None
    version: str | None = None
    files: list[RelativePath] | None = None
    sha256: dict[RelativePath, Sha256] | None = None  # data file -> its SHA-256 hex digest


class RunManifest(Manifest):
    """``diplosim run --out`` (and each run folder of a validation)."""

    scenario_file: BareName
    scenario_id: Id | None = None
    scenario_sha256: Sha256 | None = None
    runs: int = Field(ge=1)
    rows: Count | None = None
    seed: Count | None = None
    engine: str | None = None
    constants: dict[str, Annotated[float, Field(gt=0)]] | None = None  # as constants.yaml


class _Design(_Checked):
    method: str | None = None


class SweepManifest(Manifest):
    """``diplosim sweep``."""

    scenario_file: BareName | None = None
    scenario_id: Id | None = None
    scenario_sha256: Sha256 | None = None
    spec_sha256: Sha256 | None = None
    parameters: dict[str, Bounds] | None = None
    design: _Design | None = None
    points: int = Field(ge=1)
    members_per_point: int = Field(ge=1)
    chunks: int = Field(ge=1)
    rows: Count
    seed: Count | None = None


class _ValidatedScenario(_Checked):
    scenario_id: Id | None = None
    scenario_file: BareName | None = None
    folder: RelativePath


class ValidationManifest(Manifest):
    """``diplosim validate --report``."""

    scenarios: list[_ValidatedScenario]
    runs: int | None = Field(default=None, ge=1)
    seed: Count | None = None
    engine: str | None = None


class CounterfactualManifest(Manifest):
    """``diplosim counterfactual --out``."""

    overlay_id: Id | None = None
    overlay_file: BareName | None = None
    base_scenario_id: Id | None = None
    base_scenario_file: BareName | None = None
    question: str | None = None
    runs: int | None = Field(default=None, ge=1)
    seed: Count | None = None


MANIFESTS: dict[str, type[Manifest]] = {
    "run": RunManifest, "sweep": SweepManifest, "validation": ValidationManifest,
    "counterfactual": CounterfactualManifest,
}


def checked(path: Path, data: Any, model: Any) -> Any:
    """``data`` (read from the JSON file ``path``) validated against ``model`` (a model or a
    type such as ``list[Model]``), or one ReportError at the first problem's key path and line."""
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = tuple(error["loc"])
        if "[key]" in key:  # a bad mapping key: locate the mapping, the message names the key
            key = key[:key.index("[key]") - 1]
        try:
            lines = load_with_lines(path.read_text(encoding="utf-8"))[1]
        except (OSError, UnicodeDecodeError, YamlError, RecursionError):
            lines = {}
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = f"missing required key '{key[-1]}'"
        elif not isinstance(error.get("input"), (dict, list)) and "got" not in message:
            message += f" (got {error.get('input')!r})"
        raise ReportError(path, message, key, line_for(lines, key)) from None


def _kind_from(path: Path, folder: Path, manifest: dict[str, Any]) -> str:
    """The kind of folder: the manifest's ``kind``, else (older manifests) told by its keys."""
    kind = manifest.get("kind")
    if kind is not None:
        if kind not in KNOWN_KINDS:
            raise ReportError(path, f"kind {kind!r} is not a folder diplosim report knows; "
                                    f"expected {KINDS_EXPECTED}", ("kind",))
        return kind
    if (folder / "sweep.json").is_file() or "spec_sha256" in manifest:
        return "sweep"
    if "scenario_file" in manifest and "runs" in manifest:
        return "run"
    raise ReportError(path, f"not a manifest diplosim report knows; expected {KINDS_EXPECTED}")


def folder_kind(folder: Path) -> tuple[str, dict[str, Any]]:
    """('run' | 'sweep' | 'validation' | 'counterfactual', manifest) of a results folder, its
    manifest checked and the files it gives a SHA-256 for verified."""
    if not folder.exists():
        raise ReportError(folder, f"no such folder; expected {KINDS_EXPECTED}")
    if not folder.is_dir():
        raise ReportError(folder, f"not a folder; expected {KINDS_EXPECTED}")
    path = inside(folder, "manifest.json")
    if not path.is_file():
        if (folder / "sweep.json").is_file():
            raise ReportError(path, "missing: the sweep has not finished; run `diplosim sweep` "
                              "on its spec again to finish it")
        inner = sorted(p.parent.name for p in folder.glob("*/manifest.json"))
        hint = f" (its subfolders {inner} have one: report one of them)" if inner else ""
        raise ReportError(folder, f"no manifest.json{hint}; expected {KINDS_EXPECTED}")
    manifest = read_json(path)
    if not isinstance(manifest, dict):
        raise ReportError(path, "expected a JSON object")
    kind = _kind_from(path, folder, manifest)
    checked(path, manifest, MANIFESTS[kind])
    verify_hashes(folder, manifest)
    return kind, manifest


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_hashes(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest gives a SHA-256 for is inside the folder and unchanged."""
    for name, expected in (manifest.get("sha256") or {}).items():
        path = inside(folder, name)
        if not path.is_file():
            raise ReportError(path, "missing or not a regular file, but manifest.json lists its "
                                    "SHA-256; the folder is incomplete")
        try:
            found = _file_sha256(path)
        except OSError as exc:
            raise ReportError(path, f"cannot be read ({exc.strerror or exc})") from None
        if found != expected:
            raise ReportError(path, "its SHA-256 differs from the one in manifest.json: the file "
                                    "was changed or damaged after diplosim wrote it")


@dataclass(frozen=True)
class Located:
    """The scenario a result was run from (None if not found), and what the report says of it."""

    loaded: LoadedScenario | None
    note: str

    @property
    def scenario(self) -> Scenario | None:
        """The scenario, with its recorded outcome, or None."""
        return self.loaded.scenario if self.loaded else None


def _shown(path: Path) -> str:
    """A path as the report prints it, never a machine path: relative to the working directory
    or to the project when inside them, else the file name."""
    resolved = path.resolve()
    for root in (Path.cwd().resolve(), PROJECT_SCENARIOS.parent):
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return path.name


def locate_scenario(folder: Path, manifest: dict[str, Any], given: str | None = None) -> Located:
    """Find the scenario file of a result: ``given`` (``--scenario``), else the file the
    manifest names (a bare file name: the manifest was checked), looked for inside the results
    folder, beside it, in the working directory and in the ``scenarios/`` folders; else a file
    there with the manifest's SHA-256 or scenario id. A file whose SHA-256 differs from the
    manifest's is used, with a note saying so. Nothing of a file that is not a scenario
    reaches the report: a manifest cannot make the report copy another file."""
    sha = manifest.get("scenario_sha256")
    scenario_id = manifest.get("scenario_id")
    if given is not None:
        path = Path(given)
        if not path.is_file():
            raise ReportError(path, "--scenario: no such file; expected the scenario file the "
                              "results were run from")
        return _load_located(path, sha, "given with --scenario", explain=True)
    name = manifest.get("scenario_file")
    candidates = []
    if name:
        candidates.append((inside(folder, name), "named in the manifest, beside the results"))
        roots = [(folder.parent, "beside the results folder"),
                 (Path.cwd(), "in the working directory"),
                 (Path.cwd() / "scenarios", "in scenarios/ of the working directory"),
                 (PROJECT_SCENARIOS, "in the project's scenarios/")]
        candidates += [(root / name, f"named in the manifest, {where}") for root, where in roots]
    for path, how in candidates:
        if path.is_file() and (sha is None or _file_sha256(path) == sha):
            return _load_located(path, sha, how)
    search = [p for root in dict.fromkeys([Path.cwd() / "scenarios", PROJECT_SCENARIOS])
              if root.is_dir() for p in sorted(root.rglob("*.yaml"))]
    if sha is not None:
        for path in search:
            if _file_sha256(path) == sha:
                return _load_located(path, sha, "found by its SHA-256")
    broken = None  # the first named file that exists but does not load
    for path, how in candidates:
        if path.is_file():
            located = _load_located(path, sha, how)
            if located.loaded is not None:
                return located
            broken = broken or located
    if scenario_id:
        for path in search:
            try:
                loaded = load_scenario(path, verify_quotes=False)
            except ScenarioError:
                continue
            if loaded.scenario.id == scenario_id:
                return _load_located(path, sha, "found by its scenario id")
    if broken is not None:
        return broken
    wanted = name or f"scenario '{scenario_id}'"
    return Located(None, (
        f"Scenario file {wanted} was not found beside the results, in the working directory or "
        "in the project's scenarios/ folder: recorded outcomes are not marked and no run is "
        "traced. Pass --scenario FILE to name it."
    ))


def _load_located(path: Path, sha: str | None, how: str, explain: bool = False) -> Located:
    """The scenario at ``path``; if it does not load, a note that says why only when the user
    named the file (a file found from a manifest may be anything: its text stays out)."""
    try:
        loaded = load_scenario(path, verify_quotes=False)
    except ScenarioError as exc:
        why = f" ({exc.message})" if explain else f"; `diplosim check {_shown(path)}` says why"
        return Located(None, f"Scenario file {_shown(path)} ({how}) could not be loaded{why}: "
                             "recorded outcomes are not marked.")
    note = f"Scenario file: {_shown(path)} ({how}"
    if sha is not None and loaded.sha256 != sha:
        note += "; NOTE: its SHA-256 differs from the file the results were run from, so the "
        note += "record and the traced run may not match them"
    elif sha is not None and "SHA-256" not in how:
        note += ", same SHA-256 as the file that was run"
    return Located(loaded, note + ").")


# -- reading runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunsTable:
    """A runs.csv, per decision (in file order): every run's outcome and hours before the
    deadline, and the outcome of run 0 (to check the traced replay against)."""

    outcomes: dict[str, list[str]]
    hours: dict[str, np.ndarray]
    run0: dict[str, str]
    run_ids: dict[str, set[int]] = field(default_factory=dict)
    rows: int = 0


RUNS_NEEDED = ("run", "decision", "outcome", "hours_before_deadline")


def _run_row(path: Path, line: int, row: dict[str | None, Any]) -> tuple[int, str, str, float]:
    """(run, decision, outcome, hours) of one row of a runs.csv, or a located ReportError."""
    if None in row or any(row[c] is None for c in RUNS_NEEDED):
        raise ReportError(path, "expected one value per column of the header", (), line)
    run, decision, outcome, hours = (row[c] for c in RUNS_NEEDED)
    if not run.isascii() or not run.isdigit():
        raise ReportError(path, f"expected a run number, got {run!r}", ("run",), line)
    for column, value in (("decision", decision), ("outcome", outcome)):
        if not IDENTIFIER.fullmatch(value):
            raise ReportError(path, f"expected an id (lower case, digits, _), got {value!r}",
                              (column,), line)
    try:
        value = float(hours) if hours else math.nan
    except ValueError:
        value = None
    if value is None or math.isinf(value):
        raise ReportError(path, f"expected a number of hours or nothing, got {hours!r}",
                          ("hours_before_deadline",), line)
    return int(run), decision, outcome, value


def read_runs(path: Path, expected_runs: int | None = None,
              expected_rows: int | None = None) -> RunsTable:
    """Read a runs.csv written by ``diplosim run --out`` (or ``validate --report``); with
    ``expected_runs`` (the manifest's counts), check it holds runs 0..N-1 of every decision."""
    if not path.is_file():
        raise ReportError(path, "missing; expected the runs table written by `diplosim run --out`")
    outcomes: dict[str, list[str]] = {}
    hours: dict[str, list[float]] = {}
    run0: dict[str, str] = {}
    ids: dict[str, set[int]] = {}
    rows = 0
    line = 1
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not set(RUNS_NEEDED) <= set(reader.fieldnames or ()):
                raise ReportError(path, f"expected the columns {sorted(RUNS_NEEDED)}", (), 1)
            for row in reader:
                line = reader.line_num
                run, decision, outcome, value = _run_row(path, line, row)
                outcomes.setdefault(decision, []).append(outcome)
                hours.setdefault(decision, []).append(value)
                ids.setdefault(decision, set()).add(run)
                rows += 1
                if run == 0:
                    run0[decision] = outcome
    except UnicodeDecodeError as exc:
        raise ReportError(path, f"not UTF-8 text ({exc.reason}); expected the runs table "
                                "written by `diplosim run --out`") from None
    except csv.Error as exc:
        raise ReportError(path, f"not a readable CSV table ({exc})", (), line + 1) from None
    except OSError as exc:
        raise ReportError(path, f"cannot be read ({exc.strerror or exc})") from None
    table = RunsTable(outcomes, {d: np.asarray(h, dtype=float) for d, h in hours.items()}, run0,
                      ids, rows)
    if expected_runs is not None:
        check_run_count(path, table, expected_runs, expected_rows)
    return table


def check_run_count(path: Path, table: RunsTable, expected: int, rows: int | None = None) -> None:
    """Refuse a runs table that does not hold exactly runs 0..expected-1 of every decision,
    once each: a report of part of the runs (or of a changed table) would mislead."""
    seen = set().union(*table.run_ids.values()) if table.run_ids else set()
    wanted = set(range(expected))
    problem = None
    if seen != wanted:
        problem = f"holds {len(seen)} run{'s' if len(seen) != 1 else ''}"
        if seen - wanted:
            problem += f" (including run {min(seen - wanted)})"
    else:
        for decision, outcomes in table.outcomes.items():
            if len(outcomes) != expected or table.run_ids[decision] != wanted:
                problem = f"holds {len(outcomes)} rows of decision '{decision}'"
                break
    if problem is None and rows is not None and table.rows != rows:
        raise ReportError(path, f"holds {table.rows} rows, but manifest.json says {rows}: the "
                                "table does not match its manifest; run `diplosim run --out` again")
    if problem is not None:
        raise ReportError(path, f"{problem}, but manifest.json says {expected} runs (0 to "
                                f"{expected - 1}, one row per run and decision): the table does "
                                "not match its manifest; run `diplosim run --out` again")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def parquet_rows(path: Path) -> int:
    """The row count a Parquet file's footer gives, or a ReportError naming the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise ReportError(path, "missing or not a regular file, but manifest.json lists it")
    try:
        return int(pq.read_metadata(path).num_rows)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReportError(path, f"not a readable Parquet table ({_first_line(exc)})") from None


def csv_rows(path: Path) -> int:
    """Lines after the header of a CSV table whose cells hold no line breaks (draws.csv)."""
    if not path.is_file():
        raise ReportError(path, "missing or not a regular file, but manifest.json lists it")
    try:
        with open(path, "rb") as handle:
            return max(sum(1 for _ in handle) - 1, 0)
    except OSError as exc:
        raise ReportError(path, f"cannot be read ({exc.strerror or exc})") from None


def check_run_tables(folder: Path, manifest: dict[str, Any], table: RunsTable) -> None:
    """The other tables a run folder's manifest lists hold as many rows as they should:
    runs.parquet as runs.csv, draws.csv and draws.parquet one per run."""
    listed = set(manifest.get("files") or ())
    expected = {"runs.parquet": (table.rows, "as runs.csv"),
                "draws.csv": (manifest["runs"], "one per run"),
                "draws.parquet": (manifest["runs"], "one per run")}
    for name, (rows, how) in expected.items():
        if name not in listed:
            continue
        if name.endswith(".parquet"):
            try:
                import pyarrow  # noqa: F401 - written only where pyarrow is installed
            except ImportError:
                continue
        path = inside(folder, name)
        found = parquet_rows(path) if name.endswith(".parquet") else csv_rows(path)
        if found != rows:
            raise ReportError(path, f"holds {found} rows where {rows} were expected ({how}, "
                                    f"manifest.json: {manifest['runs']} runs): the folder does "
                                    "not match its manifest; run `diplosim run --out` again")


def summarise(outcomes: list[str], hours: np.ndarray, decision: str,
              options: tuple[str, ...]) -> DecisionSummary:
    """The ensemble summary (shares, Wilson intervals, timing) of one decision's runs."""
    index = {o: i for i, o in enumerate(options)}
    codes = np.array([-1 if o == NOT_REACHED else index[o] for o in outcomes], dtype=np.int16)
    return DecisionSummary.from_codes(decision, options, codes, hours)


def _options_of(decision: str, outcomes: list[str], scenario: Scenario | None) -> tuple[str, ...]:
    """The decision's options: the scenario's, else those seen in the runs (sorted)."""
    seen = sorted({o for o in outcomes if o != NOT_REACHED})
    if scenario is not None:
        try:
            options = tuple(o.id for o in scenario.decision(decision).options)
        except KeyError:
            return tuple(seen)
        if set(seen) <= set(options):
            return options
    return tuple(seen)


def _quartiles(hours: np.ndarray) -> tuple[float, float, float]:
    if hours.size == 0:
        return (math.nan, math.nan, math.nan)
    q25, q50, q75 = np.percentile(hours, [25, 50, 75])
    return float(q25), float(q50), float(q75)


def outcome_table(summary: DecisionSummary, recorded: str | None) -> Table:
    """Shares with 95% Wilson intervals and decision times, one row per option."""
    rows = []
    for option in summary.options:
        low, high = summary.interval(option)
        q25, q50, q75 = _quartiles(summary.hours_for(option))
        name = f"{option} (recorded)" if option == recorded else option
        rows.append([name, str(summary.counts[option]), f3(summary.share(option)),
                     interval3(low, high), f1(q50), interval1(q25, q75)])
    q25, q50, q75 = _quartiles(summary.hours_before_deadline)
    rows.append(["(all reached runs)", str(summary.reached), "", "", f1(q50), interval1(q25, q75)])
    if summary.reached < summary.runs:
        rows.append(["(not reached: share of all runs)", str(summary.runs - summary.reached),
                     f3((summary.runs - summary.reached) / summary.runs), "", "", ""])
    return Table(
        caption=f"{summary.decision}: outcomes among the {summary.reached} of {summary.runs} runs "
                "that reached it",
        header=["outcome", "runs", "share", "95% CI", "median h before", "IQR"],
        rows=rows,
    )


# -- plots ----------------------------------------------------------------------------------


def _pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    _pyplot().close(fig)
    return buffer.getvalue()


def outcome_plot(summary: DecisionSummary, recorded: str | None, title: str) -> bytes:
    """Bar chart of option shares with 95% Wilson intervals; the recorded option hatched."""
    options = list(summary.options)
    return outcome_bars(options, [summary.share(o) for o in options],
                        [summary.interval(o) for o in options], recorded, title)


def outcome_bars(options: list[str], shares: list[float], bounds: list[tuple[float, float]],
                 recorded: str | None, title: str) -> bytes:
    """Bars of ``shares`` with their intervals ``bounds``; the recorded option hatched."""
    plt = _pyplot()
    shares = np.array(shares, dtype=float)
    bounds = np.array(bounds, dtype=float).reshape(-1, 2)
    errors = np.nan_to_num(np.abs(np.vstack([shares - bounds[:, 0], bounds[:, 1] - shares])))
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 * len(options) + 2), 3.8))
    colours = ["#d95f02" if o == recorded else "#7570b3" for o in options]
    bars = ax.bar(range(len(options)), np.nan_to_num(shares), yerr=errors, capsize=5,
                  color=colours, edgecolor="black", linewidth=0.6)
    for bar, option, share, high in zip(bars, options, shares, bounds[:, 1]):
        if option == recorded:
            bar.set_hatch("//")
        label = f3(share) + ("\nrecorded" if option == recorded else "")
        top = high if not math.isnan(high) else bar.get_height()
        ax.annotate(label, (bar.get_x() + bar.get_width() / 2, top), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(options)), options, fontsize=8)
    ax.set_ylim(0, 1.18)
    ax.set_ylabel("share of runs reaching it")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def timing_plot(summary: DecisionSummary, recorded_hours: float | None, title: str) -> bytes:
    """Histogram of hours before the deadline, stacked by option; the recorded time marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    hours = summary.hours_before_deadline
    top = max(float(hours.max()) if hours.size else 0.0, recorded_hours or 0.0, 1.0)
    edges = np.linspace(0.0, top, 41)
    stacks = [summary.hours_for(o) for o in summary.options]
    ax.hist(stacks, bins=edges, stacked=True, label=list(summary.options))
    if recorded_hours is not None:
        ax.axvline(recorded_hours, color="black", linestyle="--", linewidth=1.2,
                   label=f"recorded: {f1(recorded_hours)} h before")
    ax.invert_xaxis()
    ax.set_xlabel("hours before the deadline (deadline at the right)")
    ax.set_ylabel("runs")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


# -- the traced run -------------------------------------------------------------------------


@dataclass(frozen=True)
class TracedRun:
    """Run 0 replayed by the Mesa agents with the data collector on."""

    times: list[datetime]
    series: dict[str, np.ndarray]  # label -> state after each step
    utilities: dict[str, np.ndarray]  # "decision: option" -> decider's utility
    events: list[tuple[datetime, str, str]]  # (time, id, description)
    decisions: list[tuple[datetime, str, str, bool]]  # (time, decision, option, by default)
    outcomes: dict[str, str]  # decision -> outcome or not_reached
    start: datetime  # the clock's start, in the scenario's time zone
    span: tuple[datetime, datetime] | None = None  # the whole clock, for the time axis

    @property
    def timezone(self) -> str:
        """The clock's UTC offset, for the time axis label."""
        return self.start.strftime("UTC%z") if self.start.utcoffset() is not None else ""

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the clock's time zone, as a naive datetime (for the plot's axis)."""
        return as_aware(moment).astimezone(self.start.tzinfo).replace(tzinfo=None)


def trace_run(scenario: Scenario, constants_values: dict[str, float], seed: int) -> TracedRun:
    """Replay run 0 of ``seed`` with the agents and read the model's data collector, by role."""
    from sim.model.constants import Constants
    from sim.engine.runner import build_model

    model = build_model(scenario.without_record(), Constants(**constants_values), seed, 0,
                        trace=True)
    model.run()
    return traced(model)


def traced(model: Any) -> TracedRun:
    """What a traced model's data collector holds so far (a finished run, or one part way
    through, as the teaching page shows it), by role."""
    from sim.engine.runner import run_rows

    scenario = model.scenario
    data = model.datacollector.get_model_vars_dataframe()
    start = model.clock.start

    def local(hours: float) -> datetime:
        return model.moment(hours).replace(tzinfo=None)

    series = {}
    for role, variable, label in ROLE_SERIES:
        agent = model.by_role.get(role)
        column = f"{agent.actor_id}.{variable}" if agent is not None else None
        if column in data.columns:
            series[f"{agent.name} ({role}): {label}"] = data[column].to_numpy(dtype=float)
    utilities = {
        f"{key.split('.', 2)[1]}: {key.split('.', 2)[2]}": data[key].to_numpy(dtype=float)
        for key in data.columns if key.startswith("utility.")
    }
    end = float(model.clock.boundaries[-1])
    events = [
        (local(model.clock.hours(e.time)), e.id, e.description)
        for e in sorted(scenario.events, key=lambda e: as_aware(e.time))
        if 0.0 <= model.clock.hours(e.time) <= end
    ]
    decisions = [(local(d.decided_h), d.id, d.outcome, d.by_default)
                 for d in model.decisions if d.status == "resolved"]
    return TracedRun(
        times=[local(h) for h in model.clock.step_starts.tolist()[: len(data)]],
        series=series,
        utilities=utilities,
        events=events,
        decisions=decisions,
        outcomes={str(r["decision"]): str(r["outcome"]) for r in run_rows(model, 0)},
        start=start,
        span=(local(0.0), local(end)),
    )


def timeline_plot(run: TracedRun, recorded: list[tuple[datetime, str]], title: str) -> bytes:
    """State and the decider's utilities over time, with events (numbered as in the events
    table), the run's decisions and the recorded decisions as vertical lines."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6.5), sharex=True)
    for label, values in run.series.items():
        top.step(run.times, values, where="post", label=label)
    for label, values in run.utilities.items():
        if np.isfinite(values).any():
            bottom.step(run.times, values, where="post", label=label)
    for ax in (top, bottom):
        for moment, _, _ in run.events:
            ax.axvline(moment, color="grey", linestyle=":", linewidth=0.8)
        for moment, _, _, _ in run.decisions:
            ax.axvline(moment, color="red", linewidth=1.4)
        for moment, _ in recorded:
            ax.axvline(moment, color="black", linestyle="--", linewidth=1.0)
    for number, (moment, _, _) in enumerate(run.events, start=1):  # staggered: events crowd
        top.annotate(str(number), (moment, 1.0), xycoords=("data", "axes fraction"),
                     xytext=(2, -10 - 9 * ((number - 1) % 3)), textcoords="offset points",
                     fontsize=7, color="dimgrey")
    for moment, _, option, by_default in run.decisions:
        how = " (default)" if by_default else ""
        bottom.annotate(f"run: {option}{how}", (moment, 0.98), xycoords=("data", "axes fraction"),
                        rotation=90, fontsize=7, color="red", xytext=(-9, 0),
                        textcoords="offset points", va="top")
    for moment, option in recorded:
        bottom.annotate(f"recorded: {option}", (moment, 0.98), xycoords=("data", "axes fraction"),
                        rotation=90, fontsize=7, xytext=(3, 0), textcoords="offset points",
                        va="top")
    top.set_ylim(-0.02, 1.08)
    top.set_ylabel("state (0..1)")
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    top.set_title(title, fontsize=9)
    if run.span is not None:
        bottom.set_xlim(*run.span)
    bottom.set_ylabel("decider's utility")
    bottom.set_xlabel(f"date ({run.timezone})" if run.timezone else "date")
    if bottom.get_legend_handles_labels()[0]:
        bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)


def _hours_before(scenario: Scenario, decision: str, moment: datetime) -> float:
    deadline = as_aware(scenario.decision(decision).deadline)
    return (deadline - as_aware(moment)).total_seconds() / 3600.0


# -- run folders ----------------------------------------------------------------------------


def run_sections(folder: Path, manifest: dict[str, Any], located: Located,
                 prefix: str = "") -> list[Section]:
    """Outcome shares, timing and one traced run of a ``diplosim run --out`` folder."""
    scenario = located.scenario
    runs = read_runs(inside(folder, "runs.csv"), manifest["runs"], manifest.get("rows"))
    check_run_tables(folder, manifest, runs)
    record = scenario.recorded_outcome if scenario is not None else {}
    sections = []
    order = [d.id for d in scenario.decisions if d.id in runs.outcomes] if scenario else []
    order += [d for d in runs.outcomes if d not in order]
    for decision in order:
        outcomes, hours = runs.outcomes[decision], runs.hours[decision]
        summary = summarise(outcomes, hours, decision, _options_of(decision, outcomes, scenario))
        rec = record.get(decision)
        recorded = rec.option if rec is not None else None
        rec_hours = (_hours_before(scenario, decision, rec.time)
                     if rec is not None and getattr(rec, "time", None) else None)
        question = ""
        if scenario is not None and decision in [d.id for d in scenario.decisions]:
            question = scenario.decision(decision).question
        title = f"{prefix.rstrip('_') + ': ' if prefix else ''}{decision}"
        blocks: list[Block] = []
        if question:
            blocks.append(question)
        if rec is not None:
            blocks.append(f"Recorded: {rec.option}, {f1(rec_hours)} h before the deadline "
                          f"({as_aware(rec.time).isoformat()}).")
        elif scenario is None:
            blocks.append("Recorded outcome unknown (scenario file not found).")
        blocks.append(outcome_table(summary, recorded))
        blocks.append(Plot(f"{prefix}outcomes_{decision}",
                           f"{title}: share of each outcome with 95% Wilson intervals"
                           + ("; hatched: recorded" if recorded else ""),
                           outcome_plot(summary, recorded, f"{title} ({summary.reached} runs)")))
        blocks.append(Plot(f"{prefix}timing_{decision}",
                           f"{title}: decision time, hours before the deadline"
                           + ("; dashed: recorded" if rec_hours is not None else ""),
                           timing_plot(summary, rec_hours, title)))
        sections.append(Section(f"Decision {title}", blocks))
    sections.append(trace_section(folder, manifest, located, runs, prefix))
    return sections


def trace_section(folder: Path, manifest: dict[str, Any], located: Located,
                  runs: RunsTable, prefix: str = "") -> Section:
    """The timeline of run 0, replayed by the agents from the manifest's seed and constants."""
    title = f"{prefix.rstrip('_') + ': ' if prefix else ''}run 0, step by step"
    section = Section(f"Timeline of {title}")
    scenario = located.scenario
    if scenario is None:
        section.blocks.append("Not traced: the scenario file was not found.")
        return section
    try:
        run = trace_run(scenario, manifest["constants"], int(manifest["seed"]))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        section.blocks.append(f"Not traced: the manifest lacks what a replay needs ({exc}).")
        return section
    section.blocks.append(
        f"Run 0 of seed {manifest['seed']} replayed with the Mesa agents (data collector on): the "
        "decider's public opposition and perceived threat, the patron's pressure, and the "
        "decider's utility of each open option after every step. Grey dotted lines: events "
        "(numbered as below); red: the run's decisions; black dashed: the recorded decisions."
    )
    if any(runs.run0.get(d) not in (None, o) for d, o in run.outcomes.items()):
        section.blocks.append("NOTE: the replay's outcomes differ from run 0 in runs.csv "
                              f"(replay {run.outcomes}, table {runs.run0}).")
    recorded = [(run.local(r.time), r.option) for r in scenario.recorded_outcome.values()]
    image = timeline_plot(run, recorded, f"{scenario.id}: run 0, step by step")
    section.blocks.append(Plot(f"{prefix}timeline_run0",
                               f"{title}: state, utilities, events and decisions", image))
    rows = [[str(i), t.strftime("%Y-%m-%d %H:%M"), event_id, description]
            for i, (t, event_id, description) in enumerate(run.events, start=1)]
    rows += [["", t.strftime("%Y-%m-%d %H:%M"), f"decision {d}",
              f"run 0: {o}" + (" (by default at the deadline)" if by_default else "")]
             for t, d, o, by_default in run.decisions]
    section.blocks.append(Table("Events and decisions of the traced run", ["#", "time", "id",
                                                                            "what"], rows))
    return section


def run_document(folder: Path, manifest: dict[str, Any], located: Located) -> Document:
    """The report of one ``diplosim run --out`` folder."""
    summary = [
        f"Scenario {manifest.get('scenario_id')}: {manifest.get('runs')} runs, seed "
        f"{manifest.get('seed')}, {manifest.get('engine', '?')} engine, diplosim "
        f"{manifest.get('version', '?')}.",
        located.note,
    ]
    return Document(f"diplosim run: {manifest.get('scenario_id')}", summary,
                    run_sections(folder, manifest, located))


# -- validation folders ---------------------------------------------------------------------


def validation_table(scores: list[dict[str, Any]]) -> Table:
    """The rows of ``diplosim validate``, formatted as its table formats them."""
    rows = []
    for s in scores:
        rows.append([
            str(s["scenario"]), str(s["decision"]), str(s["recorded_outcome"]),
            f3(s["p_recorded"]), interval3(s["ci_low"], s["ci_high"]),
            f"{s['modal_outcome']} ({f3(s.get('p_modal'))})",
            f1(s["recorded_hours_before_deadline"]), f1(s["median_hours_before_deadline"]),
            interval1(s.get("q25_hours_before_deadline"), s.get("q75_hours_before_deadline")),
            f1(s.get("median_hours_if_recorded_option")),
            f3(s["brier"]), f3(s["brier_status_quo"]), f3(s["brier_uniform"]),
            f"{s['p_reached']:.1%}" if not _missing(s.get("p_reached")) else "-",
        ])
    return Table(
        "Simulated against recorded decisions. Brier: multi-category, 0 best, 2 worst; SQ: all "
        "weight on the option that happens by inaction; unif: equal weight on every option. "
        "Hours are before the decision's deadline; rec-opt: median over the runs that chose the "
        "recorded option.",
        ["scenario", "decision", "recorded", "P(recorded)", "95% CI", "modal (share)",
         "rec h", "sim median h", "IQR", "rec-opt h", "Brier", "SQ", "unif", "reached"],
        rows,
    )


Number = float | None  # null where a score is undefined (NaN or infinite before writing)


class ScoreRow(_Checked):
    """One row of validation.json, as the report's table reads it."""

    scenario: str
    decision: str
    recorded_outcome: str
    modal_outcome: str
    p_recorded: Number
    ci_low: Number
    ci_high: Number
    p_modal: Number = None
    recorded_hours_before_deadline: Number
    median_hours_before_deadline: Number
    q25_hours_before_deadline: Number = None
    q75_hours_before_deadline: Number = None
    median_hours_if_recorded_option: Number = None
    brier: Number
    brier_status_quo: Number
    brier_uniform: Number
    p_reached: Number = None


def validation_document(folder: Path, manifest: dict[str, Any]) -> Document:
    """The validation table, then every scenario's runs as in a run report."""
    path = inside(folder, "validation.json")
    scores = read_json(path)
    if not isinstance(scores, list):
        raise ReportError(path, "expected a JSON list of score rows")
    checked(path, scores, list[ScoreRow])
    sections = [Section("Validation", [validation_table(scores)])]
    notes = []
    for number, entry in enumerate(manifest.get("scenarios") or []):
        sub = inside(folder, entry["folder"])
        kind, sub_manifest = folder_kind(sub)
        if kind != "run":
            raise ReportError(sub / "manifest.json", "expected the manifest of a run folder")
        located = locate_scenario(sub, sub_manifest)
        notes.append(f"{sub_manifest.get('scenario_id')}: {located.note}")
        prefix = f"{sub_manifest.get('scenario_id') or f'scenario{number}'}_"
        sections += run_sections(sub, sub_manifest, located, prefix=prefix)
    summary = [f"{manifest.get('runs')} runs per scenario, seed {manifest.get('seed')}, "
               f"{manifest.get('engine', '?')} engine, diplosim {manifest.get('version', '?')}.",
               *notes]
    return Document("diplosim validation", summary, sections)


# -- sweep folders --------------------------------------------------------------------------


@dataclass(frozen=True)
class Heatmap:
    """Mean share of one option per cell of two swept parameters (or one, when only one varies)."""

    x: str
    y: str | None
    x_edges: np.ndarray
    y_edges: np.ndarray | None
    x_labels: list[str]
    y_labels: list[str]
    mean: np.ndarray  # (len(y_labels), len(x_labels)); NaN where no point
    count: np.ndarray
    grid: bool
    averaged: bool  # other parameters vary too: each cell averages over them


def _axis_cells(values: np.ndarray, bounds: tuple[float, float], grid: bool,
                bins: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(cell index of each value, cell edges, cell labels): a grid's own levels, else equal bins."""
    if grid:
        levels = np.unique(values)
        index = np.searchsorted(levels, values)
        mids = (levels[1:] + levels[:-1]) / 2 if levels.size > 1 else np.array([])
        step = (levels[-1] - levels[0]) / max(levels.size - 1, 1) or 1.0
        edges = np.concatenate([[levels[0] - step / 2], mids, [levels[-1] + step / 2]])
        return index, edges, [f"{v:.3f}" for v in levels]
    lo, hi = bounds
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    return index, edges, [f"{a:.3f}-{b:.3f}" for a, b in zip(edges[:-1], edges[1:])]


def bins_for(points: int) -> int:
    """Bins per axis for a non-grid design: about four points per cell, 2 to 12 bins."""
    return int(min(12, max(2, round(math.sqrt(points / 4)))))


def sweep_heatmap(data: dict[str, list[Any]], x: str, y: str | None, decision: str, option: str,
                  bounds: dict[str, tuple[float, float]], grid: bool,
                  averaged: bool = False) -> Heatmap:
    """Mean share of ``option`` over the points falling in each cell (points where the decision
    was never reached have no share and are left out)."""
    keep = [i for i, (d, o) in enumerate(zip(data["decision"], data["option"]))
            if d == decision and o == option]
    share = np.array([math.nan if data["share"][i] is None else data["share"][i] for i in keep],
                     dtype=float)
    xs = np.array([data[x][i] for i in keep], dtype=float)
    bins = bins_for(len(keep)) if y is not None else min(20, max(2, round(math.sqrt(len(keep)))))
    xi, x_edges, x_labels = _axis_cells(xs, bounds[x], grid, bins)
    if y is not None:
        ys = np.array([data[y][i] for i in keep], dtype=float)
        yi, y_edges, y_labels = _axis_cells(ys, bounds[y], grid, bins)
    else:
        yi, y_edges, y_labels = np.zeros(len(keep), dtype=int), None, [""]
    total = np.zeros((len(y_labels), len(x_labels)))
    count = np.zeros_like(total)
    for a, b, s in zip(yi, xi, share):
        if not math.isnan(s):
            total[a, b] += s
            count[a, b] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return Heatmap(x, y, x_edges, y_edges, x_labels, y_labels, mean, count, grid, averaged)


def heatmap_plot(h: Heatmap, title: str, points: dict[str, np.ndarray]) -> bytes:
    """Cells coloured by mean share (values written in when few); a line for one parameter.
    A sampled design's points are dotted over the cells."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5.2) if h.y else (7, 3.8))
    ax.set_facecolor("#e6e6e6")  # cells without points
    if h.y is None:
        centres = (h.x_edges[1:] + h.x_edges[:-1]) / 2
        ax.plot(centres, h.mean[0], marker="o")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("mean share")
    else:
        mesh = ax.pcolormesh(h.x_edges, h.y_edges, np.ma.masked_invalid(h.mean), cmap="viridis",
                             vmin=0.0, vmax=1.0)
        fig.colorbar(mesh, ax=ax, label="mean share")
        if h.mean.size <= 144:
            xc = (h.x_edges[1:] + h.x_edges[:-1]) / 2
            yc = (h.y_edges[1:] + h.y_edges[:-1]) / 2
            for a, yv in enumerate(yc):
                for b, xv in enumerate(xc):
                    if not math.isnan(h.mean[a, b]):
                        ax.text(xv, yv, f"{h.mean[a, b]:.2f}", ha="center", va="center",
                                fontsize=7, color="white" if h.mean[a, b] < 0.6 else "black")
        if not h.grid:
            ax.scatter(points["x"], points["y"], s=4, color="white", alpha=0.5, linewidths=0)
        ax.set_ylabel(h.y)
    ax.set_xlabel(h.x)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def heatmap_table(h: Heatmap, option: str) -> Table:
    """The heatmap's cells as a table: rows are y cells (top = highest), columns x cells."""
    if h.y is None:
        rows = [[label, f3(h.mean[0, b]), str(int(h.count[0, b]))]
                for b, label in enumerate(h.x_labels)]
        return Table(f"Mean share of {option} per cell of {h.x}"
                     + ("; averaged over the other swept parameters" if h.averaged else ""),
                     [h.x, "mean share", "points"], rows)
    rows = [[h.y_labels[a], *[f3(h.mean[a, b]) for b in range(len(h.x_labels))]]
            for a in reversed(range(len(h.y_labels)))]
    how = "grid levels" if h.grid else "equal bins of the swept bounds"
    how += "; averaged over the other swept parameters" if h.averaged else ""
    return Table(f"Mean share of {option} per cell ({how}; rows: {h.y}, columns: {h.x})",
                 [f"{h.y} \\ {h.x}", *h.x_labels], rows)


class SweepState(_Checked):
    """``sweep.json``: which sweep a folder holds and how it was cut into chunks."""

    spec_sha256: Sha256 | None = None
    points: int = Field(ge=1)
    chunk_points: int = Field(ge=1)


def _column_kinds(table: Any, names: list[str]) -> dict[str, tuple[str, bool]]:
    """Column -> (expected kind, nulls allowed) of a sweep dataset."""
    kinds = {"point": ("integer", False), "decision": ("string", False),
             "option": ("string", False), "share": ("number", True), "runs": ("integer", False),
             "reached": ("integer", False)}
    kinds.update({c: ("number", True) for c in ("median_hours", "q25_hours", "q75_hours")})
    kinds.update({name: ("number", False) for name in names})
    return kinds


def _is_kind(arrow_type: Any, kind: str) -> bool:
    import pyarrow.types as pat

    if pat.is_null(arrow_type):
        return kind == "number"  # a column of nulls only (no point reached that option)
    if kind == "integer":
        return pat.is_integer(arrow_type)
    if kind == "string":
        return pat.is_string(arrow_type) or pat.is_large_string(arrow_type)
    return pat.is_integer(arrow_type) or pat.is_floating(arrow_type)


def read_dataset(folder: Path, manifest: dict[str, Any]) -> tuple[dict[str, list[Any]], list[str]]:
    """(columns, swept parameter names in spec order) of a sweep folder's dataset.parquet,
    its columns' types checked and its counts checked against the manifest and sweep.json."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.experiments.sweep import DATASET_COLUMNS

    path = inside(folder, "dataset.parquet")
    if not path.is_file():
        raise ReportError(path, "missing; expected the dataset written by `diplosim sweep`")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReportError(path, f"not a readable Parquet dataset ({_first_line(exc)}); expected "
                                "the dataset written by `diplosim sweep`") from None
    names = [c for c in table.column_names if c not in DATASET_COLUMNS]  # spec order
    if not set(DATASET_COLUMNS) <= set(table.column_names) or not names or not table.num_rows:
        raise ReportError(path, f"expected the columns {list(DATASET_COLUMNS)} and at least one "
                                "swept parameter")
    for column, (kind, nullable) in _column_kinds(table, names).items():
        values = table.column(column)
        if not _is_kind(values.type, kind) or (values.null_count and not nullable):
            raise ReportError(path, f"column '{column}': expected {kind}s"
                                    + ("" if nullable else " without nulls")
                                    + f", found {values.type} with {values.null_count} nulls")
    data = table.to_pydict()
    check_dataset(path, data, names, manifest)
    return data, names


def check_dataset(path: Path, data: dict[str, list[Any]], names: list[str],
                  manifest: dict[str, Any]) -> None:
    """The dataset holds what its manifest says: its rows, points 0..N-1, the members per
    point, the swept parameters; its ids are ids and its shares shares."""
    def refuse(what: str) -> None:
        raise ReportError(path, f"{what}: the dataset does not match its manifest (or was "
                                "changed); run `diplosim sweep` on its spec again")

    rows, points = len(data["point"]), manifest["points"]
    if rows != manifest["rows"]:
        refuse(f"holds {rows} rows, but manifest.json says {manifest['rows']}")
    if set(data["point"]) != set(range(points)):
        refuse(f"holds {len(set(data['point']))} points, but manifest.json says {points} "
               f"(0 to {points - 1})")
    members = manifest["members_per_point"]
    if any(r != members for r in data["runs"]):
        refuse(f"column 'runs': expected {members} members per point (manifest.json)")
    if any(not 0 <= r <= members for r in data["reached"]):
        refuse(f"column 'reached': expected 0 to {members} runs")
    if any(s is not None and not 0.0 <= s <= 1.0 for s in data["share"]):
        refuse("column 'share': expected shares between 0 and 1")
    for column in ("decision", "option"):
        bad = next((v for v in dict.fromkeys(data[column]) if not IDENTIFIER.fullmatch(v)), None)
        if bad is not None:
            refuse(f"column '{column}': expected ids (lower case, digits, _), got {bad!r}")
    parameters = manifest.get("parameters")
    if parameters is not None and set(parameters) != set(names):
        refuse(f"varies {names}, but manifest.json says {sorted(parameters)}")
    state_path = inside(path.parent, "sweep.json")
    if state_path.is_file():
        state = checked(state_path, read_json(state_path), SweepState)
        chunks = -(-state.points // state.chunk_points)
        spec = manifest.get("spec_sha256")
        if state.points != points or chunks != manifest["chunks"]:
            problem = (f"gives {state.points} points in {chunks} chunks, but manifest.json says "
                       f"{points} points in {manifest['chunks']} chunks")
        elif spec is not None and state.spec_sha256 not in (None, spec):
            problem = "names another spec than manifest.json (their spec_sha256 differ)"
        else:
            return
        raise ReportError(state_path, f"{problem}: the folder does not hold one finished sweep; "
                                      "run `diplosim sweep` on its spec again")


def sweep_document(folder: Path, manifest: dict[str, Any], located: Located, x: str | None,
                   y: str | None, decision: str | None, option: str | None) -> Document:
    """Heatmap of one option's share over two swept parameters; flags checked first."""
    data, names = read_dataset(folder, manifest)
    x = x or names[0]
    if x not in names:
        raise ReportError(folder, f"--x: unknown parameter '{x}'; expected one of {names}")
    if y is None and len(names) > 1:
        y = next(n for n in names if n != x)
    if y is not None and y == x:
        raise ReportError(folder, f"--y: '{y}' is also the x axis; expected another of {names}")
    if y is not None and y not in names:
        raise ReportError(folder, f"--y: unknown parameter '{y}'; expected one of "
                                f"{[n for n in names if n != x]}")
    decisions = list(dict.fromkeys(data["decision"]))
    decision = decision or decisions[0]
    if decision not in decisions:
        raise ReportError(folder, f"--decision: unknown decision '{decision}'; expected one of "
                                f"{decisions}")
    options = list(dict.fromkeys(o for d, o in zip(data["decision"], data["option"])
                                 if d == decision))
    scenario = located.scenario
    record = scenario.recorded_outcome.get(decision) if scenario is not None else None
    option = option or (record.option if record is not None and record.option in options
                        else options[0])
    if option not in options:
        raise ReportError(folder, f"--option: unknown option '{option}' of '{decision}'; expected "
                                f"one of {options}")
    bounds = {k: tuple(v) for k, v in (manifest.get("parameters") or {}).items()}
    for name in names:
        if name not in bounds:
            values = [v for v in data[name] if v is not None]
            bounds[name] = (min(values), max(values))
    design = manifest.get("design") or {}
    grid = design.get("method") == "grid"
    heat = sweep_heatmap(data, x, y, decision, option, bounds, grid,
                         averaged=len(names) > (2 if y else 1))
    keep = [i for i, (d, o) in enumerate(zip(data["decision"], data["option"]))
            if d == decision and o == option]
    points = {"x": np.array([data[x][i] for i in keep], dtype=float),
              "y": np.array([data[y][i] for i in keep], dtype=float) if y else None}
    shares = np.array([data["share"][i] for i in keep if data["share"][i] is not None], float)
    title = f"{manifest.get('scenario_id')}: P({decision} = {option})"
    blocks: list[Block] = [
        f"{len(keep)} points ({design.get('method', '?')} design), "
        f"{manifest.get('members_per_point')} members per point. Mean share of {option} over all "
        f"points: {f3(float(shares.mean()) if shares.size else math.nan)}."
        + (f" Recorded outcome of {decision}: {record.option}." if record is not None else ""),
        Plot(f"heatmap_{decision}_{option}", f"{title} over {x}" + (f" and {y}" if y else ""),
             heatmap_plot(heat, title, points)),
        heatmap_table(heat, option),
    ]
    summary = [
        f"Sweep of scenario {manifest.get('scenario_id')}: {manifest.get('points')} points x "
        f"{manifest.get('members_per_point')} members, seed {manifest.get('seed')}, diplosim "
        f"{manifest.get('version', '?')}. Varied: "
        + ", ".join(f"{n} in {list(bounds[n])}" for n in names) + ".",
        located.note,
        "Choose the axes and the outcome with --x, --y, --decision and --option.",
    ]
    return Document(f"diplosim sweep: {manifest.get('scenario_id')}", summary,
                    [Section(f"{decision} = {option}", blocks)])


# -- counterfactual folders -----------------------------------------------------------------


def counterfactual_plot(entry: dict[str, Any], title: str) -> bytes:
    """Baseline against counterfactual shares (95% intervals) and their paired difference."""
    plt = _pyplot()
    options = entry.get("options") or list(entry["baseline"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8),
                                      gridspec_kw={"width_ratios": [3, 2]})
    xs = np.arange(len(options))
    for offset, key, label, colour in ((-0.2, "baseline", "baseline", "#7570b3"),
                                       (0.2, "counterfactual", "counterfactual", "#1b9e77")):
        shares = np.array([np.nan if entry[key][o] is None else entry[key][o] for o in options],
                          dtype=float)
        ci = entry.get(f"{key}_ci") or {}
        errors = None
        if ci:
            lows = np.array([ci[o][0] if ci[o][0] is not None else np.nan for o in options], float)
            highs = np.array([ci[o][1] if ci[o][1] is not None else np.nan for o in options], float)
            errors = np.nan_to_num(np.abs(np.vstack([shares - lows, highs - shares])))
        left.bar(xs + offset, np.nan_to_num(shares), 0.4, yerr=errors, capsize=4, label=label,
                 color=colour, edgecolor="black", linewidth=0.6)
    left.set_xticks(xs, options, fontsize=8)
    left.set_ylim(0, 1.05)
    left.set_ylabel("share of runs reaching it")
    left.legend(fontsize=7)
    left.set_title(title, fontsize=9)
    diff = entry["difference"]
    means = np.array([diff[o]["mean"] for o in options], dtype=float)
    lows, highs = (np.array([np.nan if diff[o][k] is None else diff[o][k] for o in options])
                   for k in ("ci_low", "ci_high"))
    right.barh(xs, means, xerr=np.nan_to_num(np.abs(np.vstack([means - lows, highs - means]))),
               capsize=4, color=["#1b9e77" if m >= 0 else "#d95f02" for m in means])
    right.axvline(0.0, color="black", linewidth=0.8)
    right.set_yticks(xs, options, fontsize=8)
    right.invert_yaxis()
    right.set_xlabel("counterfactual - baseline (paired, 95% CI)")
    fig.tight_layout()
    return _png(fig)


Interval = Annotated[list[Number], Field(min_length=2, max_length=2)]  # [low, high]


class _Difference(_Checked):
    mean: Number
    ci_low: Number
    ci_high: Number


class _Term(_Checked):
    term: str
    baseline: Number
    counterfactual: Number


class Comparison(_Checked):
    """One decision of comparison.json, as the report reads it."""

    decision: Id
    options: list[str] | None = None
    baseline: dict[str, Number]
    counterfactual: dict[str, Number]
    difference: dict[str, _Difference]
    baseline_ci: dict[str, Interval] | None = None
    counterfactual_ci: dict[str, Interval] | None = None
    baseline_reached: float | None = None
    counterfactual_reached: float | None = None
    baseline_median_hours: Number = None
    counterfactual_median_hours: Number = None
    attribution: list[_Term] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Comparison:
        """Every option has a share on each side and a difference; both reached or neither."""
        for option in self.options or list(self.baseline):
            for name in ("baseline", "counterfactual", "difference", "baseline_ci",
                         "counterfactual_ci"):
                if getattr(self, name) and option not in getattr(self, name):
                    raise ValueError(f"{name}: missing option '{option}'")
        if (self.baseline_reached is None) != (self.counterfactual_reached is None):
            raise ValueError("expected baseline_reached and counterfactual_reached, or neither")
        return self


def counterfactual_document(folder: Path, manifest: dict[str, Any]) -> Document:
    """Baseline against counterfactual per decision: table, plot, timing and attribution."""
    path = inside(folder, "comparison.json")
    comparisons = read_json(path)
    if not isinstance(comparisons, list):
        raise ReportError(path, "expected the JSON list that `diplosim counterfactual --json` "
                                "prints")
    checked(path, comparisons, list[Comparison])
    sections = []
    for entry in comparisons:
        decision = entry["decision"]
        options = entry.get("options") or list(entry["baseline"])
        base_ci = entry.get("baseline_ci") or {}
        cf_ci = entry.get("counterfactual_ci") or {}
        rows = []
        for o in options:
            d = entry["difference"][o]
            rows.append([
                o, f3(entry["baseline"][o]), interval3(*base_ci.get(o, (None, None))),
                f3(entry["counterfactual"][o]), interval3(*cf_ci.get(o, (None, None))),
                signed3(d["mean"], d["ci_low"], d["ci_high"]),
            ])
        blocks: list[Block] = []
        if entry.get("baseline_reached") is not None:
            blocks.append(f"Reached: baseline {entry['baseline_reached']:.1%}, counterfactual "
                          f"{entry['counterfactual_reached']:.1%} of runs.")
        blocks.append(Table(f"{decision}: shares among the runs that reached it (95% Wilson "
                            "intervals) and the paired difference over all runs",
                            ["option", "baseline", "95% CI", "counterfactual", "95% CI",
                             "difference [95% CI]"], rows))
        base_h, cf_h = entry.get("baseline_median_hours"), entry.get("counterfactual_median_hours")
        blocks.append(f"Median decision time, hours before the deadline: baseline {f1(base_h)}, "
                      f"counterfactual {f1(cf_h)}"
                      + ("" if _missing(base_h) or _missing(cf_h) else
                         f" (shift {cf_h - base_h:+.1f})") + ".")
        blocks.append(Plot(f"counterfactual_{decision}", f"{decision}: baseline against "
                           "counterfactual, and the difference",
                           counterfactual_plot(entry, f"{manifest.get('overlay_id')}: {decision}")))
        terms = entry.get("attribution") or []
        if terms:
            blocks.append(Table(
                f"{decision}: mean contribution of each utility term to the gap between the most "
                "and the least cooperative option, at the baseline's decision moment",
                ["term", "baseline", "counterfactual", "change"],
                [[t["term"], signed3(t["baseline"]), signed3(t["counterfactual"]),
                  signed3(None if _missing(t["baseline"]) or _missing(t["counterfactual"])
                          else t["counterfactual"] - t["baseline"])] for t in terms]))
        sections.append(Section(f"Decision {decision}", blocks))
    summary = [
        f"Counterfactual {manifest.get('overlay_id')} ({manifest.get('overlay_file')}) on "
        f"{manifest.get('base_scenario_id')} ({manifest.get('base_scenario_file')}): "
        f"{manifest.get('runs')} runs on common random numbers, seed {manifest.get('seed')}, "
        f"diplosim {manifest.get('version', '?')}.",
        f"Question: {str(manifest.get('question', '')).strip()}",
        "Differences are per run (paired), over all runs: a run that does not reach a decision "
        "counts as not choosing any of its options.",
    ]
    return Document(f"diplosim counterfactual: {manifest.get('overlay_id')}", summary, sections)


# -- rendering ------------------------------------------------------------------------------

CSS = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
caption { text-align: left; font-size: 0.9em; color: #555; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0 2em; }
figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; }
"""


def _is_number(text: str) -> bool:
    try:
        float(text.strip("[]%+").split(",")[0].split(" ")[0])
        return True
    except ValueError:
        return False


def render_html(doc: Document) -> str:
    """One self-contained HTML page: inline CSS, images as base64 data URIs, no links."""
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(doc.title)}</title><style>{CSS}</style></head><body>",
           f"<h1>{e(doc.title)}</h1>"]
    out += [f"<p>{e(line.strip())}</p>" for line in doc.summary if line.strip()]
    for section in doc.sections:
        out.append(f"<h2>{e(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, str):
                out.append(f"<p>{e(block.strip())}</p>")
            elif isinstance(block, Table):
                header = "".join(f"<th>{e(h)}</th>" for h in block.header)
                out.append(f"<table><caption>{e(block.caption)}</caption><thead><tr>{header}"
                           "</tr></thead><tbody>")
                for row in block.rows:
                    out.append("<tr>" + "".join(
                        f'<td class="num">{e(c)}</td>' if _is_number(c) else f"<td>{e(c)}</td>"
                        for c in row) + "</tr>")
                out.append("</tbody></table>")
            else:
                data = base64.b64encode(block.png).decode("ascii")
                out.append(f'<figure><img alt="{e(block.caption)}" '
                           f'src="data:image/png;base64,{data}">'
                           f"<figcaption>{e(block.caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: Document) -> str:
    """Markdown with the same tables; plots referred to as ``plots/<name>.png``."""
    out = [f"# {doc.title}", ""]
    for line in doc.summary:
        if line.strip():
            out += [line.strip(), ""]
    for section in doc.sections:
        out += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, str):
                out += [block.strip(), ""]
            elif isinstance(block, Table):
                out += [f"*{_md_cell(block.caption)}*", "",
                        "| " + " | ".join(_md_cell(h) for h in block.header) + " |",
                        "|" + "---|" * len(block.header)]
                out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                out.append("")
            else:
                out += [f"![{_md_cell(block.caption)}](plots/{block.name}.png)", ""]
    return "\n".join(out)


def write_document(folder: Path, doc: Document) -> list[str]:
    """Write report.html, report.md and plots/ into ``folder``: staged, then renamed."""
    from sim.outputs.results import _swap_into_place

    for plot in doc.plots():  # names come from ids in the folder's files: never a path
        if not SAFE_NAME.fullmatch(plot.name):
            raise ReportError(folder, f"cannot name a plot {plot.name!r}: expected ids made of "
                                      "letters, digits and _ in the folder's files")
    staging = Path(tempfile.mkdtemp(prefix=".report.", dir=folder))
    try:
        plots = staging / "plots"
        plots.mkdir()
        for plot in doc.plots():
            (plots / f"{plot.name}.png").write_bytes(plot.png)
        (staging / "report.md").write_text(render_markdown(doc), encoding="utf-8")
        (staging / "report.html").write_text(render_html(doc), encoding="utf-8")
        _swap_into_place(plots, folder / "plots")
        os.replace(staging / "report.md", folder / "report.md")
        os.replace(staging / "report.html", folder / "report.html")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ["report.html", "report.md", *[f"plots/{p.name}.png" for p in doc.plots()]]


def describe_files(files: list[str]) -> str:
    """The files written, with the plots counted rather than listed."""
    plots = [f for f in files if f.startswith("plots/")]
    named = [f for f in files if not f.startswith("plots/")]
    counted = f"{len(plots)} plot{'s' if len(plots) != 1 else ''} (plots/*.png)"
    return ", ".join(named) + (f" and {counted}" if plots else "")


def build_report(folder: str | os.PathLike[str], x: str | None = None, y: str | None = None,
                 decision: str | None = None, option: str | None = None,
                 scenario: str | None = None) -> tuple[str, list[str]]:
    """Report a results folder; returns (its kind, the files written, relative to it)."""
    folder = Path(folder)
    kind, manifest = folder_kind(folder)
    sweep_flags = {"--x": x, "--y": y, "--decision": decision, "--option": option}
    if kind != "sweep":
        for flag, value in sweep_flags.items():
            if value is not None:
                raise ReportError(folder, f"{flag} applies to sweep folders only; this is a "
                                          f"{kind} folder")
    if kind == "run":
        doc = run_document(folder, manifest, locate_scenario(folder, manifest, scenario))
    elif kind == "sweep":
        doc = sweep_document(folder, manifest, locate_scenario(folder, manifest, scenario),
                             x, y, decision, option)
    elif kind == "validation":
        doc = validation_document(folder, manifest)
    else:
        doc = counterfactual_document(folder, manifest)
    return kind, write_document(folder, doc)


# -- writing the folders that only exist to be reported ------------------------------------


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _json_text(value: Any) -> str:
    return json.dumps(json_safe(value), indent=2, sort_keys=False, allow_nan=False) + "\n"


def check_output_folder(out: str | os.PathLike[str], kind: str, *, force: bool = False,
                        flag: str = "--out") -> Any:
    """The output-folder policy (:func:`sim.outputs.output_folder.check`) for a ``kind`` folder given
    by ``flag``: a new or empty folder, or an earlier result of that kind (another kind only
    with ``force``); anything else is refused, so a mistyped DIR cannot wipe what it holds.
    Returns the checked :class:`sim.outputs.output_folder.Target`."""
    from sim.outputs.output_folder import Where, check

    return check(out, kind, force=force, where=Where.flag(out, flag))


def _staged(out: Path, kind: str, fill: Callable[[Path], list[str]], *, force: bool = False,
            flag: str = "--out") -> list[str]:
    """Fill a staging folder beside ``out`` and rename it into place; on error, remove it."""
    from sim.outputs.output_folder import Staging

    with Staging(check_output_folder(out, kind, force=force, flag=flag)) as staging:
        return fill(staging)


def _base_manifest(kind: str) -> dict[str, Any]:
    from sim.outputs.output_folder import base_manifest

    return base_manifest(kind)


@dataclass(frozen=True)
class ValidatedScenario:
    """One scenario's ensemble as ``diplosim validate`` ran it."""

    loaded: LoadedScenario
    constants: Any
    ensemble: Any
    engine: str
    wall_time_s: float


def write_validation_report(out: str | os.PathLike[str], scores: list[dict[str, Any]],
                            table_text: str, validated: list[ValidatedScenario], seed: int,
                            runs: int, *, force: bool = False) -> list[str]:
    """A validation folder (validation.json, validation.txt, manifest.json, and per scenario
    runs/<scenario>/ with its runs and a copy of the scenario file) with its report, written
    whole or not at all."""
    from sim.outputs.output_folder import write_manifest
    from sim.outputs.results import ResultWriter, run_manifest

    out = Path(out)

    def fill(staging: Path) -> list[str]:
        """Tables, runs and manifest into ``staging``, then the report built there."""
        (staging / "validation.json").write_text(_json_text(scores), encoding="utf-8")
        (staging / "validation.txt").write_text(table_text.rstrip("\n") + "\n", encoding="utf-8")
        entries = []
        for item in validated:
            e = item.ensemble
            folder = Path("runs") / item.loaded.scenario.id
            writer = ResultWriter(staging / folder, item.loaded.scenario.id, e.draw_keys)
            with writer:
                draws = np.asarray(e.draws, dtype=float).reshape(len(e.run_ids), len(e.draw_keys))
                writer.add(e.rows, e.run_ids, draws)
                manifest = run_manifest(
                    scenario_id=item.loaded.scenario.id, scenario_file=item.loaded.file,
                    scenario_sha256=item.loaded.sha256, quotes_verified=item.loaded.quotes_verified,
                    seed=seed, runs=runs, engine=item.engine, constants=item.constants,
                    wall_time_s=item.wall_time_s,
                )
                writer.finish(manifest)
            # a copy of the scenario beside its runs: the report finds the record there
            shutil.copyfile(item.loaded.file, staging / folder / Path(item.loaded.file).name)
            entries.append({"scenario_id": item.loaded.scenario.id,
                            "scenario_file": Path(item.loaded.file).name,
                            "folder": folder.as_posix()})
        engines = sorted({item.engine for item in validated})
        manifest = {**_base_manifest("validation"), "seed": seed, "runs": runs,
                    "engine": ", ".join(engines), "scenarios": entries,
                    "files": ["validation.json", "validation.txt",
                              *[f"{entry['folder']}/" for entry in entries]]}
        write_manifest(staging, manifest)
        _, report = build_report(staging)
        return ["manifest.json", "validation.json", "validation.txt",
                *[f"{entry['folder']}/" for entry in entries], *report]

    return _staged(out, "validation", fill, force=force, flag="--report")


def write_counterfactual(out: str | os.PathLike[str], loaded: Any, comparison: list[dict[str, Any]],
                         text: str, constants: Any, seed: int, runs: int, *,
                         force: bool = False) -> list[str]:
    """A counterfactual folder (comparison.json as ``--json`` prints it, comparison.txt as the
    command prints it, manifest.json) for ``diplosim report``; written whole or not at all."""
    from sim.outputs.output_folder import write_manifest
    from sim.model.scenario import read_text_file

    out = Path(out)
    _, overlay_sha = read_text_file(loaded.file)
    _, base_sha = read_text_file(loaded.base_file)

    def fill(staging: Path) -> list[str]:
        """The comparison, as JSON and as printed, and the manifest into ``staging``."""
        (staging / "comparison.json").write_text(_json_text(comparison), encoding="utf-8")
        (staging / "comparison.txt").write_text(text.rstrip("\n") + "\n", encoding="utf-8")
        manifest = {
            **_base_manifest("counterfactual"),
            "overlay_id": loaded.overlay.id,
            "overlay_file": Path(loaded.file).name,
            "overlay_sha256": overlay_sha,
            "question": loaded.overlay.question,
            "base_scenario_id": loaded.base.id,
            "base_scenario_file": Path(loaded.base_file).name,
            "base_scenario_sha256": base_sha,
            "seed": seed,
            "runs": runs,
            "constants": {k: getattr(constants, k) for k in constants.__dataclass_fields__},
            "files": ["comparison.json", "comparison.txt"],
        }
        write_manifest(staging, manifest)
        return ["comparison.json", "comparison.txt", "manifest.json"]

    return _staged(out, "counterfactual", fill, force=force)
