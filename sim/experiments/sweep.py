"""Parameter sweeps of Model 3: SALib designs, chunked and resumable execution, optionally on Dask.

A sweep spec (``format: diplosim-sweep/3``) names a scenario (a library episode, or a
``diplosim/3`` file beside the spec), the quantities to vary with their bounds, a design, the
members per point and a seed. A swept key is either one of Model 3's drawn quantities
(:func:`sim.model3.plan.drawn_quantities`: ``decision.actor.position|salience|clout``,
``event.<id>.<n>``, ``option.<decision>.<option>.<n>``) or one of its six constants
(:mod:`sim.model3.constants`). At each point the constants take the point's values, the swept
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
import difflib
import hashlib
import itertools
import json
import logging
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping, Union

import numpy as np
from pydantic import Field, model_validator

from sim import validation as check
from sim.model.scenario import ScenarioError, StrictModel, parse_model, read_text_file
from sim.model.yamlmap import line_for
from sim.model3 import kernel as K
from sim.model3.constants import Constants, load_constants
from sim.model3.engine import Engine, Outcomes
from sim.model3.plan import drawn_quantities
from sim.model3.scenario import FORMAT as SCENARIO_FORMAT
from sim.model3.scenario import LoadedScenario, Scenario, file_format, load_scenario
from sim.outputs.output_folder import Terminated
from sim.paths import LIBRARY, library_scenarios
from sim.validation import (
    MAX_LEVELS, MAX_MEMBERS, MAX_POINTS, MAX_SAMPLES, FileName, Flag, InvalidArgument, Number,
    Seed, TooLarge, WholeNumber,
)

FORMAT = "diplosim-sweep/3"
OLD_FORMATS = ("diplosim-sweep/1", "diplosim-sweep/2")
CONSTANT_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Constants))
NOT_REACHED = "not_reached"
SHARE, MEDIAN_HOURS = "share", "median_hours_before_deadline"
CONNECT_TIMEOUT_S = 10.0  # default wait for a --scheduler to answer
# Work units (about 300 ns of one core each, as the cost limit counts them) per member per
# decision, event or election: measured 1 to 4.5 us per member and (decision + event) over
# the library's 24 episodes on the compiled engine (benchmarks/ prints it).
UNITS_PER_ITEM = 10
BLOCK_UNITS = 800_000  # the members of a point run in blocks of about this much work (~0.25 s)
MIGRATION = ("is a Model 2 sweep spec; diplosim sweep now runs Model 3. Rewrite it as "
             f"`format: {FORMAT}` (docs/sweeps.md): `scenario:` a library episode or a "
             "diplosim/3 file, and `parameters:` keyed by Model 3's drawn quantities "
             "(decision.actor.salience, ...) or its constants")


class Design(StrictModel):
    """How points are placed: SALib's Sobol (Saltelli), Latin hypercube or Morris, or a grid."""

    method: Literal["grid", "lhs", "sobol", "morris"]
    samples: WholeNumber(1, MAX_SAMPLES) | None = Field(
        default=None, description="N for lhs/sobol/morris (required there); not used by grid")
    levels: WholeNumber(2, MAX_LEVELS) = Field(default=4, description="grid points per axis; Morris levels")
    second_order: Flag = Field(default=False, description="sobol: also sample second-order terms")

    @model_validator(mode="after")
    def _samples_given(self) -> Design:
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"the {self.method} design needs `samples` (its N)")
        return self

    def size(self, parameters: int) -> int:
        """How many points the design has over ``parameters`` (refused above MAX_POINTS)."""
        return check.check_design(self.method, self.samples or 1, self.levels, parameters,
                                  self.second_order)


# [lo, hi]; lo < hi and the bounds each key allows are checked once the scenario is read
Bounds = tuple[Number, Number]


