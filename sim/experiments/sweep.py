"""Parameter sweeps: SALib designs, chunked and resumable execution, optionally on Dask.

A sweep spec names a base scenario, the parameters to vary with their bounds, a design, the
members per point, a seed and an output folder. Every point runs the same members (run ids
0..members-1: common random numbers across points), with the swept parameters fixed at the
point's values and everything else drawn from its sourced range. Points are cut into chunks;
each finished chunk is written atomically, so a sweep killed at any moment resumes from the
chunks it finished and ends with the same dataset as an uninterrupted run, whatever the chunk
size or the number of workers. Each chunk carries the digest of its spec and of its design
(the points), verified on resume: a chunk from another sweep, or one damaged or cut short, is
named and computed again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
from pydantic import Field

from sim.model.constants import load_constants
from sim.model.constants import Constants
from sim.engine.ensemble import RESOLVED, VectorEngine
from sim.model.scenario import (
    Scenario,
    ScenarioError,
    StrictModel,
    load_referenced_scenario,
    parse_model,
    read_text_file,
)
from sim.model.yamlmap import line_for
from sim.outputs.output_folder import Terminated
from sim import validation as check
from sim.validation import (
    MAX_LEVELS, MAX_MEMBERS, MAX_POINTS, MAX_SAMPLES, FileName, Flag, InvalidArgument, Number, Seed,
    WholeNumber,
)

DATASET_COLUMNS = (
    "point", "decision", "option", "share", "runs", "reached", "median_hours", "q25_hours",
    "q75_hours",
)


class Design(StrictModel):
    """How points are placed: SALib's Sobol (Saltelli), Latin hypercube or Morris, or a grid."""

    method: Literal["grid", "lhs", "sobol", "morris"]
    samples: WholeNumber(1, MAX_SAMPLES) = Field(description="N for lhs/sobol/morris; ignored by grid")
    levels: WholeNumber(2, MAX_LEVELS) = Field(default=4, description="grid points per axis; Morris levels")
    second_order: Flag = Field(default=False, description="sobol: also sample second-order terms")

    def size(self, parameters: int) -> int:
        """How many points the design has over ``parameters`` (refused above MAX_POINTS)."""
        return check.check_design(self.method, self.samples, self.levels, parameters,
                                  self.second_order)


CONNECT_TIMEOUT_S = 10.0  # default wait for a --scheduler to answer


# [lo, hi]; lo < hi and the bounds the scenario allows are checked once the scenario is read
# (sim.validation.sweep_parameters, as the API does)
Bounds = tuple[Number, Number]


class SweepSpec(StrictModel):
    """A sweep file."""

    format: Literal["diplosim-sweep/1"]
    scenario: FileName = Field(description="base scenario file, relative to this spec")
    parameters: dict[str, Bounds] = Field(
        min_length=1, description="drawn quantity key (e.g. united_states.base_pressure) -> [lo, hi]"
    )
    design: Design
    members: WholeNumber(1, MAX_MEMBERS)
    seed: Seed
    chunk_points: WholeNumber(1, MAX_POINTS) = 16
    out: FileName = Field(description="output folder, relative to this spec")


def load_spec(path: str | os.PathLike[str]) -> tuple[SweepSpec, str, dict]:
    """Read and validate a sweep spec; return it, its SHA-256 and its line map.
    Raises ScenarioError."""
    text, sha256 = read_text_file(path)
    spec, _, lines = parse_model(text, str(path), SweepSpec)
    return spec, sha256, lines


def checked_design(scenario: Scenario, spec: SweepSpec, allow_large: bool, how: str,
                   located: Callable[[tuple, str], Exception]) -> int:
    """Check a spec against its scenario before any point is drawn: every swept quantity
    known, lo < hi within the bounds the scenario allows (as the API checks them), the design
    within MAX_POINTS points, and the work (points x members) within the cost limit unless
    ``allow_large``. A problem with a key is raised as ``located(path, message)``; returns the
    number of points."""
    try:
        check.sweep_parameters(scenario, spec.parameters)
    except InvalidArgument as exc:
        path = ("parameters", exc.key) if exc.key else ("parameters",)
        raise located(path, str(exc).removeprefix(f"'{exc.key}': ")) from None
    try:
        points = spec.design.size(len(spec.parameters))
    except InvalidArgument as exc:
        raise located(("design",), str(exc)) from None
    check.check_work("this sweep", points * spec.members, scenario, allow_large, how,
                     f"{points:,} points x {spec.members:,} members")
    return points


