"""Parameter sweeps of Model 3: SALib designs, chunked and resumable execution, optionally on Dask.

A sweep spec (``format: diplosim-sweep/3``) names a scenario (a library episode, or a
``diplosim/3`` file beside the spec), the quantities to vary with their bounds, a design, the
members per point and a seed. A swept key is either one of Model 3's drawn quantities
(:func:`sim.model.plan.drawn_quantities`: ``decision.actor.position|salience|clout``,
``event.<id>.<n>``, ``option.<decision>.<option>.<n>``) or one of its six constants
(:mod:`sim.model.constants`). At each point the constants take the point's values, the swept
quantities are fixed at the point's values in every member, and every other quantity is drawn
from its sourced range as in ``diplosim run``. Every point runs the same members (run ids
0..members-1 with the same seed: common random numbers), so two points differ by their values
alone, not by sampling noise.

The dataset has one row per point: ``point``, each swept key, ``members``, and for each
decision ``share.<decision>.<option>`` (the share of all members taking the option),
``share.<decision>.not_reached`` (members that never got to the decision; the shares of a
decision sum to 1) and ``median_hours_before_deadline.<decision>`` (over the members that
reached it; null when none did).

Points are cut into chunks; each finished chunk is written atomically, so a sweep killed at any
moment resumes from the chunks it finished and ends with the same dataset as an uninterrupted
run, whatever the chunk size or the number of workers. Each chunk carries the digest of its
spec and of what it computes (the points, members, seed, the scenario's bytes, the constants),
verified on resume: a chunk from another sweep, or one damaged or cut short, is named and
computed again. The members of a point run in blocks of bounded work, so Ctrl-C and SIGTERM
take effect between blocks, within a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Union

import numpy as np

from sim import validation as check
from sim.experiments.sweep_spec import (  # noqa: F401  (the spec's names, re-exported)
    CONSTANT_NAMES, FORMAT, MEDIAN_HOURS, NOT_REACHED, SHARE, Design, LoadedSpec, SweepSpec,
    check_work, checked_design, design_points, load_spec, load_sweep_scenario, output_columns,
    sample_design, spec_from, sweep_parameters, work_per_member,
)
from sim.formats.common import ScenarioError
from sim.formats.yamlmap import line_for
from sim.model import kernel as K
from sim.model.constants import Constants, load_constants
from sim.model.engine import Engine, Outcomes
from sim.model.scenario import Scenario
from sim.signals import Terminated

CONNECT_TIMEOUT_S = 10.0  # default wait for a --scheduler to answer
BLOCK_UNITS = 800_000  # the members of a point run in blocks of about this much work (~0.25 s)


# -- one point ------------------------------------------------------------------------------------


def point_outcomes(engine: Engine, fixed: Mapping[str, float], members: int,
                   seed: int) -> Outcomes:
    """``members`` runs (0..members-1) with the quantities in ``fixed`` held at their values
    and the rest drawn as sourced, in blocks of bounded work (a signal waits one block)."""
    from sim.signals import raise_pending

    column = {q.key: j for j, q in enumerate(engine.quantities)}
    per = max(1, BLOCK_UNITS // max(1, work_per_member(engine.scenario)))
    parts = []
    for first in range(0, members, per):
        runs = np.arange(first, min(first + per, members))
        raise_pending()  # a signal swallowed while the kernel was being compiled
        values = engine.values(seed, runs)
        for key, value in fixed.items():
            values[:, column[key]] = value
        parts.append(engine.run(seed, runs, values))
    return Outcomes.concatenate(parts)


def _point_row(scenario: Scenario, outcomes: Outcomes) -> dict[str, Any]:
    """The output columns of one point: shares over all members, median hours (None: none)."""
    row: dict[str, Any] = {}
    members = len(outcomes.runs)
    for i, d in enumerate(scenario.decisions):
        reached = outcomes.status[:, i] == K.RESOLVED
        chosen = np.where(reached, outcomes.option[:, i], len(d.options))
        counts = np.bincount(chosen, minlength=len(d.options) + 1)
        for k, option in enumerate([o.id for o in d.options] + [NOT_REACHED]):
            row[f"{SHARE}.{d.id}.{option}"] = float(counts[k]) / members
        hours = (outcomes.deadline_h[:, i] - outcomes.decided_h[:, i])[reached]
        # missing values are nulls (not NaN), so datasets compare equal
        row[f"{MEDIAN_HOURS}.{d.id}"] = float(np.median(hours)) if hours.size else None
    return row


def run_points(scenario: Scenario, constants: Constants, names: list[str], points: np.ndarray,
               point_ids: list[int], members: int, seed: int,
               threads: int | None = None) -> dict[str, list[Any]]:
    """The dataset's rows (as columns) for a block of points, one row per point. ``threads``
    caps the engine's threads (one per Dask worker: the cluster is the parallelism)."""
    scenario = scenario.without_record()
    swept_constants = [n for n in names if n in CONSTANT_NAMES]
    columns: dict[str, list[Any]] = {c: [] for c in ["point", *names, "members",
                                                    *output_columns(scenario)]}
    engine = None
    for point_id, point in zip(point_ids, points):
        values = dict(zip(names, (float(v) for v in point)))
        if engine is None or swept_constants:
            at = dataclasses.replace(constants, **{n: values[n] for n in swept_constants})
            engine = Engine(scenario, at, threads=threads)
        fixed = {k: v for k, v in values.items() if k not in CONSTANT_NAMES}
        row = {"point": point_id, **values, "members": members,
               **_point_row(scenario, point_outcomes(engine, fixed, members, seed))}
        for name, value in row.items():
            columns[name].append(value)
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
    """Write the columns with one schema whatever their values (point and members whole
    numbers, every other column a float, null where missing): a chunk whose points no member
    reached a decision at has the same column types as any other."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(n, pa.int64() if n in ("point", "members") else pa.float64())
                        for n in columns], metadata=metadata)
    _replace_atomically(path, lambda tmp: pq.write_table(pa.table(columns, schema=schema), tmp))


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


def design_digest(names: list[str], points: np.ndarray, members: int, seed: int,
                  scenario_sha256: str, constants: Constants) -> str:
    """SHA-256 of what a sweep computes: the parameters, every point, the members, the seed,
    the scenario's bytes and the constants."""
    digest = hashlib.sha256(json.dumps([names, members, seed, scenario_sha256,
                                        dataclasses.asdict(constants)]).encode())
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
    Chunks are written in place, each atomically, so that they survive an interruption.
    Everything is checked here, before anything is written."""

    def __init__(self, spec: SweepSpec | Mapping[str, Any] | str | os.PathLike[str],
                 out: str | os.PathLike[str] | None = None, *, sources: str | None = None,
                 constants: Constants | str | os.PathLike[str] | None = None,
                 force: bool = False, allow_large: bool = False,
                 allow_how: str = "--allow-large"):
        self.loaded = spec_from(spec)
        self.spec, self.spec_sha = self.loaded.spec, self.loaded.sha256
        self.scenario_loaded = load_sweep_scenario(self.loaded, sources)
        self.scenario = self.scenario_loaded.scenario.without_record()
        self.constants = (constants if isinstance(constants, Constants)
                          else load_constants(constants))
        checked_design(self.scenario, self.loaded, allow_large, allow_how)
        self.names = list(self.spec.parameters)
        self.points = design_points(self.spec)
        n, size = len(self.points), self.spec.chunk_points
        self.chunks = [list(range(start, min(start + size, n))) for start in range(0, n, size)]
        self.identity = {"spec_sha256": self.spec_sha, "points": n, "chunk_points": size}
        self.design_sha = design_digest(self.names, self.points, self.spec.members,
                                        self.spec.seed, self.scenario_loaded.sha256,
                                        self.constants)
        self.rejected: dict[int, str] = {}  # chunks on disk not taken: index -> why
        self.target = self._check_out(out, force)
        self.out = self.target.path

    def _check_out(self, out, force: bool):
        """The output folder, checked against the policy: ``out`` (relative to the working
        folder), else the spec's ``out`` (relative to the spec)."""
        from sim.outputs.output_folder import Where, check as check_folder

        if out is not None:
            given, where = os.fspath(out), Where.flag(out, "--out")
        elif self.spec.out is not None:
            given = str(self.loaded.folder / self.spec.out)
            where = Where(self.loaded.file, ("out",), line_for(self.loaded.lines, ("out",)))
        else:
            raise self.loaded.error(("out",), "no output folder: give --out DIR (out= in the "
                                    "API), or `out:` in the spec")
        return check_folder(given, "sweep", force=force, where=where,
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
            identity = {"kind": "sweep", "package": "diplosim", "format": FORMAT,
                        **self.identity}
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
                table.column("point").to_pylist() != self.chunks[index]):
            return "damaged (it does not hold this chunk's points)"
        return None

    def chunk_task(self, index: int) -> tuple[int, dict[str, list[Any]]]:
        ids = self.chunks[index]
        return index, run_points(self.scenario, self.constants, self.names, self.points[ids],
                                 ids, self.spec.members, self.spec.seed)

    def kept_note(self, disk_full: bool = False) -> str:
        """What is left after an interruption, and how to go on."""
        done = self.finished_chunks()
        then = "free some space, then run" if disk_full else "run"
        return (f"{done} of {len(self.chunks)} chunks are finished and kept in {self.out}; "
                f"{then} the same command again to resume")

    def run(self, workers: int | None = None, scheduler: str | None = None,
            progress: Callable[[int], None] | None = None,
            connect_timeout: float = CONNECT_TIMEOUT_S) -> Path:
        """Compute the pending chunks (here, on a local Dask cluster of ``workers``, or on the
        ``scheduler``'s), then assemble the dataset; ``progress(1)`` after each chunk."""
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
        dask_log = logging.getLogger("distributed")
        level = dask_log.level
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
            # the closing connections below are logged by Dask with tracebacks at INFO level;
            # diplosim's own one line says what happened and what is kept
            dask_log.setLevel(logging.CRITICAL + 1)  # left so: its threads log while it closes
            level = dask_log.level
            if cluster is not None:
                _kill_workers(cluster)  # they would finish their chunks first: seconds, minutes
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            dask_log.setLevel(level)

    def manifest(self, rows: int, wall_s: float, workers, scheduler) -> dict[str, Any]:
        """What the folder's manifest says of the sweep (its files and hashes added after)."""
        from sim.outputs.output_folder import base_manifest

        return {
            **base_manifest("sweep"), "format": FORMAT, "spec_sha256": self.spec_sha,
            "scenario": self.spec.scenario, "scenario_id": self.scenario.id,
            "scenario_sha256": self.scenario_loaded.sha256,
            "design": self.spec.design.model_dump(),
            "parameters": {k: list(v) for k, v in self.spec.parameters.items()},
            "constants": dataclasses.asdict(self.constants),
            "points": len(self.points), "members_per_point": self.spec.members,
            "seed": self.spec.seed, "chunks": len(self.chunks), "rows": rows,
            "columns": {"point": "the design point's number, 0..points-1",
                        "members": "members (runs) at the point, the same run ids at each",
                        f"{SHARE}.<decision>.<option>": "share of all members taking the "
                        f"option; {SHARE}.<decision>.{NOT_REACHED}: never got to it",
                        f"{MEDIAN_HOURS}.<decision>": "median hours between the choice and "
                        "the deadline, of the members that reached it (null: none did)"},
            "wall_time_s_last_session": round(wall_s, 3), "workers": workers,
            "scheduler": scheduler,
        }

    def _assemble(self, wall_s: float, workers, scheduler) -> Path:
        """Concatenate the chunks in order into dataset.parquet and write the manifest."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sim.outputs.output_folder import file_hashes

        tables = [pq.read_table(_chunk_path(self.out, i)) for i in range(len(self.chunks))]
        dataset = pa.concat_tables(tables)
        files = ["dataset.parquet", "sweep.json", "chunks/"]
        try:
            _write_parquet_atomically(dataset.to_pydict(), self.out / "dataset.parquet")
            manifest = {**self.manifest(dataset.num_rows, wall_s, workers, scheduler),
                        "files": files, "sha256": file_hashes(self.out, files)}
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


# -- the entry the command line and the API call -------------------------------------------------


@dataclass
class SweepResult:
    """A finished sweep: its dataset (a pandas frame, one row per point) and where it is."""

    frame: Any
    out: Path
    dataset: Path
    scenario_id: str
    method: str
    points: int
    members: int
    seed: int
    chunks: int
    resumed: int  # chunks found finished on disk and kept
    seconds: float
    notes: list[str] = field(default_factory=list)  # chunks on disk computed again, and why
    replaced_note: str | None = None

    def text(self) -> str:
        return (f"{self.points} points x {self.members} members ({self.method}), "
                f"{self.seconds:.1f} s -> {_shown(self.dataset)}")

    def as_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario_id, "out": str(self.out), "dataset": str(self.dataset),
                "design": self.method, "points": self.points, "members_per_point": self.members,
                "seed": self.seed, "chunks": self.chunks, "resumed_chunks": self.resumed,
                "seconds": round(self.seconds, 3), "columns": list(self.frame.columns),
                "notes": self.notes}


def _shown(path: Path) -> str:
    """A path as printed: relative to the working folder when inside it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