class SweepSpec(StrictModel):
    """A sweep file (``format: diplosim-sweep/3``)."""

    format: Literal["diplosim-sweep/3"]
    scenario: FileName = Field(description="a library episode's folder name (gsomia_2019), or "
                               "a diplosim/3 scenario file relative to this spec")
    parameters: dict[str, Bounds] = Field(
        min_length=1, description="a drawn quantity key (termination_notice.united_states."
        "salience) or a Model 3 constant (temperature_decider) -> [lo, hi]")
    design: Design
    members: WholeNumber(1, MAX_MEMBERS)
    seed: Seed
    chunk_points: WholeNumber(1, MAX_POINTS) = 16
    out: FileName | None = Field(default=None, description="output folder, relative to this "
                                 "spec (--out, relative to the working folder, overrides it)")


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from: ``file`` names it in messages, ``folder`` is
    what its relative paths are relative to, ``lines`` locates its keys."""

    spec: SweepSpec
    sha256: str
    file: str
    folder: Path
    lines: dict = field(default_factory=dict)

    def error(self, path: tuple, message: str) -> ScenarioError:
        return ScenarioError(self.file, path, line_for(self.lines, path), message)


def load_spec(path: str | os.PathLike[str]) -> LoadedSpec:
    """Read and validate a sweep spec file. Raises ScenarioError (one located line)."""
    text, sha256 = read_text_file(path)
    spec, _, lines = parse_model(text, str(path), SweepSpec, before=_known_keys)
    return LoadedSpec(spec, sha256, str(path), Path(path).resolve().parent, lines)


def spec_from(given: SweepSpec | Mapping[str, Any] | str | os.PathLike[str]) -> LoadedSpec:
    """A spec file, a spec object, or a mapping of the spec's keys (relative paths then
    relative to the working folder)."""
    if isinstance(given, (str, os.PathLike)):
        return load_spec(given)
    if isinstance(given, SweepSpec):
        data = given.model_dump(mode="json")
    elif isinstance(given, Mapping):
        data = dict(given)
        _known_keys(data, {}, "(sweep spec)")
        try:
            given = SweepSpec.model_validate(data)
        except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError, one line
            from sim.model.scenario import located_validation_error

            raise located_validation_error("(sweep spec)", exc, data, {}) from None
    else:
        raise check.WrongType("spec must be a sweep spec file, a SweepSpec or a mapping, got "
                              f"{type(given).__name__}")
    digest = hashlib.sha256(json.dumps(given.model_dump(mode="json"), sort_keys=True).encode())
    return LoadedSpec(given, digest.hexdigest(), "(sweep spec)", Path.cwd())


def _known_keys(data: dict[str, Any], lines: dict, name: str) -> None:
    """Refuse an old format with what to change, and an unknown key with the nearest valid
    names (before pydantic, whose message names no alternative). Runs only on a file that
    declares itself a sweep spec: nothing of any other file is quoted."""
    declared = data.get("format")
    if declared in OLD_FORMATS:
        raise ScenarioError(name, ("format",), line_for(lines, ("format",)), MIGRATION)
    if declared != FORMAT:
        return
    for path, node, model in ((), data, SweepSpec), (("design",), data.get("design"), Design):
        if not isinstance(node, dict):
            continue
        for key in node:
            if key not in model.model_fields:
                where = (*path, key)
                raise ScenarioError(name, where, line_for(lines, where),
                                    f"unknown key {key!r}; {_nearest(str(key), model.model_fields)}")


def _nearest(key: str, names) -> str:
    """'nearest valid names: a, b, c' (difflib's closest, always three or all)."""
    names = list(names)
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.0)
    return f"nearest valid names: {', '.join(close)}"


# -- the scenario -------------------------------------------------------------------------------