def design_points(spec: SweepSpec) -> np.ndarray:
    """The design's points, one row per point, columns in ``spec.parameters`` order."""
    return sample_design(spec.parameters, spec.design, spec.seed)


def sample_design(parameters: dict[str, tuple[float, float]], design: Design, seed: int) -> np.ndarray:
    """Points of ``design`` over ``parameters`` (key -> [lo, hi]), columns in their order; a
    design of more than MAX_POINTS points is refused before any is drawn."""
    names = list(parameters)
    design.size(len(names))
    bounds = [list(parameters[n]) for n in names]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if design.method == "grid":
        axes = [np.linspace(lo, hi, design.levels) for lo, hi in bounds]
        return np.array(list(itertools.product(*axes)), dtype=float)
    if design.method == "lhs":
        from SALib.sample import latin

        return latin.sample(problem, design.samples, seed=seed)
    if design.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            problem, design.samples, calc_second_order=design.second_order, seed=seed
        )
    from SALib.sample import morris

    return morris.sample(problem, design.samples, num_levels=design.levels, seed=seed)


def run_points(
    scenario: Scenario,
    constants: Constants,
    names: list[str],
    points: np.ndarray,
    point_ids: list[int],
    members: int,
    seed: int,
    threads: int | None = None,
) -> dict[str, list[Any]]:
    """Tidy rows (as columns) for a block of points: one row per point, decision and option.
    ``threads`` caps the engine's threads (one per Dask worker: the cluster is the parallelism)."""
    engine = VectorEngine(scenario, constants, threads=threads)
    columns: dict[str, list[Any]] = {"point": [], **{name: [] for name in names}}
    columns.update({c: [] for c in DATASET_COLUMNS if c != "point"})
    base = engine.inputs(seed, range(members))
    for point_id, point in zip(point_ids, points):
        outcomes = engine.run(engine.at_point(base, names, point))
        for i, decision in enumerate(engine.decisions):
            resolved = outcomes.status[:, i] == RESOLVED
            reached = int(resolved.sum())
            hours = outcomes.hours_before_deadline(i)
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


_TMP = re.compile(r"^\..+\.(?P<pid>\d+)\.tmp$")


