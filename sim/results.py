"""Writing an ensemble's results: tidy tables and a manifest, all or nothing.

Everything is written into a staging folder beside the target, then renamed into place, so
an interrupted run leaves either the previous result or the complete new one, never half.
Floats are written with Python's shortest round-trip repr, so the same seed gives
byte-identical tables.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim.decision import Constants
from sim.runner import RUN_COLUMNS, Ensemble


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def csv_text(columns: list[str] | tuple[str, ...], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def runs_table(ensemble: Ensemble) -> tuple[list[str], list[list[Any]]]:
    """One row per run and decision."""
    columns = ["scenario", *RUN_COLUMNS]
    rows = [[ensemble.scenario.id, *(r[c] for c in RUN_COLUMNS)] for r in ensemble.rows]
    return columns, rows


def draws_table(ensemble: Ensemble) -> tuple[list[str], list[list[Any]]]:
    """One row per run: the value each sourced quantity took."""
    columns = ["run", *ensemble.draw_keys]
    rows = [[run, *values] for run, values in zip(ensemble.run_ids, ensemble.draws, strict=True)]
    return columns, rows


def draws_summary(ensemble: Ensemble) -> dict[str, dict[str, float]]:
    if not ensemble.draws:
        return {}
    values = np.asarray(ensemble.draws, dtype=float)
    return {
        key: {
            "min": float(values[:, i].min()),
            "mean": float(values[:, i].mean()),
            "max": float(values[:, i].max()),
        }
        for i, key in enumerate(ensemble.draw_keys)
    }


def package_version() -> str:
    try:
        return metadata.version("diplosim")
    except metadata.PackageNotFoundError:
        return "unknown"


def _parquet(columns: list[str], rows: list[list[Any]], path: Path) -> bool:
    """Write a Parquet copy if pyarrow is installed; report whether it was written."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    table = pa.table({c: [row[i] for row in rows] for i, c in enumerate(columns)})
    pq.write_table(table, path)
    return True


def write_results(
    ensemble: Ensemble,
    out: str | os.PathLike[str],
    *,
    scenario_file: str,
    scenario_sha256: str,
    constants: Constants,
    engine: str,
    wall_time_s: float,
    quotes_verified: bool,
) -> list[str]:
    """Write runs.csv, draws.csv (and .parquet copies) and manifest.json into ``out``
    atomically. Returns the names of the files written."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        written = []
        tables = {"runs": runs_table(ensemble), "draws": draws_table(ensemble)}
        for name, (columns, rows) in tables.items():
            (staging / f"{name}.csv").write_text(csv_text(columns, rows), encoding="utf-8")
            written.append(f"{name}.csv")
            if _parquet(columns, rows, staging / f"{name}.parquet"):
                written.append(f"{name}.parquet")
        manifest = {
            "package": "diplosim",
            "version": package_version(),
            "scenario_id": ensemble.scenario.id,
            "scenario_file": Path(scenario_file).name,
            "scenario_sha256": scenario_sha256,
            "quotes_verified": quotes_verified,
            "seed": ensemble.seed,
            "runs": ensemble.runs,
            "engine": engine,
            "constants": {k: getattr(constants, k) for k in constants.__dataclass_fields__},
            "parameter_draws": draws_summary(ensemble),
            "wall_time_s": round(wall_time_s, 3),
            "python": platform.python_version(),
            "mesa": metadata.version("mesa"),
            "numpy": np.__version__,
            "files": sorted(written),
        }
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        written.append("manifest.json")
        _swap_into_place(staging, out)
        return sorted(written)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, out: Path) -> None:
    """Rename the staging folder to ``out``, replacing an earlier result as late as possible."""
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        old.rmdir()
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)
