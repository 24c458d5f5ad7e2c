"""Writing an ensemble's results: tidy tables and a manifest, all or nothing.

Everything is written into a staging folder beside the target, then renamed into place, so
an interrupted run leaves either the previous result or the complete new one, never half;
which targets may be written at all is :mod:`sim.outputs.output_folder`'s policy.
Floats are written with Python's shortest round-trip repr, so the same seed gives
byte-identical tables.
"""

from __future__ import annotations

import csv
import io
import math
import os
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from sim.model.constants import Constants
from sim.outputs.output_folder import (  # noqa: F401 - package_version, _swap_into_place: used elsewhere
    Staging,
    _swap_into_place,
    base_manifest,
    check,
    package_version,
    write_error,
    write_manifest,
)
from sim.model.scenario import Scenario
from sim.model.summary import RUN_COLUMNS
from sim.validation import InvalidArgument

if TYPE_CHECKING:
    from sim.model.engine import Ensemble



@dataclass
class RunResult:
    """An ensemble's outcome shares and timing (``tally``: anything with ``summary(decision)``);
    the whole ensemble too when it was kept in memory (not when streamed to ``out``)."""

    scenario: Scenario
    tally: Any
    seed: int
    runs: int
    engine: str
    seconds: float
    ensemble: Ensemble | None = None
    written: list[str] = field(default_factory=list)
    out: str | None = None
    replaced_note: str | None = None

    def frame(self):
        """One row per run and decision (pandas)."""
        import pandas as pd

        if self.ensemble is None:
            raise InvalidArgument(f"the runs were streamed to {self.out}; read runs.csv there")
        return pd.DataFrame(self.ensemble.rows)

    def text(self) -> str:
        from sim.outputs.tables import outcome_table

        return (f"{outcome_table(self.scenario, self.tally)}\n\n{self.runs} runs, "
                f"seed {self.seed}, {self.engine} engine, {self.seconds:.1f} s")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def csv_text(columns: list[str] | tuple[str, ...] | None, rows: list[list[Any]]) -> str:
    """CSV lines for ``rows``, preceded by a header when ``columns`` is given."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if columns is not None:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


class ResultWriter:
    """Streams an ensemble's tables into a staging folder beside ``out`` and renames it into
    place when finished; on any error the staging folder is removed and ``out`` is untouched.
    ``out`` must pass the output-folder policy (:func:`sim.outputs.output_folder.check`), checked
    here, before any run.

    Files: runs.csv (one row per run and decision), draws.csv (one row per run: the value of
    every drawn quantity), Parquet copies of both when pyarrow is installed, manifest.json
    (with the SHA-256 of each table).
    """

    def __init__(self, out: str | os.PathLike[str], scenario_id: str, draw_keys: list[str],
                 *, force: bool = False):
        self.target = check(out, "run", force=force)
        self.out = self.target.path
        self.scenario_id = scenario_id
        self.draw_keys = list(draw_keys)
        self._staging = Staging(self.target)
        self._csv: dict[str, Any] = {}
        self._parquet: dict[str, Any] = {}
        self.staging = self._staging.open()
        with self._writing():
            for name, header in (("runs", ["scenario", *RUN_COLUMNS]), ("draws", ["run", *self.draw_keys])):
                self._csv[name] = open(self.staging / f"{name}.csv", "w", encoding="utf-8", newline="")
                self._csv[name].write(csv_text(header, []))
        self._count = 0
        self._sum = np.zeros(len(self.draw_keys))
        self._min = np.full(len(self.draw_keys), np.inf)
        self._max = np.full(len(self.draw_keys), -np.inf)

    @property
    def committed(self) -> bool:
        """Whether the result is in place."""
        return self._staging.committed

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.abort()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """On any exception, remove the staging folder; an OSError becomes one OutputError."""
        try:
            yield
        except OSError as exc:
            self.abort()
            raise write_error(self.target.given, exc) from None
        except BaseException:
            self.abort()
            raise

    def add(self, rows: list[dict[str, Any]], run_ids: list[int], draws: np.ndarray) -> None:
        """Append one block of runs."""
        with self._writing():
            run_rows = [[self.scenario_id, *(r[c] for c in RUN_COLUMNS)] for r in rows]
            draw_rows = [[run, *values] for run, values in zip(run_ids, draws.tolist(), strict=True)]
            self._csv["runs"].write(csv_text(None, run_rows))
            self._csv["draws"].write(csv_text(None, draw_rows))
            self._parquet_add("runs", ["scenario", *RUN_COLUMNS], run_rows)
            self._parquet_add("draws", ["run", *self.draw_keys], draw_rows)
        if len(run_ids):
            self._count += len(run_ids)
            self._sum += draws.sum(axis=0)
            self._min = np.minimum(self._min, draws.min(axis=0))
            self._max = np.maximum(self._max, draws.max(axis=0))

    def _parquet_add(self, name: str, columns: list[str], rows: list[list[Any]]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            return
        table = pa.table({c: [row[i] for row in rows] for i, c in enumerate(columns)})
        if name not in self._parquet:
            self._parquet[name] = pq.ParquetWriter(self.staging / f"{name}.parquet", table.schema)
        self._parquet[name].write_table(table)

    def draws_summary(self) -> dict[str, dict[str, float]]:
        if not self._count:
            return {}
        mean = self._sum / self._count
        return {
            key: {"min": float(self._min[i]), "mean": float(mean[i]), "max": float(self._max[i])}
            for i, key in enumerate(self.draw_keys)
        }

    def finish(self, manifest: dict[str, Any]) -> list[str]:
        """Close the tables, write the manifest, and move the result into place."""
        with self._writing():
            for handle in self._csv.values():
                handle.close()
            for writer in self._parquet.values():
                writer.close()
            files = sorted(p.name for p in self.staging.iterdir())
            write_manifest(self.staging, {**manifest, "parameter_draws": self.draws_summary(),
                                          "files": files})
            self._staging.commit()
        return sorted([*files, "manifest.json"])

    def abort(self) -> None:
        """Drop the staging folder (idempotent); a full disk may fail the closing flushes."""
        for handle in self._csv.values():
            try:
                handle.close()
            except OSError:
                pass
        for writer in self._parquet.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the folder is being discarded anyway
                pass
        self._staging.discard()


def run_manifest(
    *,
    scenario_id: str,
    scenario_file: str,
    scenario_sha256: str,
    quotes_verified: bool,
    seed: int,
    runs: int,
    engine: str,
    constants: Constants,
    wall_time_s: float,
) -> dict[str, Any]:
    """The manifest of a run, less what the writer adds (draw summary, file list)."""
    return {
        **base_manifest("run"),
        "scenario_id": scenario_id,
        "scenario_file": Path(scenario_file).name,
        "scenario_sha256": scenario_sha256,
        "quotes_verified": quotes_verified,
        "seed": seed,
        "runs": runs,
        "engine": engine,
        "constants": {k: getattr(constants, k) for k in constants.__dataclass_fields__},
        "wall_time_s": round(wall_time_s, 3),
    }


def write_run(loaded, constants, *, seed: int, runs: int, engine: str, out: str,
              force: bool = False, progress=None, allow_large: bool = False):
    """Stream an ensemble block by block into ``out`` (runs, draws, manifest), all or nothing:
    Ctrl-C or SIGTERM leaves the earlier result or nothing (:class:`Stopped` says which)."""
    import time

    from sim.model.summary import Tally
    from sim.model.engine import ensemble_chunks
    from sim.model.plan import drawn_quantities
    from sim.signals import Stopped, Terminated

    scenario = loaded.scenario.without_record()
    blocks = ensemble_chunks(scenario, constants, seed, runs, engine,
                             allow_large=allow_large)  # the cost, before any folder is touched
    writer = ResultWriter(out, scenario.id, [q.key for q in drawn_quantities(scenario)],
                          force=force)  # the folder policy, before any run
    tally, started = Tally(scenario), time.perf_counter()
    try:
        for rows, run_ids, draws in blocks:
            tally.add(rows)
            writer.add(rows, run_ids, draws)
            if progress is not None:
                progress(len(run_ids))
        elapsed = time.perf_counter() - started
        files = writer.finish(run_manifest(
            scenario_id=scenario.id, scenario_file=loaded.file, scenario_sha256=loaded.sha256,
            quotes_verified=loaded.quotes_verified, seed=seed, runs=runs, engine=engine,
            constants=constants, wall_time_s=elapsed))
    except (KeyboardInterrupt, Terminated) as exc:
        writer.abort()
        raise Stopped(exc, f"the result is in {out}" if writer.committed
                      else f"nothing was written to {out}") from None
    except BaseException:
        writer.abort()
        raise
    return RunResult(scenario, tally, seed, runs, engine, elapsed, written=files, out=out,
                     replaced_note=writer.target.replaced_note())