SpecLike = Union[SweepSpec, Mapping[str, Any], str, os.PathLike]


def sweep(spec_or_path: SpecLike, out: str | os.PathLike[str] | None = None, *,
          force: bool = False, workers: int | None = None, scheduler: str | None = None,
          allow_large: bool = False, progress: Callable[[int, int], None] | None = None,
          notes: Callable[[str], None] | None = None,
          constants: Constants | str | os.PathLike[str] | None = None,
          sources: str | None = None, connect_timeout: float = CONNECT_TIMEOUT_S,
          allow_how: str = "--allow-large") -> SweepResult:
    """Run a sweep to completion (resuming one left unfinished in ``out``) and return its
    dataset. ``out`` (relative to the working folder) overrides the spec's ``out`` (relative
    to the spec). Everything is checked before anything is written. Before the first chunk,
    ``notes(line)`` hears of each chunk on disk that is computed again, and ``progress(finished,
    total)`` of the chunks already finished; ``progress`` is called again after each chunk.
    Ctrl-C and SIGTERM end it with :class:`~sim.signals.Stopped`, saying which
    chunks are kept for a resume."""
    from sim.signals import Stopped

    if workers is not None:
        check.whole_number("workers", workers, 1, 4096)
    check.real("the connect timeout (seconds)", connect_timeout, 1e-3)
    runner = SweepRunner(spec_or_path, out, sources=sources, constants=constants, force=force,
                         allow_large=allow_large, allow_how=allow_how)
    done = runner.finished_chunks() if runner.resuming else 0
    total, found = len(runner.chunks), runner.rejected_notes()
    for line in found if notes is not None else ():
        notes(line)
    started = time.perf_counter()
    try:
        dataset = runner.run(workers=workers, scheduler=scheduler,
                             progress=_counting(progress, done, total),
                             connect_timeout=connect_timeout)
    except (KeyboardInterrupt, Terminated) as exc:
        raise Stopped(exc, runner.kept_note()) from None
    return SweepResult(_frame(dataset), runner.out, dataset, runner.scenario.id,
                       runner.spec.design.method, len(runner.points), runner.spec.members,
                       runner.spec.seed, total, done, time.perf_counter() - started, found,
                       runner.target.replaced_note())


def _counting(progress: Callable[[int, int], None] | None, done: int,
              total: int) -> Callable[[int], None] | None:
    """The runner's per-chunk callback as ``progress(finished, total)``, told ``done`` first."""
    if progress is None:
        return None
    progress(done, total)
    finished = [done]

    def step(n: int) -> None:
        finished[0] += n
        progress(finished[0], total)

    return step


def _frame(dataset: Path):
    import pyarrow.parquet as pq

    return pq.read_table(dataset).to_pandas()
