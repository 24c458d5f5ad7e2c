"""Parameter sweeps: SALib designs, chunked and resumable execution, optionally on Dask.

A sweep spec names a base scenario, the parameters to vary with their bounds, a design, the
members per point, a seed and an output folder. Every point runs the same members (run ids
0..members-1: common random numbers across points), with the swept parameters fixed at the
point's values and everything else drawn from its sourced range. Points are cut into chunks;
each finished chunk is written atomically, so a sweep killed at any moment resumes from the
chunks it finished and ends with the same dataset as an uninterrupted run, whatever the chunk
size or the number of workers.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.constants import load_constants
from sim.decision import Constants
from sim.draws import drawn_quantities
from sim.ensemble import RESOLVED, VectorEngine
from sim.scenario import (
    Scenario,
    ScenarioError,
    StrictModel,
    load_scenario,
    parse_model,
    read_text_file,
)
from sim.yamlmap import line_for

DATASET_COLUMNS = (
    "point", "decision", "option", "share", "runs", "reached", "median_hours", "q25_hours",
    "q75_hours",
)


class Design(StrictModel):
    """How points are placed: SALib's Sobol (Saltelli), Latin hypercube or Morris, or a grid."""

    method: Literal["grid", "lhs", "sobol", "morris"]
    samples: int = Field(ge=1, le=1_000_000, description="N for lhs/sobol/morris; ignored by grid")
    levels: int = Field(default=4, ge=2, le=1000, description="grid points per axis; Morris levels")
    second_order: bool = Field(default=False, description="sobol: also sample second-order terms")


class SweepSpec(StrictModel):
    """A sweep file."""

    format: Literal["diplosim-sweep/1"]
    scenario: str = Field(description="base scenario file, relative to this spec")
    parameters: dict[str, tuple[float, float]] = Field(
        min_length=1, description="drawn quantity key (e.g. united_states.base_pressure) -> [lo, hi]"
    )
    design: Design
    members: int = Field(ge=1, le=1_000_000)
    seed: int = Field(ge=0)
    chunk_points: int = Field(default=16, ge=1)
    out: str = Field(description="output folder, relative to this spec")

    @model_validator(mode="after")
    def _ordered(self) -> SweepSpec:
        for key, (lo, hi) in self.parameters.items():
            if lo > hi:
                raise ValueError(f"parameters.{key}: bounds must be [lo, hi] with lo <= hi")
        return self


def load_spec(path: str | os.PathLike[str]) -> tuple[SweepSpec, str, dict]:
    """Read and validate a sweep spec; return it, its SHA-256 and its line map.
    Raises ScenarioError."""
    text, sha256 = read_text_file(path)
    spec, _, lines = parse_model(text, str(path), SweepSpec)
    return spec, sha256, lines


def design_points(spec: SweepSpec) -> np.ndarray:
    """The design's points, one row per point, columns in ``spec.parameters`` order."""
    names = list(spec.parameters)
    bounds = [list(spec.parameters[n]) for n in names]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    design = spec.design
    if design.method == "grid":
        axes = [np.linspace(lo, hi, design.levels) for lo, hi in bounds]
        return np.array(list(itertools.product(*axes)), dtype=float)
    if design.method == "lhs":
        from SALib.sample import latin

        return latin.sample(problem, design.samples, seed=spec.seed)
    if design.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            problem, design.samples, calc_second_order=design.second_order, seed=spec.seed
        )
    from SALib.sample import morris

    return morris.sample(problem, design.samples, num_levels=design.levels, seed=spec.seed)


def run_points(
    scenario: Scenario,
    constants: Constants,
    names: list[str],
    points: np.ndarray,
    point_ids: list[int],
    members: int,
    seed: int,
) -> dict[str, list[Any]]:
    """Tidy rows (as columns) for a block of points: one row per point, decision and option."""
    engine = VectorEngine(scenario, constants)
    columns: dict[str, list[Any]] = {"point": [], **{name: [] for name in names}}
    columns.update({c: [] for c in DATASET_COLUMNS if c != "point"})
    base = engine.inputs(seed, range(members))
    for point_id, point in zip(point_ids, points):
        outcomes = engine.run(engine.at_point(base, names, point))
        for i, decision in enumerate(engine.decisions):
            resolved = outcomes.status[:, i] == RESOLVED
            reached = int(resolved.sum())
            hours = engine.deadline_h[i] - outcomes.decided_h[:, i]
            for k, option in enumerate(engine.option_ids[i]):
                chosen = resolved & (outcomes.option_index[:, i] == k)
                n = int(chosen.sum())
                # missing values are nulls (not NaN), so datasets compare equal
                q25, q50, q75 = (
                    np.percentile(hours[chosen], [25, 50, 75]).tolist() if n else [None] * 3
                )
                columns["point"].append(point_id)
                for name, value in zip(names, point):
                    columns[name].append(float(value))
                columns["decision"].append(decision.id)
                columns["option"].append(option)
                columns["share"].append(n / reached if reached else None)
                columns["runs"].append(members)
                columns["reached"].append(reached)
                columns["median_hours"].append(q50)
                columns["q25_hours"].append(q25)
                columns["q75_hours"].append(q75)
    return columns