def scenario_path(loaded: LoadedSpec) -> Path:
    """The spec's scenario: a library episode by its folder name, else a file relative to the
    spec. A bare name that is neither is one located error naming the nearest episodes."""
    given = loaded.spec.scenario
    bare = not re.search(r"[/\\]", given) and not given.endswith((".yaml", ".yml"))
    beside = loaded.folder / given
    if bare and (LIBRARY / given / "scenario.yaml").is_file():
        return LIBRARY / given / "scenario.yaml"
    if bare and not os.path.lexists(beside):
        episodes = [p.parent.name for p in library_scenarios()]
        raise loaded.error(("scenario",), f"{given!r} is neither a file beside the spec nor a "
                           f"library episode; {_nearest(given, episodes)}")
    return beside


def load_sweep_scenario(loaded: LoadedSpec, sources: str | None = None) -> LoadedScenario:
    """The spec's diplosim/3 scenario. A file that cannot be read, or is a diplosim/2 file, is
    reported at the spec's ``scenario`` line; a problem inside the scenario in the scenario
    file, naming the spec. A file that does not declare ``format: diplosim/3`` is refused
    without quoting anything of it (it may be any file)."""
    path = scenario_path(loaded)
    line = line_for(loaded.lines, ("scenario",))
    try:
        read_text_file(path)
    except ScenarioError as exc:
        raise loaded.error(("scenario",), f"scenario ({path}): {exc.message}") from None
    if file_format(path) == "diplosim/2":
        raise loaded.error(("scenario",), f"scenario ({path}) is a diplosim/2 file; a sweep "
                           f"runs Model 3 ({SCENARIO_FORMAT}): name a library episode or a "
                           "diplosim/3 file")
    try:
        return load_scenario(path, sources_root=sources)
    except ScenarioError as exc:
        named_at = f"{loaded.file}:{line}" if line else loaded.file
        raise type(exc)(exc.file, exc.path, exc.line,
                        f"{exc.message} (in the scenario named at {named_at})") from None


# -- checks before any point is drawn ----------------------------------------------------------


def allowed_bounds(key: str) -> tuple[float, float]:
    """A stake field stays on its 0..1 scale; an effect's magnitude within [-1, 1]; a constant
    is positive."""
    if key in CONSTANT_NAMES:
        return (0.0, float("inf"))
    return (-1.0, 1.0) if key.startswith(("event.", "option.")) else (0.0, 1.0)


