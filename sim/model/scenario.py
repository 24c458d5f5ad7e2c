"""The scenario format: typed schema, loading with located errors, and source checks.

A scenario file is data. It is read with the safe YAML loader (``sim.model.yamlmap``), validated by
the pydantic models below, then checked for cross-references (actors, options, dates) and,
where the source texts are at hand, for every quoted sentence appearing in its source. Any
problem becomes one :class:`ScenarioError` naming the file, the key path and the line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import unicodedata
from datetime import date as Date
from datetime import datetime, time, timezone
from pathlib import Path as FilePath
from typing import Annotated, Any, Callable, Literal, TypeVar, Union, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from sim.model.roles import MULTI_ROLES, ROLES
from sim.model.yamlmap import Path, YamlError, format_path, line_for, load_with_lines, printable
from sim.validation import FileName, Flag, Number, NumberWithin, Quote

FORMAT = "diplosim/2"
OLD_FORMATS = {
    "diplosim/1": (
        "this file is in the diplosim/1 format; diplosim/2 (Model 2) needs: `format: "
        "diplosim/2`, and two more decider parameters, `public_accountability` (1/2 is "
        "diplosim/1's fixed share) and `leader_preference` (-1 .. 1; 0 for none), each with "
        "its source, quote and note; domestic players, option `home_signal`/`reversible` and "
        "decision `attention` are optional (docs/scenario-format.md, 'From diplosim/1')"
    ),
}
SOURCES_ENV = "DIPLOSIM_SOURCES"
M = TypeVar("M", bound=BaseModel)
MAX_STEPS = 100_000  # per decision window and overall; guards memory against a typo
MAX_FILE_BYTES = 1 << 20  # scenario, overlay, spec, constants, targets; the largest ships at 16 KB
MAX_SOURCE_BYTES = 16 << 20  # a cited source text; the shared ones are at most 31 KB


class ScenarioError(Exception):
    """A located problem in a scenario file: file, key path, line and what was expected."""

    def __init__(self, file: str, path: Path, line: int | None, message: str):
        self.file, self.path, self.line, self.message = file, path, line, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {format_path(path)}: {message}")

    def __str__(self) -> str:
        """The one line shown for every located error (and its subclasses'), with control
        codes in the file name, keys and quoted values escaped."""
        return printable(super().__str__())


# ---------------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------------

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1)]


class StrictModel(BaseModel):
    """Base of every file model: unknown keys, non-finite numbers and mutation are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Magnitude(StrictModel):
    """A number that is either fixed (``value``) or drawn uniformly from ``range``."""

    value: Number | None = None
    range: tuple[Number, Number] | None = None

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(f"range must be [lo, hi] with lo <= hi, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _one_of_value_or_range(self) -> _Magnitude:
        if (self.value is None) == (self.range is None):
            raise ValueError("give exactly one of `value` or `range`")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """(lo, hi); equal for a fixed value."""
        if self.range is not None:
            return self.range
        return (self.value, self.value)  # type: ignore[return-value]


class Parameter(_Magnitude):
    """A sourced number: either a ``value`` the document gives or a ``range`` its words imply."""

    source: Identifier = Field(description="id of an entry in the scenario's `sources`")
    quote: Quote = Field(description="exact words in that source the number rests on")
    note: Text = Field(description="how the words became this value or range")


# Roles an actor may hold besides its own (`also`): one actor as treaty partner and patron.
SECOND_ROLES: tuple[str, ...] = ("counterpart", "patron", "rival", "provocateur")


class _ActorBase(StrictModel):
    """What every actor model shares: its roles and their parameters, however many it holds."""

    def role_blocks(self) -> list[tuple[str, Path, Any]]:
        """(role, key path within the actor, parameters) for its own role and each `also`."""
        blocks: list[tuple[str, Path, Any]] = [(self.role, ("parameters",), self.parameters)]
        for index, block in enumerate(getattr(self, "also", [])):
            blocks.append((block.role, ("also", index, "parameters"), block.parameters))
        return blocks

    @property
    def roles(self) -> list[str]:
        return [role for role, _, _ in self.role_blocks()]

    def all_parameters(self) -> dict[str, Parameter]:
        """Every parameter given for every role it holds, by name (names never clash:
        checked); an optional parameter left out is not there."""
        out: dict[str, Parameter] = {}
        for _, _, parameters in self.role_blocks():
            out.update(given_parameters(parameters))
        return out

    def parameter_spec(self, name: str) -> Any:
        """The bounds and meaning of parameter ``name`` in whichever role holds it."""
        for role, _, parameters in self.role_blocks():
            if name in ROLES[role].parameters:
                return ROLES[role].parameters[name]
        raise KeyError(name)

    def role_with_state(self, variable: str) -> str | None:
        for role in self.roles:
            if variable in ROLES[role].state:
                return role
        return None


def given_parameters(parameters: BaseModel) -> dict[str, Parameter]:
    """A role's parameters as given in the file, by name (optional ones left out are not)."""
    return {name: value for name, value in dict(parameters).items() if value is not None}


def _parameters_model(role: str) -> type[BaseModel]:
    spec = ROLES[role]
    parameter_fields: dict[str, Any] = {
        name: ((Parameter | None, Field(default=None, description=p.description)) if p.optional
               else (Parameter, Field(description=p.description)))
        for name, p in spec.parameters.items()
    }
    return create_model(  # type: ignore[call-overload]
        f"{role.capitalize()}Parameters", __base__=StrictModel, **parameter_fields
    )


PARAMETER_MODELS: dict[str, type[BaseModel]] = {role: _parameters_model(role) for role in ROLES}


def _role_block_model(role: str) -> type[BaseModel]:
    """A second role an actor holds (`also`): the role and its parameters."""
    return create_model(  # type: ignore[call-overload]
        f"{role.capitalize()}RoleBlock",
        __base__=StrictModel,
        role=(Literal[role], ...),  # type: ignore[valid-type]
        parameters=(PARAMETER_MODELS[role], ...),
    )


ROLE_BLOCK_MODELS: dict[str, type[BaseModel]] = {r: _role_block_model(r) for r in SECOND_ROLES}
RoleBlock = Annotated[
    Union[tuple(ROLE_BLOCK_MODELS.values())],  # type: ignore[misc]
    Field(discriminator="role"),
]


def _actor_model(role: str) -> type[BaseModel]:
    """An actor model for one role: its parameters are exactly the role's parameters."""
    spec = ROLES[role]
    extra: dict[str, Any] = {}
    if role in MULTI_ROLES:
        extra["veto"] = (Flag, Field(default=False, description=(
            "its consent is needed for any option more cooperative than the default "
            "(ratification); it withholds it while its stance exceeds one half")))
    if role in SECOND_ROLES:
        extra["also"] = (list[RoleBlock], Field(default_factory=list, description=(
            "further roles the same actor holds (for example a treaty partner that is also "
            "the patron), each with that role's parameters")))
    return create_model(  # type: ignore[call-overload]
        f"{role.capitalize()}Actor",
        __base__=_ActorBase,
        __doc__=spec.description,
        name=(Text, ...),
        role=(Literal[role], ...),  # type: ignore[valid-type]
        parameters=(PARAMETER_MODELS[role], ...),
        **extra,
    )


ACTOR_MODELS: dict[str, type[BaseModel]] = {role: _actor_model(role) for role in ROLES}
# Make the generated classes importable by name, so scenarios pickle (e.g. to Dask workers).
for _cls in (*ACTOR_MODELS.values(), *PARAMETER_MODELS.values(), *ROLE_BLOCK_MODELS.values()):
    _cls.__module__ = __name__
    _cls.__qualname__ = _cls.__name__
    globals()[_cls.__name__] = _cls
Actor = Annotated[
    Union[tuple(ACTOR_MODELS.values())],  # type: ignore[misc]
    Field(discriminator="role"),
]


class Source(StrictModel):
    """A document a scenario cites: a file under the sources folder, with its bibliography."""

    id: Identifier
    file: FileName = Field(description="path relative to the sources folder (the shared folder)")
    title: Text
    publisher: Text
    date: Date | None = Field(default=None, description="publication date; omit if the text gives none")


class Clock(StrictModel):
    """Simulated time: coarse steps, and finer steps in the hours before each deadline."""

    start: AwareDatetime
    end: AwareDatetime
    step_hours: Number = Field(gt=0, le=24 * 7)
    fine_step_hours: Number = Field(gt=0, le=24)
    fine_window_hours: Number = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Clock:
        if self.start >= self.end:
            raise ValueError("clock.start must be before clock.end")
        if self.fine_step_hours > self.step_hours:
            raise ValueError("fine_step_hours must not exceed step_hours")
        span = (as_aware(self.end) - as_aware(self.start)).total_seconds() / 3600.0
        steps = span / self.step_hours + self.fine_window_hours / self.fine_step_hours
        if steps > MAX_STEPS:
            raise ValueError(
                f"the clock would take about {steps:.0f} steps; at most {MAX_STEPS} are allowed "
                "(use longer steps or a shorter span)"
            )
        return self


class Effect(_Magnitude):
    """A change an event makes to one actor's state variable or parameter
    (``actor.variable``); a parameter keeps within its role's bounds."""

    target: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
    op: Literal["add", "set"]
    note: Text = Field(description="how the event's words became this magnitude")

    @model_validator(mode="after")
    def _within_unit(self) -> Effect:
        lo, hi = self.bounds
        if lo < -1 or hi > 1:
            raise ValueError(f"effect magnitude must lie within [-1, 1], got [{lo}, {hi}]")
        return self


class Event(StrictModel):
    """A dated happening from the record, with its declared effects on agent state."""

    id: Identifier
    time: AwareDatetime
    description: Text
    source: Identifier
    quote: Quote
    effects: list[Effect] = Field(default_factory=list)


class Turnover(StrictModel):
    """What an election may bring: with a sourced chance, a new government whose arrival
    changes parameters or state (the form of an event's effects)."""

    chance: Parameter = Field(description="chance the government changes, 0..1 (the polls or "
                              "forecasts of the time)")
    takes_office: AwareDatetime | None = Field(
        default=None, description="when the new government takes office; default: the "
        "election day")
    effects: list[Effect] = Field(min_length=1)


class Election(StrictModel):
    """A scheduled election: the decider's nearness makes it answer to the public, a domestic
    player's stance follow the public, and the counterpart's hard line follow its voters';
    any actor's election may bring a turnover."""

    actor: Identifier
    date: Date
    description: Text
    source: Identifier
    quote: Quote
    voters_hard_line: Parameter | None = Field(
        default=None,
        description="for a counterpart's election (required there, refused elsewhere): its "
        "voters' support for a hard line, 0..1, which its hard line follows as the election "
        "nears",
    )
    turnover: Turnover | None = Field(
        default=None, description="the chance of a new government and what it changes")


class Option(StrictModel):
    """One choice open to the decider."""

    id: Identifier
    label: Text
    cooperation: Number = Field(
        ge=0, le=1, description="1 keeps or enters the commitment, 0 leaves or refuses it"
    )
    conditional_on: Identifier | None = Field(
        default=None,
        description="actor whose concession this option is conditional on; the option is open "
        "only once that actor has conceded",
    )
    home_signal: NumberWithin(ge=0, le=1) | None = Field(
        default=None,
        description="how far the step reads at home as giving in (the domestic cost scales "
        "with it); defaults to `cooperation`",
    )
    reversible: Number = Field(
        default=0.0, ge=0, le=1,
        description="how easily the step can be undone (1: at any time, at no cost); an "
        "irreversible step forfeits what waiting for a concession could bring",
    )
    source: Identifier | None = Field(
        default=None, description="source of `home_signal` and `reversible` (required with them)")
    quote: Quote | None = Field(default=None, description="exact words they rest on")
    note: Text | None = Field(default=None, description="how the words became these numbers")
    effects: list[Effect] = Field(
        default_factory=list,
        description="what taking the option does (the same form as an event's effects), "
        "applied when it is taken, by the decider or by default",
    )

    @model_validator(mode="after")
    def _attributes_sourced(self) -> Option:
        if (self.home_signal is not None or self.reversible != 0.0) and None in (
                self.source, self.quote, self.note):
            raise ValueError("an option with `home_signal` or `reversible` needs `source`, "
                             "`quote` and `note` saying where the numbers come from")
        return self


class Precondition(StrictModel):
    """A decision that is only reached if an earlier decision took a given option."""

    decision: Identifier
    option: Identifier


class Imposed(StrictModel):
    """A decision taken by the scenario, not the model: this option at this time (to run
    along a recorded path, or to ask what follows from a choice)."""

    option: Identifier
    time: AwareDatetime


class Decision(StrictModel):
    """A pending choice: who decides, among what, by when, and what happens by default."""

    id: Identifier
    decider: Identifier
    question: Text
    opens: AwareDatetime
    deadline: AwareDatetime
    default: Identifier = Field(description="option that happens if the decider does nothing")
    after: Precondition | None = None
    attention: Literal["deadline", "even"] = Field(
        default="deadline",
        description="deadline: reconsiderations concentrate before the deadline; even: a "
        "window without a fixed moment, the same number of looks spread evenly",
    )
    options: list[Option] = Field(min_length=2)
    imposed: Imposed | None = Field(
        default=None,
        description="the decision is taken by the scenario, not the model: its option at its "
        "time (once the decision is open)",
    )
    runs_for: NumberWithin(gt=0) | None = Field(
        default=None,
        description="hours: in each run the window opens when the earlier decision (`after`) "
        "was taken and closes this long after (never after `deadline`)",
    )
    resumes: Identifier | None = Field(
        default=None,
        description="an earlier decision whose clock this one resumes: the window lasts what "
        "was left of that decision's window when it was taken (plus `runs_for`)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Decision:
        if self.opens >= self.deadline:
            raise ValueError("opens must be before deadline")
        for key in ("runs_for", "resumes"):
            if getattr(self, key) is not None and self.after is None:
                raise ValueError(f"`{key}` counts the window from the earlier decision, so it "
                                 "needs `after`")
        if self.imposed is not None and not (self.opens <= self.imposed.time <= self.deadline):
            raise ValueError("imposed.time must lie within the decision's window [opens, deadline]")
        return self


class RecordedOutcome(StrictModel):
    """What actually happened for one decision. Read only by validation, never by the model."""

    option: Identifier
    time: AwareDatetime
    time_note: Text = Field(description="how precise the recorded time is and why")
    source: Identifier
    quote: Quote


class DecisionLookups:
    """What both scenario formats offer the engines and the scoring: a decision by id, and
    the scenario as the model may see it."""

    def decision(self, decision_id: str):
        for decision in self.decisions:
            if decision.id == decision_id:
                return decision
        raise KeyError(decision_id)

    def without_record(self):
        """The same scenario with the recorded outcomes removed (what the model may see)."""
        return self.model_copy(update={"recorded_outcome": {}})


class Scenario(DecisionLookups, StrictModel):
    """A whole scenario file."""

    format: Literal["diplosim/2"]
    id: Identifier
    title: Text
    summary: Text
    sources: list[Source] = Field(min_length=1)
    clock: Clock
    actors: dict[Identifier, Actor] = Field(min_length=1)
    elections: list[Election] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    decisions: list[Decision] = Field(min_length=1)
    recorded_outcome: dict[Identifier, RecordedOutcome] = Field(default_factory=dict)

    # -- conveniences used by the engines ------------------------------------------------------
    def actors_in_role(self, role: str) -> list[str]:
        """Ids of the actors cast in ``role``, in file order."""
        return [actor_id for actor_id, actor in self.actors.items() if role in actor.roles]

    def actor_by_role(self, role: str) -> str | None:
        """Id of the actor cast in ``role`` (the first, for a role cast many times), or None."""
        ids = self.actors_in_role(role)
        return ids[0] if ids else None


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


class LoadedScenario(BaseModel):
    """A validated scenario with where it came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Scenario
    file: str
    sha256: str
    sources_root: str | None
    quotes_verified: bool


def as_aware(value: datetime | Date) -> datetime:
    """A timezone-aware datetime (dates are midnight UTC; naive times are taken as UTC)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def find_sources_root(scenario_file: str | os.PathLike[str], explicit: str | None = None) -> str | None:
    """Where cited files live: ``explicit``, else $DIPLOSIM_SOURCES, else a ``shared`` folder
    beside an ancestor of the scenario file (the project's checkout sits next to it), else
    beside the working directory or one of its ancestors (for an installed package, whose
    scenarios sit elsewhere)."""
    if explicit:
        return explicit
    env = os.environ.get(SOURCES_ENV)
    if env:
        return env
    here = FilePath(scenario_file).resolve().parent
    cwd = FilePath.cwd().resolve()
    for folder in dict.fromkeys((here, *here.parents, cwd, *cwd.parents)):
        candidate = folder / "shared"
        if (candidate / "seeds").is_dir() or (candidate / "facts").is_dir():
            return str(candidate)
    return None


_QUOTE_TRANSLATION = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
     "\u00a0": " "}
)


def normalise_text(text: str) -> str:
    """Fold typographic quotes, dashes and runs of whitespace so a quote matches its source."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_TRANSLATION)
    return re.sub(r"\s+", " ", text).strip()


class UnreadableFile(Exception):
    """A file refused before or while reading it; ``reason`` says why, in the user's terms."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def source_file_path(root: str, relative: str) -> FilePath:
    """Where a cited file lies: a relative path that resolves (links followed) inside ``root``.
    Anything else is refused, so a scenario cannot make the tool read a file elsewhere."""
    base = FilePath(root).resolve()
    given = FilePath(relative)
    if given.is_absolute():
        raise UnreadableFile("an absolute path; expected a path relative to the sources folder")
    path = (base / given).resolve()
    if not path.is_relative_to(base):
        raise UnreadableFile("leads outside the sources folder; expected a file inside it")
    return path


def read_source_text(root: str, relative: str) -> str | None:
    """Text of a cited file under ``root``, or None if it does not exist. Raises
    :class:`UnreadableFile` for a path leading outside ``root``, or a file that is not a regular
    file of at most MAX_SOURCE_BYTES."""
    path = source_file_path(root, relative)
    if not path.exists():
        return None
    return read_bounded(path, MAX_SOURCE_BYTES).decode("utf-8", errors="replace")


def read_bounded(file: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. A folder, pipe, device or socket
    is refused before it is opened for reading (a pipe would wait forever, ``/dev/zero`` never
    ends), and so is a larger file; raises :class:`UnreadableFile`."""
    try:
        _check_regular(os.stat(file), limit)
        # non-blocking: a pipe swapped in after the check must not hang the open
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as handle:
            _check_regular(os.fstat(handle.fileno()), limit)
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {exc.strerror or exc}") from None
    except ValueError:  # a NUL byte in the name
        raise UnreadableFile("cannot read the file: its name holds a NUL byte") from None
    if len(raw) > limit:
        raise UnreadableFile(f"the file is larger than {limit:,} bytes, the most this tool reads")
    return raw


def _check_regular(info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a folder" if stat.S_ISDIR(info.st_mode)
            else "a named pipe" if stat.S_ISFIFO(info.st_mode)
            else "a socket" if stat.S_ISSOCK(info.st_mode)
            else "a device"
        )
        raise UnreadableFile(f"not a regular file ({kind}); expected a text file")
    if info.st_size > limit:
        raise UnreadableFile(
            f"the file is {info.st_size:,} bytes; at most {limit:,} are read (expected a text file "
            "of scenario size)"
        )


def read_text_file(file: str | os.PathLike[str]) -> tuple[str, str]:
    """(text, SHA-256 of the bytes) of a UTF-8 file of at most MAX_FILE_BYTES, or a
    ScenarioError naming it. Every YAML file kind the tool reads comes through here."""
    name = str(file)
    try:
        raw = read_bounded(file, MAX_FILE_BYTES)
    except UnreadableFile as exc:
        raise ScenarioError(name, (), None, exc.reason) from None
    try:
        return raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()
    except UnicodeDecodeError as exc:
        raise ScenarioError(name, (), None, f"not UTF-8 text ({exc.reason})") from None


class WrongKind(ScenarioError):
    """A file that is not the kind of diplosim file expected where it was named. It may be any
    readable file (``/etc/shadow`` named as a base scenario), so nothing of its content is
    quoted: the message names the path and what was expected."""


def parse_model(text: str, name: str, model: type[M],
                before: Callable[[dict[str, Any], dict[Path, int], str], None] | None = None,
                kind: str | None = None) -> tuple[M, Any, dict[Path, int]]:
    """Parse YAML ``text`` (from file ``name``) into ``model``: (parsed, raw data, line map).
    Every problem becomes one located ScenarioError; ``before`` may refuse the raw data first
    (with a message more useful than the schema's). Before any of its content is quoted, the
    file must declare the model's kind: its ``format`` key (one of the model's formats), or for
    a model without one (``kind`` names it, e.g. constants) at least one of its keys; any other
    file is refused with a :class:`WrongKind`."""
    try:
        data, lines = load_with_lines(text)
    except YamlError as exc:
        if _text_declares(model, text):
            raise ScenarioError(name, exc.path, exc.line, exc.message) from None
        if exc.quotes:
            raise _wrong_kind(name, model, kind) from None
        raise ScenarioError(name, (), exc.line, exc.message) from None  # keys are content too
    if not isinstance(data, dict):
        raise ScenarioError(name, (), 1, f"expected a mapping of keys, got {_kind(data)}")
    if before is not None:
        before(data, lines, name)
    if not _data_declares(model, data):
        raise _wrong_kind(name, model, kind)
    try:
        return model.model_validate(data), data, lines
    except ValidationError as exc:
        raise located_validation_error(name, exc, data, lines) from None


def _formats(model: type[BaseModel]) -> tuple[str, ...]:
    """The ``format`` values a model accepts (and earlier ones it explains), or () for a model
    without a ``format`` key."""
    field = model.model_fields.get("format")
    formats = get_args(field.annotation) if field is not None else ()
    return (*formats, *(old for old in OLD_FORMATS if FORMAT in formats))


def _data_declares(model: type[BaseModel], data: dict[str, Any]) -> bool:
    formats = _formats(model)
    if formats:
        return isinstance(data.get("format"), str) and data["format"] in formats
    return any(key in model.model_fields for key in data)


def _text_declares(model: type[BaseModel], text: str) -> bool:
    """Whether text that is not valid YAML still declares the model's kind on a top-level line
    (its YAML error may then be shown, quoting the file)."""
    formats = _formats(model)
    if formats:
        values = "|".join(re.escape(f) for f in formats)
        pattern = rf"^format:[ \t]*([\"']?)({values})\1[ \t]*(#.*)?$"
    else:
        pattern = rf"^({'|'.join(re.escape(k) for k in model.model_fields)})[ \t]*:"
    return re.search(pattern, text, re.MULTILINE) is not None


def _wrong_kind(name: str, model: type[BaseModel], kind: str | None) -> WrongKind:
    formats = _formats(model)
    if formats:
        label = re.match(r"diplosim-?([a-z]*)/", formats[0])[1] or "scenario"
        what, wanted = f"a diplosim {label} file", f"a YAML mapping with `format: {formats[0]}`"
    else:
        keys = ", ".join(list(model.model_fields)[:3])
        what, wanted = f"a {kind or 'diplosim'} file", f"a YAML mapping of {keys}, ..."
    return WrongKind(name, (), None, f"not {what}; expected {wanted} (nothing of this file is "
                     "shown)")


def load_scenario(
    file: str | os.PathLike[str],
    sources_root: str | None = None,
    verify_quotes: bool = True,
) -> LoadedScenario:
    """Read, validate and cross-check a scenario file. Raises :class:`ScenarioError`."""
    text, sha256 = read_text_file(file)
    return load_scenario_text(
        text,
        str(file),
        sha256=sha256,
        sources_root=find_sources_root(file, sources_root),
        verify_quotes=verify_quotes,
    )


def load_referenced_scenario(
    file: str | os.PathLike[str],
    sources_root: str | None,
    referrer: str,
    where: Path,
    lines: dict[Path, int],
    what: str,
) -> LoadedScenario:
    """Load a scenario that another file (``referrer``, at key ``where``) names. A scenario
    that cannot be read is reported at the referring line; a problem inside it is reported in
    the scenario file itself. Either way the message names both files."""
    line = line_for(lines, where)
    try:
        text, sha256 = read_text_file(file)
    except ScenarioError as exc:
        raise ScenarioError(referrer, where, line, f"{what} ({file}): {exc.message}") from None
    try:
        return load_scenario_text(
            text, str(file), sha256=sha256, sources_root=find_sources_root(file, sources_root)
        )
    except ScenarioError as exc:
        named_at = f"{referrer}:{line}" if line else referrer
        raise ScenarioError(
            exc.file, exc.path, exc.line, f"{exc.message} (in the {what} named at {named_at})"
        ) from None


def load_scenario_text(
    text: str,
    name: str,
    sha256: str | None = None,
    sources_root: str | None = None,
    verify_quotes: bool = True,
) -> LoadedScenario:
    """Validate scenario text (already read from ``name``)."""
    scenario, data, lines = parse_model(text, name, Scenario, before=_refuse_old_format)
    problems = list(_cross_check(scenario))
    if problems:
        path, message = problems[0]
        raise ScenarioError(name, path, line_for(lines, path), message)
    verified = False
    if verify_quotes and sources_root is not None:
        for path, message in _check_sources(scenario, data, sources_root):
            raise ScenarioError(name, path, line_for(lines, path), message)
        verified = True
    return LoadedScenario(
        scenario=scenario,
        file=name,
        sha256=sha256 or hashlib.sha256(text.encode()).hexdigest(),
        sources_root=sources_root,
        quotes_verified=verified,
    )


def _refuse_old_format(data: dict[str, Any], lines: dict[Path, int], name: str) -> None:
    """A file in an earlier format gets one message saying what to change."""
    if isinstance(data.get("format"), str):
        message = OLD_FORMATS.get(data["format"])
        if message is not None:
            raise ScenarioError(name, ("format",), line_for(lines, ("format",)), message)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path:
    """Keep the parts of a pydantic error location that index into the data itself (pydantic
    adds names of union members and validators that the file does not contain)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part.isidentifier() and not (
            part.startswith("function-") or "[" in part
        ) and part not in ROLES:
            path.append(part)  # a missing key: name it, then stop
            break
    return tuple(path)


def located_validation_error(
    name: str, exc: ValidationError, data: Any, lines: dict[Path, int]
) -> ScenarioError:
    """One pydantic error as a ScenarioError located at its key path and line. An unknown key
    is reported before anything else: a misspelt key also makes the real one "missing", and
    the misspelling is the useful message."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    path = _data_path(data, tuple(error["loc"]))
    message = _explain(error)
    return ScenarioError(name, path, line_for(lines, path), message)


def _explain(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}'"
    if kind == "missing":
        return f"missing required key '{error['loc'][-1]}'"
    message = error["msg"]
    message = message.removeprefix("Value error, ")
    given = error.get("input")
    if kind not in ("value_error",) and not isinstance(given, (dict, list)):
        shown = repr(given)
        message += f" (got {shown if len(shown) <= 80 else shown[:77] + '...'})"
    return message


def _cross_check(s: Scenario) -> Any:
    """Yield (path, message) for references and dates that the schema alone cannot check."""
    checks = _CrossChecks(s)
    for part in (checks.sources, checks.actors, checks.elections, checks.events,
                 checks.decisions, checks.records, checks.steps):
        yield from part()


def estimated_steps(s: Scenario) -> float:
    """The clock's steps, counted before the clock is built: the coarse steps over the span
    and the fine steps of every decision's window (windows that overlap counted once)."""
    clock, start = s.clock, as_aware(s.clock.start)

    def hours(moment: datetime) -> float:
        return (as_aware(moment) - start).total_seconds() / 3600.0

    windows = sorted((max(0.0, hours(d.deadline) - clock.fine_window_hours), hours(d.deadline))
                     for d in s.decisions)
    fine, reach = 0.0, 0.0
    for low, high in windows:
        fine += max(0.0, high - max(low, reach))
        reach = max(reach, high)
    return (hours(clock.end) / clock.step_hours + fine / clock.fine_step_hours
            + 2 * len(s.decisions))


class _CrossChecks:
    """The cross-checks of one scenario, part by part (sources, actors, elections, events,
    decisions, records); each yields (path, message)."""

    def __init__(self, s: Scenario):
        self.s = s
        self.known_sources = {src.id for src in s.sources}
        self.start, self.end = as_aware(s.clock.start), as_aware(s.clock.end)
        self.clock_text = f"[{s.clock.start.isoformat()}, {s.clock.end.isoformat()}]"
        self.options_of: dict[str, set[str]] = {}

    def unknown_source(self, source_id: str) -> str:
        return f"unknown source '{source_id}'; expected one of {sorted(self.known_sources)}"

    def outside(self, moment: datetime) -> bool:
        return not (self.start <= as_aware(moment) <= self.end)

    def sources(self) -> Any:
        source_ids = [src.id for src in self.s.sources]
        for index, source_id in enumerate(source_ids):
            if source_ids.index(source_id) != index:
                yield ("sources", index, "id"), f"duplicate source id '{source_id}'"

    def actors(self) -> Any:
        s = self.s
        roles_seen: dict[str, str] = {}
        for actor_id, actor in s.actors.items():
            if actor.role in MULTI_ROLES and not s.actors_in_role("decider"):
                yield ("actors", actor_id, "role"), (
                    f"a {actor.role} player belongs to the decider's country, but no actor has "
                    "role 'decider'"
                )
            yield from _check_roles(actor_id, actor, roles_seen)
            for role, where, parameters in actor.role_blocks():
                for pname, param in given_parameters(parameters).items():
                    spec = ROLES[role].parameters[pname]
                    lo, hi = param.bounds
                    if lo < spec.lo or hi > spec.hi:
                        key = "range" if param.range is not None else "value"
                        yield ("actors", actor_id, *where, pname, key), (
                            f"must lie within [{spec.lo}, {spec.hi}], got "
                            f"{list(param.range) if param.range is not None else param.value}"
                        )
                    if param.source not in self.known_sources:
                        yield ("actors", actor_id, *where, pname, "source"), (
                            self.unknown_source(param.source))

    def elections(self) -> Any:
        s = self.s
        for index, election in enumerate(s.elections):
            if election.actor not in s.actors:
                yield ("elections", index, "actor"), f"unknown actor '{election.actor}'"
            elif election.turnover is None and not set(s.actors[election.actor].roles) & {
                    "decider", "counterpart", *MULTI_ROLES}:
                yield ("elections", index, "actor"), (
                    f"actor '{election.actor}' is a {s.actors[election.actor].role}; its "
                    "election changes nothing without a `turnover` (the chance of a new "
                    "government and its effects); a change already known is an event that "
                    "changes parameters"
                )
            else:
                yield from self.voters(index, election)
            if election.source not in self.known_sources:
                yield ("elections", index, "source"), self.unknown_source(election.source)
            if election.turnover is not None:
                yield from self.turnover(index, election)

    def turnover(self, index: int, election: Election) -> Any:
        """A turnover's chance within [0, 1] and sourced, its time within the clock and not
        before the election, its effects' targets known."""
        where = ("elections", index, "turnover")
        turnover = election.turnover
        lo, hi = turnover.chance.bounds
        if lo < 0 or hi > 1:
            key = "range" if turnover.chance.range is not None else "value"
            yield where + ("chance", key), f"must lie within [0.0, 1.0], got {[lo, hi]}"
        if turnover.chance.source not in self.known_sources:
            yield where + ("chance", "source"), self.unknown_source(turnover.chance.source)
        if turnover.takes_office is not None:
            if self.outside(turnover.takes_office) or as_aware(turnover.takes_office) >= self.end:
                yield where + ("takes_office",), f"takes_office outside the clock {self.clock_text}"
            elif turnover.takes_office.date() < election.date:
                yield where + ("takes_office",), "takes_office must not be before the election"
        for e_index, effect in enumerate(turnover.effects):
            yield from _check_target(self.s, effect, where + ("effects", e_index, "target"))

    def voters(self, index: int, election: Election) -> Any:
        """A counterpart's election says what its voters want; no other election does."""
        counterpart = "counterpart" in self.s.actors[election.actor].roles
        voters = election.voters_hard_line
        if counterpart and voters is None:
            yield ("elections", index, "actor"), (
                f"'{election.actor}' is the counterpart: its election needs `voters_hard_line` "
                "(its voters' support for a hard line, sourced), which its hard line follows"
            )
        elif not counterpart and voters is not None:
            yield ("elections", index, "voters_hard_line"), (
                "only a counterpart's election has `voters_hard_line`; the decider's and its "
                "domestic players' elections follow the public's opposition"
            )
        elif voters is not None:
            lo, hi = voters.bounds
            if lo < 0 or hi > 1:
                yield ("elections", index, "voters_hard_line"), (
                    f"must lie within [0.0, 1.0], got {[lo, hi]}")
            if voters.source not in self.known_sources:
                yield ("elections", index, "voters_hard_line", "source"), self.unknown_source(
                    voters.source)

    def events(self) -> Any:
        event_ids: set[str] = set()
        for index, event in enumerate(self.s.events):
            if event.id in event_ids:
                yield ("events", index, "id"), f"duplicate event id '{event.id}'"
            event_ids.add(event.id)
            if self.outside(event.time) or as_aware(event.time) >= self.end:
                yield ("events", index, "time"), (
                    f"event dated outside the clock {self.clock_text} (an event at the very "
                    "end would never apply)"
                )
            if event.source not in self.known_sources:
                yield ("events", index, "source"), self.unknown_source(event.source)
            for e_index, effect in enumerate(event.effects):
                yield from _check_target(self.s, effect,
                                         ("events", index, "effects", e_index, "target"))

    def decisions(self) -> Any:
        s, decision_ids = self.s, []
        for index, decision in enumerate(s.decisions):
            where = ("decisions", index)
            if decision.id in decision_ids:
                yield where + ("id",), f"duplicate decision id '{decision.id}'"
            if decision.decider not in s.actors:
                yield where + ("decider",), f"unknown actor '{decision.decider}'"
            elif s.actors[decision.decider].role != "decider":
                yield where + ("decider",), (
                    f"actor '{decision.decider}' has role '{s.actors[decision.decider].role}'; "
                    "expected an actor with role 'decider'"
                )
            if self.outside(decision.opens):
                yield where + ("opens",), f"opens outside the clock {self.clock_text}"
            if self.outside(decision.deadline):
                yield where + ("deadline",), f"deadline outside the clock {self.clock_text}"
            yield from self.options(where, decision)
            yield from self.references(where, decision, decision_ids)
            decision_ids.append(decision.id)
            self.options_of[decision.id] = {option.id for option in decision.options}

    def options(self, where: Path, decision: Decision) -> Any:
        s = self.s
        option_ids = [option.id for option in decision.options]
        for o_index, option in enumerate(decision.options):
            at = where + ("options", o_index)
            if option_ids.index(option.id) != o_index:
                yield at + ("id",), f"duplicate option id '{option.id}'"
            for e_index, effect in enumerate(option.effects):
                yield from _check_target(s, effect, at + ("effects", e_index, "target"))
            if option.source is not None and option.source not in self.known_sources:
                yield at + ("source",), self.unknown_source(option.source)
            if option.conditional_on is not None:
                if option.conditional_on not in s.actors:
                    yield at + ("conditional_on",), f"unknown actor '{option.conditional_on}'"
                elif "counterpart" not in s.actors[option.conditional_on].roles:
                    yield at + ("conditional_on",), (
                        f"actor '{option.conditional_on}' is a "
                        f"{s.actors[option.conditional_on].role}; only the counterpart can "
                        "concede, so an option can only be conditional on the counterpart"
                    )

    def references(self, where: Path, decision: Decision, decision_ids: list[str]) -> Any:
        """The options a decision names (imposed, default) and the decision it follows."""
        option_ids = [option.id for option in decision.options]
        if decision.imposed is not None and decision.imposed.option not in option_ids:
            yield where + ("imposed", "option"), (
                f"unknown option '{decision.imposed.option}'; expected one of {option_ids}"
            )
        if decision.default not in option_ids:
            yield where + ("default",), (
                f"unknown option '{decision.default}'; expected one of {option_ids}"
            )
        elif decision.options[option_ids.index(decision.default)].conditional_on is not None:
            yield where + ("default",), "the default option cannot be conditional"
        if decision.resumes is not None and decision.resumes not in self.options_of:
            yield where + ("resumes",), (
                f"unknown earlier decision '{decision.resumes}'; expected one of {decision_ids}"
            )
        if decision.after is not None:
            if decision.after.decision not in self.options_of:
                yield where + ("after", "decision"), (
                    f"unknown earlier decision '{decision.after.decision}'; "
                    f"expected one of {decision_ids}"
                )
            elif decision.after.option not in self.options_of[decision.after.decision]:
                yield where + ("after", "option"), (
                    f"unknown option '{decision.after.option}' of decision "
                    f"'{decision.after.decision}'"
                )

    def steps(self) -> Any:
        """Every decision's fine window counts: the steps of the whole clock are bounded."""
        steps = estimated_steps(self.s)
        if steps > MAX_STEPS:
            yield ("clock",), (
                f"with the fine window before each of its {len(self.s.decisions)} deadlines, "
                f"the clock would take about {steps:,.0f} steps; at most {MAX_STEPS:,} are "
                "allowed (use longer steps, a shorter fine window or a shorter span)")

    def records(self) -> Any:
        decision_ids = list(self.options_of)
        for decision_id, record in self.s.recorded_outcome.items():
            where = ("recorded_outcome", decision_id)
            if decision_id not in self.options_of:
                yield where, f"unknown decision '{decision_id}'; expected one of {decision_ids}"
                continue
            if record.option not in self.options_of[decision_id]:
                yield where + ("option",), (
                    f"unknown option '{record.option}'; expected one of "
                    f"{sorted(self.options_of[decision_id])}"
                )
            if record.source not in self.known_sources:
                yield where + ("source",), self.unknown_source(record.source)
            if self.outside(record.time):
                yield where + ("time",), f"recorded time outside the clock {self.clock_text}"


def _check_target(s: Scenario, effect: Effect, where: Path) -> Any:
    """An effect (an event's or an option's) must name an actor's state variable or parameter."""
    actor_id, variable = effect.target.split(".")
    if actor_id not in s.actors:
        yield where, f"unknown actor '{actor_id}'; expected one of {sorted(s.actors)}"
        return
    actor = s.actors[actor_id]
    role = actor.role_with_state(variable) or actor.role
    if role in MULTI_ROLES and variable == "stance":
        yield where, (
            "a domestic player's stance is derived each step (its opposition, moving "
            "toward the public's as its election nears); an event may change "
            "'pressing'"
        )
        return
    if variable not in ROLES[role].state and variable not in actor.all_parameters():
        yield where, (
            f"'{variable}' is neither a state variable nor a parameter of a {role}; "
            f"expected one of {sorted(ROLES[role].state)} or "
            f"{sorted(ROLES[role].parameters)}"
        )


def _check_roles(actor_id: str, actor: Any, roles_seen: dict[str, str]) -> Any:
    """Each role at most once over all actors (but domestic); an actor's roles must not share
    a parameter or state name, so ``actor.name`` always means one thing."""
    names: dict[str, str] = {}
    for index, (role, where, _) in enumerate(actor.role_blocks()):
        at = ("actors", actor_id, "role") if index == 0 else ("actors", actor_id, "also", index - 1, "role")
        if role in roles_seen and role not in MULTI_ROLES:
            yield at, (
                f"role '{role}' is already taken by '{roles_seen[role]}'; "
                "each role is cast at most once"
            )
        roles_seen[role] = actor_id
        for name in (*ROLES[role].parameters, *ROLES[role].state):
            if name in names and names[name] != role:
                yield at, (
                    f"'{name}' belongs to both the {names[name]} and the {role} role; an actor "
                    "cannot hold two roles that share a name"
                )
            names[name] = role


def _check_sources(s: Scenario, data: dict[str, Any], root: str) -> Any:
    """Yield (path, message) for a cited file that does not exist or a quote not in its file."""
    texts: dict[str, str] = {}
    for index, source in enumerate(s.sources):
        try:
            text = read_source_text(root, source.file)
        except UnreadableFile as exc:
            yield ("sources", index, "file"), f"source file '{source.file}': {exc.reason}"
            return
        if text is None:
            yield ("sources", index, "file"), (
                f"source file '{source.file}' does not exist under the sources folder"
            )
            return
        texts[source.id] = normalise_text(text)

    def check(path: Path, source_id: str, quote: str) -> Any:
        if normalise_text(quote) not in texts[source_id]:
            shown = quote if len(quote) <= 80 else quote[:77] + "..."
            yield path + ("quote",), f"quote not found in source '{source_id}': \"{shown}\""

    for actor_id, actor in s.actors.items():
        for _, where, parameters in actor.role_blocks():
            for pname, param in given_parameters(parameters).items():
                yield from check(("actors", actor_id, *where, pname), param.source, param.quote)
    for index, election in enumerate(s.elections):
        yield from check(("elections", index), election.source, election.quote)
        if election.voters_hard_line is not None:
            voters = election.voters_hard_line
            yield from check(("elections", index, "voters_hard_line"), voters.source,
                             voters.quote)
    for index, event in enumerate(s.events):
        yield from check(("events", index), event.source, event.quote)
    for index, decision in enumerate(s.decisions):
        for o_index, option in enumerate(decision.options):
            if option.source is not None and option.quote is not None:
                yield from check(("decisions", index, "options", o_index), option.source,
                                 option.quote)
    for decision_id, record in s.recorded_outcome.items():
        yield from check(("recorded_outcome", decision_id), record.source, record.quote)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario format (for editor completion and validation)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "diplosim scenario"
    return schema


def scenario_json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
