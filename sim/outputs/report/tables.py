"""Reading the data tables of a results folder and checking them against its manifest:
``runs.csv`` (every run's outcome and timing), the row counts of the other run tables, and a
sweep's ``dataset.parquet``. A table that does not match its manifest is refused: a report of
part of the runs would mislead."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.outputs.report.errors import ReportError
from sim.outputs.report.folders import inside, read_json
from sim.outputs.report.schemas import IDENTIFIER, SweepState, checked

RUNS_NEEDED = ("run", "decision", "outcome", "hours_before_deadline")


@dataclass(frozen=True)
class RunsTable:
    """A runs.csv, per decision (in file order): every run's outcome and hours before the
    deadline, and the outcome of run 0 (to check the traced replay against)."""

    outcomes: dict[str, list[str]]
    hours: dict[str, np.ndarray]
    run0: dict[str, str]
    run_ids: dict[str, set[int]] = field(default_factory=dict)
    rows: int = 0


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


def _read_rows(path: Path) -> RunsTable:
    """Every row of a runs.csv, by decision; a row or file that cannot be read is located."""
    outcomes: dict[str, list[str]] = {}
    hours: dict[str, list[float]] = {}
    run0: dict[str, str] = {}
    ids: dict[str, set[int]] = {}
    rows, line = 0, 1
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
    return RunsTable(outcomes, {d: np.asarray(h, dtype=float) for d, h in hours.items()}, run0,
                     ids, rows)


def read_runs(path: Path, expected_runs: int | None = None,
              expected_rows: int | None = None) -> RunsTable:
    """Read a runs.csv written by ``diplosim run --out`` (or ``validate --report``); with
    ``expected_runs`` (the manifest's counts), check it holds runs 0..N-1 of every decision."""
    if not path.is_file():
        raise ReportError(path, "missing; expected the runs table written by `diplosim run --out`")
    table = _read_rows(path)
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


# -- a sweep's dataset ----------------------------------------------------------------------

SHARE_PREFIX = "share."  # share.<decision>.<option>: the share of all members at a point
MEDIAN_PREFIX = "median_hours_before_deadline."  # median_hours_before_deadline.<decision>


def _is_output(column: str) -> bool:
    return column.startswith((SHARE_PREFIX, MEDIAN_PREFIX))


def _column_kinds(columns: list[str]) -> dict[str, tuple[str, bool]]:
    """Column -> (expected kind, nulls allowed) of a sweep dataset: the point and its members,
    the swept values, the shares (never null) and the median hours (null where none reached)."""
    kinds = {"point": ("integer", False), "members": ("integer", False)}
    for column in columns:
        if column not in kinds:
            kinds[column] = ("number", column.startswith(MEDIAN_PREFIX))
    return kinds


def _is_kind(arrow_type: Any, kind: str) -> bool:
    import pyarrow.types as pat

    if pat.is_null(arrow_type):
        return kind == "number"  # a column of nulls only (no member reached that decision)
    if kind == "integer":
        return pat.is_integer(arrow_type)
    if kind == "string":
        return pat.is_string(arrow_type) or pat.is_large_string(arrow_type)
    return pat.is_integer(arrow_type) or pat.is_floating(arrow_type)


def dataset_options(data: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Each decision's options (not_reached last), from the dataset's share columns."""
    options: dict[str, list[str]] = {}
    for column in data:
        if column.startswith(SHARE_PREFIX):
            decision, option = column[len(SHARE_PREFIX):].split(".")
            options.setdefault(decision, []).append(option)
    return options


def read_dataset(folder: Path, manifest: dict[str, Any]) -> tuple[dict[str, list[Any]], list[str]]:
    """(columns, swept parameter names in spec order) of a sweep folder's dataset.parquet,
    its columns' types checked and its counts checked against the manifest and sweep.json."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = inside(folder, "dataset.parquet")
    if not path.is_file():
        raise ReportError(path, "missing; expected the dataset written by `diplosim sweep`")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReportError(path, f"not a readable Parquet dataset ({_first_line(exc)}); expected "
                                "the dataset written by `diplosim sweep`") from None
    columns = table.column_names
    names = [c for c in columns if c not in ("point", "members") and not _is_output(c)]
    if (not {"point", "members"} <= set(columns) or not names or not table.num_rows
            or not any(c.startswith(SHARE_PREFIX) for c in columns)):
        raise ReportError(path, "expected the columns point, members, share.<decision>.<option> "
                                "and at least one swept parameter")
    for column, (kind, nullable) in _column_kinds(columns).items():
        values = table.column(column)
        if not _is_kind(values.type, kind) or (values.null_count and not nullable):
            raise ReportError(path, f"column '{column}': expected {kind}s"
                                    + ("" if nullable else " without nulls")
                                    + f", found {values.type} with {values.null_count} nulls")
    data = table.to_pydict()
    check_dataset(path, data, names, manifest)
    return data, names


def _names_problem(data: dict[str, list[Any]]) -> str | None:
    """An output column whose name does not hold ids (share.<decision>.<option>)."""
    for column in data:
        if _is_output(column):
            prefix = SHARE_PREFIX if column.startswith(SHARE_PREFIX) else MEDIAN_PREFIX
            parts = column[len(prefix):].split(".")
            if len(parts) != (2 if prefix == SHARE_PREFIX else 1) or not all(
                    IDENTIFIER.fullmatch(p) for p in parts):
                return f"column {column!r}: expected {prefix}<ids> (lower case, digits, _)"
    return None


def _shares_problem(data: dict[str, list[Any]]) -> str | None:
    """A share outside [0, 1], or a decision whose shares at a point do not sum to 1."""
    for decision, options in dataset_options(data).items():
        columns = [data[f"{SHARE_PREFIX}{decision}.{o}"] for o in options]
        if any(not 0.0 <= s <= 1.0 for column in columns for s in column):
            return f"decision '{decision}': expected shares between 0 and 1"
        if any(abs(sum(row) - 1.0) > 1e-6 for row in zip(*columns)):
            return f"decision '{decision}': expected its shares at each point to sum to 1"
    return None


def _dataset_problem(data: dict[str, list[Any]], names: list[str],
                     manifest: dict[str, Any]) -> str | None:
    """What in the dataset disagrees with its manifest (or is not an id or a share), or None."""
    rows, points, members = len(data["point"]), manifest["points"], manifest["members_per_point"]
    if rows != manifest["rows"]:
        return f"holds {rows} rows, but manifest.json says {manifest['rows']}"
    if rows != points or set(data["point"]) != set(range(points)):
        return (f"holds {len(set(data['point']))} points, but manifest.json says {points} "
                f"(0 to {points - 1}, one row each)")
    if any(m != members for m in data["members"]):
        return f"column 'members': expected {members} members per point (manifest.json)"
    problem = _names_problem(data) or _shares_problem(data)
    if problem is not None:
        return problem
    parameters = manifest.get("parameters")
    if parameters is not None and set(parameters) != set(names):
        return f"varies {names}, but manifest.json says {sorted(parameters)}"
    return None


def _check_sweep_state(state_path: Path, manifest: dict[str, Any]) -> None:
    """sweep.json (when there) describes the same finished sweep as the manifest."""
    state = checked(state_path, read_json(state_path), SweepState)
    chunks = -(-state.points // state.chunk_points)
    spec = manifest.get("spec_sha256")
    if state.points != manifest["points"] or chunks != manifest["chunks"]:
        problem = (f"gives {state.points} points in {chunks} chunks, but manifest.json says "
                   f"{manifest['points']} points in {manifest['chunks']} chunks")
    elif spec is not None and state.spec_sha256 not in (None, spec):
        problem = "names another spec than manifest.json (their spec_sha256 differ)"
    else:
        return
    raise ReportError(state_path, f"{problem}: the folder does not hold one finished sweep; "
                                  "run `diplosim sweep` on its spec again")


def check_dataset(path: Path, data: dict[str, list[Any]], names: list[str],
                  manifest: dict[str, Any]) -> None:
    """The dataset holds what its manifest says: its rows, points 0..N-1, the members per
    point, the swept parameters; its ids are ids and its shares shares."""
    problem = _dataset_problem(data, names, manifest)
    if problem is not None:
        raise ReportError(path, f"{problem}: the dataset does not match its manifest (or was "
                                "changed); run `diplosim sweep` on its spec again")
    state_path = inside(path.parent, "sweep.json")
    if state_path.is_file():
        _check_sweep_state(state_path, manifest)
