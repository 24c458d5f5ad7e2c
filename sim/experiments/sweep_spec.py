"""The sweep spec of Model 3 (``format: diplosim-sweep/3``): its schema, the scenario it names,
the checks of its keys and bounds against that scenario, the cost bound, and the design's points.

Everything here runs before anything is written; every problem is one located line (the spec's
file, line and key path, with the nearest valid names for an unknown key). The evaluation and
the chunked runner are in :mod:`sim.experiments.sweep`.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

import numpy as np
from pydantic import Field, model_validator

from sim import validation as check
from sim.formats.common import ScenarioError, StrictModel, parse_model, read_text_file
from sim.formats.yamlmap import line_for
from sim.model.constants import Constants
from sim.model.plan import drawn_quantities
from sim.model.scenario import FORMAT as SCENARIO_FORMAT
from sim.model.scenario import LoadedScenario, Scenario, file_format, load_scenario
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
# Work units (about 300 ns of one core each, as the cost limit counts them) per member per
# decision, event or election: measured 1 to 4.5 us per member and (decision + event) over
# the library's 24 episodes on the compiled engine, one thread (docs/sweeps.md).
UNITS_PER_ITEM = 10
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
            from sim.formats.common import located_validation_error

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


def output_columns(scenario: Scenario) -> list[str]:
    """The dataset's output columns, decision by decision: every option's share, the
    not-reached share, the median hours before the deadline."""
    columns = []
    for d in scenario.decisions:
        columns += [f"{SHARE}.{d.id}.{o.id}" for o in d.options]
        columns += [f"{SHARE}.{d.id}.{NOT_REACHED}", f"{MEDIAN_HOURS}.{d.id}"]
    return columns


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