def sweep_parameters(scenario: Scenario, parameters: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """A sweep's bounds (key -> (lo, hi)): at least one, each a drawn quantity of ``scenario``
    or a Model 3 constant, lo < hi within the bounds the key allows. Raises InvalidArgument
    with ``key`` set to the parameter at fault."""
    if not isinstance(parameters, Mapping) or not parameters:
        raise InvalidArgument("parameters must map at least one drawn quantity or constant to "
                              "its bounds (lo, hi)")
    known = [q.key for q in drawn_quantities(scenario)]
    outputs = set(output_columns(scenario))
    bounds = {}
    for key, pair in parameters.items():
        if key not in known and key not in CONSTANT_NAMES:
            raise InvalidArgument(
                f"{key!r} is neither a drawn quantity of {scenario.id} nor one of Model 3's "
                f"constants; {_nearest(str(key), [*known, *CONSTANT_NAMES])}", key)
        if key in outputs:
            raise InvalidArgument(f"{key!r} is also the name of an output column", key)
        bounds[key] = _bounds(key, pair)
    return bounds


def _bounds(key: str, pair: Any) -> tuple[float, float]:
    if isinstance(pair, (str, bytes)) or not _is_pair(pair):
        raise check.WrongType(f"bounds must be a pair [lo, hi], got {pair!r}", key)
    lo, hi = allowed_bounds(key)
    try:
        first, last = (check.real("each bound", v, lo, hi) for v in pair)
    except InvalidArgument as exc:
        exc.key = key
        raise
    if key in CONSTANT_NAMES and not first > 0:
        raise InvalidArgument(f"a constant's bounds must be positive, got {[first, last]}", key)
    if not first < last:
        raise InvalidArgument(f"bounds must be [lo, hi] with lo < hi (a quantity held at one "
                              f"value is not swept; leave it out), got {[first, last]}", key)
    return first, last


def _is_pair(value: Any) -> bool:
    try:
        return len(value) == 2
    except TypeError:
        return False


def work_per_member(scenario: Scenario) -> int:
    """Estimated work units of one member of ``scenario`` (see UNITS_PER_ITEM)."""
    return UNITS_PER_ITEM * (len(scenario.decisions) + len(scenario.events)
                             + len(scenario.elections))


def check_work(what: str, members: int, scenario: Scenario, allow_large: bool, how: str,
               members_text: str) -> int:
    """Refuse ``members`` runs of ``scenario`` when their estimated work exceeds the limit
    (:data:`sim.validation.MAX_WORK`), unless ``allow_large``. Returns the estimate."""
    per = work_per_member(scenario)
    work = members * per
    if work > check.MAX_WORK and not allow_large:
        raise TooLarge(
            f"{what} would take about {work:.2g} units of work ({members_text} x {per} units "
            f"per member), above the limit of {check.MAX_WORK:.0e} units (about an hour of one "
            f"core); pass {how} to run it anyway")
    return work


def checked_design(scenario: Scenario, loaded: LoadedSpec, allow_large: bool, how: str) -> int:
    """Check a spec against its scenario before any point is drawn: every swept key known,
    its bounds allowed, the design within MAX_POINTS points, and the work within the cost limit
    unless ``allow_large``. Returns the number of points."""
    spec = loaded.spec
    try:
        sweep_parameters(scenario, spec.parameters)
    except InvalidArgument as exc:
        path = ("parameters", exc.key) if exc.key else ("parameters",)
        raise loaded.error(path, str(exc)) from None
    try:
        points = spec.design.size(len(spec.parameters))
    except InvalidArgument as exc:
        raise loaded.error(("design",), str(exc)) from None
    check_work("this sweep", points * spec.members, scenario, allow_large, how,
               f"{points:,} points x {spec.members:,} members")
    return points


# -- the design -------------------------------------------------------------------------------


def design_points(spec: SweepSpec) -> np.ndarray:
    """The design's points, one row per point, columns in ``spec.parameters`` order."""
    return sample_design(dict(spec.parameters), spec.design, spec.seed)


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

        return sobol.sample(problem, design.samples, calc_second_order=design.second_order,
                            seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, design.samples, num_levels=design.levels, seed=seed)


# -- one point ------------------------------------------------------------------------------------


def output_columns(scenario: Scenario) -> list[str]:
    """The dataset's output columns, decision by decision: every option's share, the
    not-reached share, the median hours before the deadline."""
    columns = []
    for d in scenario.decisions:
        columns += [f"{SHARE}.{d.id}.{o.id}" for o in d.options]
        columns += [f"{SHARE}.{d.id}.{NOT_REACHED}", f"{MEDIAN_HOURS}.{d.id}"]
    return columns


def point_outcomes(engine: Engine, fixed: Mapping[str, float], members: int,
                   seed: int) -> Outcomes:
    """``members`` runs (0..members-1) with the quantities in ``fixed`` held at their values
    and the rest drawn as sourced, in blocks of bounded work (a signal waits one block)."""
    from sim.outputs.output_folder import raise_pending

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
                f"{self.seconds:.1f} s -> {self.dataset}")

    def as_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario_id, "out": str(self.out), "dataset": str(self.dataset),
                "design": self.method, "points": self.points, "members_per_point": self.members,
                "seed": self.seed, "chunks": self.chunks, "resumed_chunks": self.resumed,
                "seconds": round(self.seconds, 3), "columns": list(self.frame.columns),
                "notes": self.notes}


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
    Ctrl-C and SIGTERM end it with :class:`~sim.outputs.output_folder.Stopped`, saying which
    chunks are kept for a resume."""
    from sim.outputs.output_folder import Stopped

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