def _tmp_path(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place (named by this process, so a
    killed run's leftovers can be told from a live one's)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` a temporary file beside ``path``, then rename it; on any error remove it."""
    tmp = _tmp_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_parquet_atomically(columns: dict[str, list[Any]], path: Path,
                              metadata: dict[str, str] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _replace_atomically(path, lambda tmp: pq.write_table(pa.table(columns, metadata=metadata),
                                                         tmp))


def _write_text_atomically(text: str, path: Path) -> None:
    _replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _remove_stale_tmp(folder: Path) -> None:
    """Remove temporary files left in ``folder`` by processes that no longer run."""
    from sim.outputs.output_folder import owner_gone

    if not folder.is_dir():
        return
    with os.scandir(folder) as entries:
        stale = [e.path for e in entries if (m := _TMP.match(e.name))
                 and e.is_file(follow_symlinks=False) and owner_gone(int(m["pid"]))]
    for path in stale:
        os.unlink(path)


def _chunk_path(out: Path, index: int) -> Path:
    return out / "chunks" / f"chunk-{index:06d}.parquet"


CHUNK_KEY = "diplosim"  # the key of a chunk's Parquet metadata: which sweep and chunk it is
# what a sweep leaves in its folder besides what its manifest lists (vouched for by name)
_LEFT_IN_PLACE = re.compile(r"^(sweep\.json|dataset\.parquet|chunks/|chunks/chunk-\d{6}\.parquet"
                            r"|(chunks/)?\.[^/]+\.\d+\.tmp)$")


def left_in_place(name: str) -> bool:
    """Whether ``name`` (relative to a sweep folder) is a file a sweep writes in place."""
    return _LEFT_IN_PLACE.match(name) is not None


def design_digest(names: list[str], points: np.ndarray, members: int, seed: int) -> str:
    """SHA-256 of what a sweep computes: the parameters, every point, the members, the seed."""
    digest = hashlib.sha256(json.dumps([names, members, seed]).encode())
    digest.update(np.ascontiguousarray(points, dtype="<f8").tobytes())
    return digest.hexdigest()


class SchedulerError(ScenarioError):
    """A ``--scheduler`` that cannot be used: one line naming the address."""

    def __init__(self, address: str, message: str):
        super().__init__(address, ("--scheduler",), None, message)
        self.args = (f"--scheduler {address}: {message}",)


class SweepRunner:
    """Runs one sweep spec to completion, resuming from finished chunks.

    The output folder follows the output-folder policy (:mod:`sim.outputs.output_folder`), with one
    addition: a folder holding this same sweep unfinished (same spec and chunking, told by its
    ``sweep.json``) is resumed; a different unfinished sweep is replaced only with ``force``.
    Chunks are written in place, each atomically, so that they survive an interruption."""

    def __init__(self, spec_file: str, sources: str | None = None,
                 constants_file: str | None = None, force: bool = False,
                 allow_large: bool = False):
        from sim.outputs.output_folder import Where, check

        spec, sha, lines = load_spec(spec_file)
        self.spec, self.spec_sha = spec, sha
        folder = Path(spec_file).resolve().parent
        self.loaded = _load_base(spec_file, folder / spec.scenario, lines, sources)
        self.scenario = self.loaded.scenario.without_record()
        self.constants = load_constants(constants_file)
        checked_design(self.scenario, spec, allow_large, "--allow-large",
                       lambda path, message: ScenarioError(spec_file, path,
                                                           line_for(lines, path), message))
        self.names = list(spec.parameters)
        self.points = design_points(spec)
        self.out = folder / spec.out
        n = len(self.points)
        self.chunks = [
            list(range(start, min(start + spec.chunk_points, n)))
            for start in range(0, n, spec.chunk_points)
        ]
        self.identity = {"spec_sha256": self.spec_sha, "points": len(self.points),
                         "chunk_points": self.spec.chunk_points}
        self.design_sha = design_digest(self.names, self.points, spec.members, spec.seed)
        self.rejected: dict[int, str] = {}  # chunks on disk not taken: index -> why
        self.target = check(self.out, "sweep", force=force,
                            where=Where(str(spec_file), ("out",), line_for(lines, ("out",))),
                            unfinished=self._unfinished, in_place=left_in_place)

    def _unfinished(self, folder: Path) -> str | None:
        """'same' when ``folder`` holds this sweep (to resume), 'other' for another diplosim
        sweep's work, None when it holds no sweep state."""
        state = _read_state(folder / "sweep.json")
        if state is None:
            return None
        return "same" if {k: state.get(k) for k in self.identity} == self.identity else "other"

    @property
    def resuming(self) -> bool:
        return self.target.state == "resume"

    def finished_chunks(self) -> int:
        """How many chunks are on disk for this sweep."""
        if not (self.out / "sweep.json").is_file() or self._unfinished(self.out) != "same":
            return 0
        return len(self.chunks) - len(self.pending_chunks())

    def _claim_folder(self) -> None:
        """Create the output folder (or clear the earlier result it replaces), or, resuming,
        remove what a killed run left half-written."""
        from sim.outputs.output_folder import prepare_in_place, write_error

        prepare_in_place(self.target, self._unfinished, left_in_place)
        state = self.out / "sweep.json"
        try:
            if self._unfinished(self.out) == "same":
                _remove_stale_tmp(self.out)
                _remove_stale_tmp(self.out / "chunks")
                return
            (self.out / "chunks").mkdir(parents=True, exist_ok=True)
            identity = {"kind": "sweep", "package": "diplosim", **self.identity}
            _write_text_atomically(json.dumps(identity, sort_keys=True) + "\n", state)
        except OSError as exc:
            raise write_error(str(self.out), exc, after="no chunk was run") from None

    def pending_chunks(self) -> list[int]:
        """The chunks to compute: those not on disk, and those on disk that are not this
        sweep's or cannot be read (kept in ``rejected`` with the reason)."""
        pending = []
        for index in range(len(self.chunks)):
            if not os.path.lexists(_chunk_path(self.out, index)):
                pending.append(index)
                continue
            problem = self._chunk_problem(index)
            if problem is not None:
                self.rejected[index] = problem
                pending.append(index)
        return pending

    def rejected_notes(self) -> list[str]:
        """One line per chunk on disk that is not taken and will be computed again."""
        return [f"{_chunk_path(self.out, i)}: {why}; computing it again"
                for i, why in sorted(self.rejected.items())]

    def chunk_metadata(self, index: int) -> dict[str, str]:
        """What a chunk carries to be recognised on resume: its sweep's digests and index."""
        return {CHUNK_KEY: json.dumps({"spec_sha256": self.spec_sha,
                                       "design_sha256": self.design_sha, "chunk": index})}

    def _chunk_problem(self, index: int) -> str | None:
        """Why the chunk file on disk cannot be taken, or None when it is this sweep's chunk
        ``index``, whole."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = _chunk_path(self.out, index)
        try:
            if not path.is_file() or path.is_symlink():
                return "not a regular file"
            table = pq.read_table(path)
            meta = json.loads((table.schema.metadata or {}).get(CHUNK_KEY.encode(), b"null"))
        except (OSError, ValueError, pa.ArrowException):
            return "damaged or cut short (it cannot be read as a Parquet table)"
        expected = json.loads(self.chunk_metadata(index)[CHUNK_KEY])
        if meta != expected:
            return ("from another sweep (its spec or design digest, or its index, differs from "
                    "this sweep's)")
        if "point" not in table.column_names or (
                sorted(set(table.column("point").to_pylist())) != self.chunks[index]):
            return "damaged (it does not hold this chunk's points)"
        return None

    def chunk_task(self, index: int) -> tuple[int, dict[str, list[Any]]]:
        ids = self.chunks[index]
        return index, run_points(
            self.scenario, self.constants, self.names, self.points[ids], ids,
            self.spec.members, self.spec.seed,
        )

    def kept_note(self, disk_full: bool = False) -> str:
        """What is left after an interruption, and how to go on."""
        done = self.finished_chunks()
        then = "free some space, then run" if disk_full else "run"
        return (f"{done} of {len(self.chunks)} chunks are finished and kept in {self.out}; "
                f"{then} the same command again to resume")

    def run(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        progress: Callable[[int], None] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> Path:
        started = time.perf_counter()
        self._claim_folder()
        pending = self.pending_chunks()
        try:
            if pending and (workers or scheduler):
                self._run_on_dask(pending, workers, scheduler, progress, connect_timeout)
            else:
                for index in pending:
                    _, columns = self.chunk_task(index)
                    self._write_chunk(columns, index)
                    if progress:
                        progress(1)
            return self._assemble(time.perf_counter() - started, workers, scheduler)
        except _WriteFailed as failed:
            from sim.outputs.output_folder import no_space, write_error

            note = self.kept_note(disk_full=no_space(failed.cause))
            raise write_error(str(self.out), failed.cause, after=note) from None

    def _write_chunk(self, columns: dict[str, list[Any]], index: int) -> None:
        try:
            _write_parquet_atomically(columns, _chunk_path(self.out, index),
                                      self.chunk_metadata(index))
        except OSError as exc:
            raise _WriteFailed(exc) from None

    def _connect(self, scheduler: str, timeout: float):
        from dask.distributed import Client

        try:
            _probe_scheduler(scheduler, timeout)
            return Client(scheduler, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - timeouts, refusals, a peer that is not Dask
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SchedulerError(
                scheduler,
                f"no Dask scheduler could be reached within {timeout:g} s ({reason}); expected "
                "the address of a running scheduler, tcp://HOST:PORT (--connect-timeout sets the "
                "wait)",
            ) from None

    def _run_on_dask(self, pending, workers, scheduler, progress, connect_timeout) -> None:
        from dask.distributed import Client, LocalCluster, as_completed

        cluster = None
        if scheduler:
            client = self._connect(scheduler, connect_timeout)
        else:
            with _workers_ignore_ctrl_c():
                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR,
                )
            client = Client(cluster)
        try:
            futures = [
                client.submit(
                    run_points, self.scenario, self.constants, self.names,
                    self.points[self.chunks[i]], self.chunks[i], self.spec.members,
                    self.spec.seed, 1, key=f"diplosim-chunk-{self.spec_sha[:12]}-{i}", pure=False,
                )
                for i in pending
            ]
            index_of = {f.key: i for f, i in zip(futures, pending)}
            for future in as_completed(futures):
                self._write_chunk(future.result(), index_of[future.key])
                if progress:
                    progress(1)
        except (KeyboardInterrupt, Terminated):
            if cluster is not None:
                _kill_workers(cluster)  # they would finish their chunks first: seconds, minutes
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def _assemble(self, wall_s: float, workers, scheduler) -> Path:
        """Concatenate the chunks in order into dataset.parquet and write the manifest."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sim.outputs.output_folder import base_manifest, file_hashes

        tables = [pq.read_table(_chunk_path(self.out, i)) for i in range(len(self.chunks))]
        dataset = pa.concat_tables(tables)
        files = ["dataset.parquet", "sweep.json", "chunks/"]
        try:
            _write_parquet_atomically(dataset.to_pydict(), self.out / "dataset.parquet")
            manifest = {
                **base_manifest("sweep"),
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
                "files": files,
                "sha256": file_hashes(self.out, files),
            }
            _write_text_atomically(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                   self.out / "manifest.json")
        except OSError as exc:
            raise _WriteFailed(exc) from None
        return self.out / "dataset.parquet"


def _kill_workers(cluster) -> None:
    """Kill the worker processes of this process's own local cluster (after Ctrl-C or
    SIGTERM): a worker in compiled code would otherwise finish its chunk before closing."""
    import signal

    for nanny in list(cluster.workers.values()):
        pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass  # already gone


def _probe_scheduler(address: str, timeout: float) -> None:
    """Connect to ``address`` and complete Dask's handshake within ``timeout`` seconds, or raise.
    Dask bounds the connection itself but not the handshake, so a peer that accepts and then
    stays silent would hold ``Client()`` forever."""
    import asyncio

    from distributed.comm import connect

    async def handshake() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        await comm.close()

    try:
        asyncio.run(handshake())
    except asyncio.TimeoutError:
        raise TimeoutError(f"no handshake from {address} after {timeout:g} s") from None


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start worker processes with Ctrl-C ignored (the disposition is inherited): a Ctrl-C at
    the terminal reaches the whole process group, and the workers are stopped by this process
    instead, without each printing its own traceback."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _WriteFailed(Exception):
    """An OSError while writing the sweep's files (not one from Dask's network)."""

    def __init__(self, cause: OSError):
        super().__init__(str(cause))
        self.cause = cause


def _read_state(path: Path) -> dict[str, Any] | None:
    """A sweep folder's sweep.json (its identity) as a dict, or None if absent or unreadable."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 64 * 1024:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not {"spec_sha256", "points", "chunk_points"} <= set(data):
        return None
    return data


def _load_base(spec_file: str, path: Path, lines: dict, sources: str | None):
    """The spec's base scenario; a problem with it names the spec and its ``scenario`` line
    too (a file that cannot be read is located at that line, the fix being there)."""
    return load_referenced_scenario(path, sources, str(spec_file), ("scenario",), lines,
                                    "base scenario")
