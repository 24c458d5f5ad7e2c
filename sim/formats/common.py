"""What every file format shares: located errors, the strict base model, sourced numbers,
sources, effects, recorded outcomes, and bounded reading with the quote check.

A file is data. It is read with the safe YAML loader (``sim.formats.yamlmap``) from at most
:data:`MAX_FILE_BYTES`, validated by a pydantic model, and any problem becomes one
:class:`ScenarioError` naming the file, the key path and the line. The scenario format itself
(``diplosim/3``) is :mod:`sim.model.scenario`; overlays, sweep specs and constants use the
same parts.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from datetime import date as Date
from datetime import datetime, time, timezone
from pathlib import Path as FilePath
from typing import Annotated, Any, Callable, Literal, TypeVar, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.formats.yamlmap import Path, YamlError, format_path, line_for, load_with_lines, printable
from sim.validation import FileName, Number, Quote

# a file in an earlier scenario format is still recognised as a scenario (and told to migrate)
EARLIER_FORMATS = {"diplosim/3": ("diplosim/1", "diplosim/2")}
SOURCES_ENV = "DIPLOSIM_SOURCES"
_ROLE_TAGS = ("decider", "counterpart", "patron", "rival", "domestic", "public", "other")
M = TypeVar("M", bound=BaseModel)
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


class Source(StrictModel):
    """A document a scenario cites: a file under the sources folder, with its bibliography."""

    id: Identifier
    file: FileName = Field(description="path relative to the sources folder (the shared folder)")
    title: Text
    publisher: Text
    date: Date | None = Field(default=None, description="publication date; omit if the text gives none")


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


class Precondition(StrictModel):
    """A decision that is only reached if an earlier decision took a given option."""

    decision: Identifier
    option: Identifier


class Imposed(StrictModel):
    """A decision taken by the scenario, not the model: this option at this time (to run
    along a recorded path, or to ask what follows from a choice)."""

    option: Identifier
    time: AwareDatetime


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


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


class LoadedScenario(BaseModel):
    """A validated scenario with where it came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Any
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
    return (*formats, *(old for current in formats for old in EARLIER_FORMATS.get(current, ())))


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
        ) and part not in _ROLE_TAGS:
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
    if kind == "too_short":
        least = (error.get("ctx") or {}).get("min_length", 1)
        return f"needs at least {least} {'entry' if least == 1 else 'entries'}, got none" \
            if not error.get("input") else f"needs at least {least} entries"
    message = error["msg"]
    message = message.removeprefix("Value error, ")
    given = error.get("input")
    if kind not in ("value_error",) and not isinstance(given, (dict, list)):
        shown = repr(given)
        message += f" (got {shown if len(shown) <= 80 else shown[:77] + '...'})"
    return message