# -- files ------------------------------------------------------------------------------------


def _write_parquet_atomically(columns: dict[str, list[Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(pa.table(columns), tmp)
    os.replace(tmp, path)


def _chunk_path(out: Path, index: int) -> Path:
    return out / "chunks" / f"chunk-{index:06d}.parquet"


class SweepRunner:
    """Runs one sweep spec to completion, resuming from finished chunks."""

    def __init__(self, spec_file: str, sources: str | None = None, constants_file: str | None = None):
        spec, sha, lines = load_spec(spec_file)
        self.spec, self.spec_sha = spec, sha
        folder = Path(spec_file).resolve().parent
        scenario_path = folder / spec.scenario
        self.loaded = load_scenario(scenario_path, sources_root=sources)
        self.scenario = self.loaded.scenario.without_record()
        self.constants = load_constants(constants_file)
        known = {q.key for q in drawn_quantities(self.scenario)}
        for key in spec.parameters:
            if key not in known:
                path = ("parameters", key)
                raise ScenarioError(
                    spec_file, path, line_for(lines, path),
                    f"'{key}' is not a drawn quantity of scenario '{self.scenario.id}'; expected "
                    "one of its actor parameters, e.g. "
                    f"{sorted(k for k in known if not k.startswith('event.'))[:3]}",
                )
        self.names = list(spec.parameters)
        self.points = design_points(spec)
        self.out = folder / spec.out
        n = len(self.points)
        self.chunks = [
            list(range(start, min(start + spec.chunk_points, n)))
            for start in range(0, n, spec.chunk_points)
        ]

    def _claim_folder(self) -> None:
        """Create the output folder, or check that it holds this same sweep (for resuming)."""
        state = self.out / "sweep.json"
        identity = {"spec_sha256": self.spec_sha, "points": len(self.points),
                    "chunk_points": self.spec.chunk_points}
        if state.exists():
            found = json.loads(state.read_text())
            if found != identity:
                raise ScenarioError(
                    str(self.out), (), None,
                    "the output folder holds a different sweep (spec or chunking changed); "
                    "remove it or choose another `out`",
                )
            return
        (self.out / "chunks").mkdir(parents=True, exist_ok=True)
        tmp = state.with_name(".sweep.json.tmp")
        tmp.write_text(json.dumps(identity, sort_keys=True) + "\n")
        os.replace(tmp, state)

    def pending_chunks(self) -> list[int]:
        return [i for i in range(len(self.chunks)) if not _chunk_path(self.out, i).exists()]

    def chunk_task(self, index: int) -> tuple[int, dict[str, list[Any]]]:
        ids = self.chunks[index]
        return index, run_points(
            self.scenario, self.constants, self.names, self.points[ids], ids,
            self.spec.members, self.spec.seed,
        )

    def run(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Path:
        started = time.perf_counter()
        self._claim_folder()
        pending = self.pending_chunks()
        if pending and (workers or scheduler):
            self._run_on_dask(pending, workers, scheduler, progress)
        else:
            for index in pending:
                _, columns = self.chunk_task(index)
                _write_parquet_atomically(columns, _chunk_path(self.out, index))
                if progress:
                    progress(1)
        return self._assemble(time.perf_counter() - started, workers, scheduler)

    def _run_on_dask(self, pending, workers, scheduler, progress) -> None:
        from dask.distributed import Client, LocalCluster, as_completed

        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None,
            )
            client = Client(cluster)
        try:
            futures = [
                client.submit(
                    run_points, self.scenario, self.constants, self.names,
                    self.points[self.chunks[i]], self.chunks[i], self.spec.members,
                    self.spec.seed, key=f"diplosim-chunk-{self.spec_sha[:12]}-{i}", pure=False,
                )
                for i in pending
            ]
            index_of = {f.key: i for f, i in zip(futures, pending)}
            for future in as_completed(futures):
                _write_parquet_atomically(future.result(), _chunk_path(self.out, index_of[future.key]))
                if progress:
                    progress(1)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def _assemble(self, wall_s: float, workers, scheduler) -> Path:
        """Concatenate the chunks in order into dataset.parquet and write the manifest."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sim.results import package_version

        tables = [pq.read_table(_chunk_path(self.out, i)) for i in range(len(self.chunks))]
        dataset = pa.concat_tables(tables)
        _write_parquet_atomically(dataset.to_pydict(), self.out / "dataset.parquet")
        manifest = {
            "package": "diplosim",
            "version": package_version(),
            "spec_sha256": self.spec_sha,
            "scenario_id": self.scenario.id,
            "scenario_sha256": self.loaded.sha256,
            "design": self.spec.design.model_dump(),
            "parameters": {k: list(v) for k, v in self.spec.parameters.items()},
            "points": len(self.points),
            "members_per_point": self.spec.members,
            "seed": self.spec.seed,
            "chunks": len(self.chunks),
            "rows": dataset.num_rows,
            "wall_time_s_last_session": round(wall_s, 3),
            "workers": workers,
            "scheduler": scheduler,
        }
        tmp = self.out / ".manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.out / "manifest.json")
        return self.out / "dataset.parquet"
