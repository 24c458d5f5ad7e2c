"""The ``diplosim/3`` scenario format: actors, and for each decision every actor's stake.

The file's shared parts (sources, parameters with source, quote and note, the recorded outcome,
located errors, the quote check) are Model 2's (:mod:`sim.formats.common`); what is new is the
stake table (docs/model3.md, M3.1), consent and bodies (M3.4), events that address decisions
and events conditional on choices (M3.3, M3.5).
"""

from __future__ import annotations

import os
from datetime import date as Date
from datetime import datetime
from pathlib import Path as FilePath
from typing import Any, Literal, Union

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from sim.formats.common import Effect as Effect2
from sim.formats.common import LoadedScenario as LoadedScenario2
from sim.formats.common import (
    DecisionLookups, Identifier, Parameter, Precondition, Imposed, RecordedOutcome, ScenarioError, Source,
    StrictModel, Text, as_aware, find_sources_root, normalise_text, parse_model,
    read_source_text, read_text_file, UnreadableFile,
)
from sim.formats.yamlmap import Path, line_for
from sim.validation import Flag, NumberWithin, Quote, WholeNumber

FORMAT = "diplosim/3"
FIELDS: tuple[str, ...] = ("position", "salience", "clout")
ADDRESSING_KINDS: tuple[str, ...] = ("demand", "offer", "concession", "vote", "announcement")
EVENT_KINDS: tuple[str, ...] = ADDRESSING_KINDS + (
    "measure", "statement", "visit", "poll", "election", "other")
ROLES: tuple[str, ...] = ("decider", "counterpart", "patron", "rival", "domestic", "public",
                          "other")
RULES: dict[str, float] = {"majority": 0.5, "three_fifths": 0.6, "two_thirds": 2.0 / 3.0}
EPISODE_KINDS: tuple[str, ...] = (
    "intelligence pact", "alliance", "basing", "arms purchase", "ratification", "withdrawal",
    "accession", "agreement", "other")


class Actor(StrictModel):
    """Anyone whose stake matters: a government, a public, a party, a ministry, a body's bloc."""

    name: Text
    role: Literal[ROLES] = Field(description="decider: the government under study; the rest "  # type: ignore[valid-type]
                                 "name what the actor is to it")


class Stake(StrictModel):
    """One actor's stake in one decision, on the scale every actor shares (docs/model3.md)."""

    position: Parameter = Field(description="where on the decision's axis (0..1) it wants it")
    salience: Parameter = Field(description="how much it cares now, 0..1")
    clout: Parameter | None = Field(
        default=None, description="what it can make the deciding actor pay or gain, 0..1 "
        "(not given for the deciding actor itself, nor for a body's members)")
    consent: Flag = Field(default=False, description="its consent is needed to move from the "
                          "standing situation")


class Member(StrictModel):
    """A bloc of a body that votes: its seats and whether it votes as one."""

    actor: Identifier
    seats: WholeNumber(1, 100_000)
    discipline: Literal["party", "free"] = "party"


class Body(StrictModel):
    """A body that decides by vote: its blocs, and the share of all seats a motion needs."""

    members: list[Member] = Field(min_length=1)
    rule: Literal[tuple(RULES)] = "majority"  # type: ignore[valid-type]
    source: Identifier
    quote: Quote = Field(description="the words giving the seats or the rule")


class Effect(Effect2):
    """A change to stakes: ``actor.field`` (in every decision where the actor has a stake) or
    ``decision.actor.field``; values stay within 0..1 (magnitudes within [-1, 1], as Model 2's)."""

    target: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,2}$")

    @model_validator(mode="after")
    def _field(self) -> Effect:
        if self.target.rsplit(".", 1)[1] not in FIELDS:
            raise ValueError(f"the target's last part must be one of {list(FIELDS)}")
        return self


class Option(StrictModel):
    id: Identifier
    label: Text
    position: NumberWithin(ge=0, le=1) = Field(description="on the decision's axis: 0 the least "
                            "cooperative choice, 1 the fullest commitment")
    requires: Precondition | None = Field(
        default=None, description="available only once an earlier decision took this option")
    effects: list[Effect] = Field(default_factory=list)
    source: Identifier | None = Field(default=None, description="where a position between "
                                      "the ends of the axis comes from (required for one)")
    quote: Quote | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _position_sourced(self) -> Option:
        if 0.0 < self.position < 1.0 and None in (self.source, self.quote, self.note):
            raise ValueError("an option between the ends of the axis needs `source`, `quote` "
                             "and `note` saying why it stands there")
        return self


class Decision(StrictModel):
    id: Identifier
    decided_by: Union[Identifier, Body]
    question: Text
    opens: AwareDatetime
    deadline: AwareDatetime
    default: Identifier = Field(description="what happens by inaction at the deadline")
    standing: Identifier | None = Field(
        default=None, description="the standing situation, which consent protects; default: "
        "the default option")
    after: Precondition | None = None
    runs_for: NumberWithin(gt=0) | None = None
    options: list[Option] = Field(min_length=2)
    stakes: dict[Identifier, Stake] = Field(min_length=1)
    imposed: Imposed | None = None

    resumes: None = None  # Model 2's; kept so the shared scoring reads both formats

    @property
    def standing_option(self) -> str:
        return self.standing or self.default

    @property
    def body(self) -> Body | None:
        return self.decided_by if isinstance(self.decided_by, Body) else None

    @property
    def decider(self) -> str | None:
        return self.decided_by if isinstance(self.decided_by, str) else None

    @model_validator(mode="after")
    def _ordered(self) -> Decision:
        if self.opens >= self.deadline:
            raise ValueError("opens must be before deadline")
        if self.runs_for is not None and self.after is None:
            raise ValueError("`runs_for` counts the window from the earlier decision, so it "
                             "needs `after`")
        return self


class Event(StrictModel):
    id: Identifier
    kind: Literal[EVENT_KINDS]  # type: ignore[valid-type]
    time: AwareDatetime | None = None
    if_: Precondition | None = Field(default=None, alias="if")
    after_hours: NumberWithin(ge=0) | None = None
    addresses: list[Identifier] = Field(default_factory=list)
    description: Text
    source: Identifier
    quote: Quote
    effects: list[Effect] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              populate_by_name=True)

    @model_validator(mode="after")
    def _when(self) -> Event:
        if (self.time is None) == (self.if_ is None):
            raise ValueError("give exactly one of `time` (a dated event) or `if` with "
                             "`after_hours` (an event that follows a choice)")
        if self.if_ is not None and self.after_hours is None:
            raise ValueError("an event with `if` needs `after_hours`")
        if self.addresses and self.kind not in ADDRESSING_KINDS:
            raise ValueError(f"an event of kind '{self.kind}' brings no look; only "
                             f"{list(ADDRESSING_KINDS)} may address a decision")
        return self


class Election(StrictModel):
    actor: Identifier
    date: Date
    description: Text
    source: Identifier
    quote: Quote


class Info(StrictModel):
    """What a student reads beside the scenario."""

    what_happened: Text
    question: Text
    what_to_try: Text
    what_to_look_for: Text


class LocalSource(Source):
    """A source: under the shared sources folder, or (``in: episode``) beside the scenario."""

    in_: Literal["shared", "episode"] = Field(default="shared", alias="in")
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              populate_by_name=True)


class Clock(StrictModel):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Clock:
        if self.start >= self.end:
            raise ValueError("clock.start must be before clock.end")
        return self


class Scenario(DecisionLookups, StrictModel):
    format: Literal["diplosim/3"]
    id: Identifier
    title: Text
    summary: Text
    country: Text
    year: WholeNumber(1800, 2100)
    kind: Literal[EPISODE_KINDS]  # type: ignore[valid-type]
    info: Info | None = None
    sources: list[LocalSource] = Field(min_length=1)
    clock: Clock
    actors: dict[Identifier, Actor] = Field(min_length=1)
    elections: list[Election] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    decisions: list[Decision] = Field(min_length=1)
    recorded_outcome: dict[Identifier, RecordedOutcome] = Field(default_factory=dict)


class LoadedScenario(LoadedScenario2):
    """A validated ``diplosim/3`` scenario with where it came from."""

    scenario: Scenario


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_scenario(file: str | os.PathLike[str], sources_root: str | None = None,
                  verify_quotes: bool = True) -> LoadedScenario:
    """Read, validate and cross-check a ``diplosim/3`` file. Raises :class:`ScenarioError`."""
    text, sha256 = read_text_file(file)
    name = str(file)
    scenario, data, lines = parse_model(text, name, Scenario)
    for path, message in _cross_check(scenario):
        raise ScenarioError(name, path, line_for(lines, path), message)
    root = find_sources_root(file, sources_root)
    episode = str(FilePath(file).resolve().parent)
    verified = False
    needs_shared = any(s.in_ == "shared" for s in scenario.sources)
    if verify_quotes and (root is not None or not needs_shared):
        for path, message in _check_sources(scenario, root, episode):
            raise ScenarioError(name, path, line_for(lines, path), message)
        verified = True
    return LoadedScenario(scenario=scenario, file=name, sha256=sha256, sources_root=root,
                          quotes_verified=verified)


def _cross_check(s: Scenario) -> Any:
    sources = {src.id for src in s.sources}
    start, end = as_aware(s.clock.start), as_aware(s.clock.end)

    def source(where: Path, source_id: str) -> Any:
        if source_id not in sources:
            yield where, f"unknown source '{source_id}'; expected one of {sorted(sources)}"

    def within(where: Path, moment: datetime, what: str) -> Any:
        if not start <= as_aware(moment) <= end:
            yield where, f"{what} outside the clock [{start.isoformat()}, {end.isoformat()}]"

    ids = [src.id for src in s.sources]
    for index, source_id in enumerate(ids):
        if ids.index(source_id) != index:
            yield ("sources", index, "id"), f"duplicate source id '{source_id}'"
    seen: dict[str, Decision] = {}
    for index, decision in enumerate(s.decisions):
        where = ("decisions", index)
        if decision.id in seen:
            yield where + ("id",), f"duplicate decision id '{decision.id}'"
        yield from _check_decision(s, where, decision, seen, source)
        yield from within(where + ("opens",), decision.opens, "opens")
        yield from within(where + ("deadline",), decision.deadline, "deadline")
        seen[decision.id] = decision
    event_ids = [event.id for event in s.events]
    for index, event in enumerate(s.events):
        where = ("events", index)
        if event_ids.index(event.id) != index:
            yield where + ("id",), f"duplicate event id '{event.id}'"
        yield from source(where + ("source",), event.source)
        if event.time is not None:
            if not start <= as_aware(event.time) < end:
                yield where + ("time",), "event dated outside the clock (an event at the very " \
                    "end would never apply)"
        else:
            yield from _check_precondition(where + ("if",), event.if_, seen, "event")
        for d in event.addresses:
            if d not in seen:
                yield where + ("addresses",), f"unknown decision '{d}'; expected one of {list(seen)}"
        for e_index, effect in enumerate(event.effects):
            yield from _check_target(s, effect, where + ("effects", e_index, "target"))
    for index, election in enumerate(s.elections):
        if election.actor not in s.actors:
            yield ("elections", index, "actor"), f"unknown actor '{election.actor}'"
        yield from source(("elections", index, "source"), election.source)
    for decision_id, record in s.recorded_outcome.items():
        where = ("recorded_outcome", decision_id)
        if decision_id not in seen:
            yield where, f"unknown decision '{decision_id}'; expected one of {list(seen)}"
            continue
        options = [o.id for o in seen[decision_id].options]
        if record.option not in options:
            yield where + ("option",), f"unknown option '{record.option}'; expected one of {options}"
        yield from source(where + ("source",), record.source)
        yield from within(where + ("time",), record.time, "recorded time")


def _check_decision(s: Scenario, where: Path, d: Decision, seen: dict[str, Decision],
                    source) -> Any:
    options = [o.id for o in d.options]
    for key in ("default", "standing"):
        value = getattr(d, key)
        if value is not None and value not in options:
            yield where + (key,), f"unknown option '{value}'; expected one of {options}"
    for o_index, option in enumerate(d.options):
        at = where + ("options", o_index)
        if options.index(option.id) != o_index:
            yield at + ("id",), f"duplicate option id '{option.id}'"
        if option.source is not None:
            yield from source(at + ("source",), option.source)
        if option.requires is not None:
            yield from _check_precondition(at + ("requires",), option.requires, seen, "option")
            if option.id in (d.default, d.standing_option):
                yield at + ("requires",), "the default and standing options cannot wait for " \
                    "another decision"
        for e_index, effect in enumerate(option.effects):
            yield from _check_target(s, effect, at + ("effects", e_index, "target"))
    if d.after is not None:
        yield from _check_precondition(where + ("after",), d.after, seen, "decision")
    if d.imposed is not None and d.imposed.option not in options:
        yield where + ("imposed", "option"), f"unknown option '{d.imposed.option}'"
    body = d.body
    deciders = [m.actor for m in body.members] if body else [d.decider]
    if body is not None:
        if len(d.options) != 2:
            yield where + ("options",), "a body votes on a motion: give exactly two options, " \
                "the motion and the default"
        yield from source(where + ("decided_by", "source"), body.source)
    for index, actor in enumerate(deciders):
        at = where + (("decided_by", "members", index, "actor") if body else ("decided_by",))
        if actor not in s.actors:
            yield at, f"unknown actor '{actor}'; expected one of {sorted(s.actors)}"
        elif actor not in d.stakes:
            yield at, f"'{actor}' decides, so it needs a stake (its position and salience)"
    for actor, stake in d.stakes.items():
        at = where + ("stakes", actor)
        if actor not in s.actors:
            yield at, f"unknown actor '{actor}'; expected one of {sorted(s.actors)}"
        deciding = actor in deciders
        if deciding and stake.clout is not None:
            yield at + ("clout",), "a deciding actor's clout over itself is 1 by definition " \
                "(docs/model3.md, M3.1); leave it out"
        if not deciding and stake.clout is None:
            yield at, "missing required key 'clout' (what it can make the decider pay or gain)"
        for name in FIELDS:
            param = getattr(stake, name)
            if param is None:
                continue
            lo, hi = param.bounds
            if lo < 0 or hi > 1:
                given = "range" if param.range is not None else "value"
                yield at + (name, given), f"must lie within [0, 1], got {[lo, hi]}"
            yield from source(at + (name, "source"), param.source)


def _check_precondition(where: Path, p: Precondition, seen: dict[str, Decision], what: str) -> Any:
    if p.decision not in seen:
        yield where + ("decision",), (f"unknown earlier decision '{p.decision}'; an {what} can "
                                      f"follow only a decision listed before it: {list(seen)}")
    elif p.option not in [o.id for o in seen[p.decision].options]:
        yield where + ("option",), f"unknown option '{p.option}' of decision '{p.decision}'"


def _check_target(s: Scenario, effect: Effect, where: Path) -> Any:
    parts = effect.target.split(".")
    if len(parts) == 3:
        decision_id, actor = parts[0], parts[1]
        decisions = [d for d in s.decisions if d.id == decision_id]
        if not decisions:
            yield where, f"unknown decision '{decision_id}'"
        elif actor not in decisions[0].stakes:
            yield where, f"'{actor}' has no stake in decision '{decision_id}'"
        return
    actor = parts[0]
    if not any(actor in d.stakes for d in s.decisions):
        yield where, f"'{actor}' has no stake in any decision; expected one of " \
            f"{sorted({a for d in s.decisions for a in d.stakes})}"


def _check_sources(s: Scenario, root: str | None, episode: str) -> Any:
    texts: dict[str, str] = {}
    for index, src in enumerate(s.sources):
        base = episode if src.in_ == "episode" else root
        try:
            text = read_source_text(base, src.file) if base else None
        except UnreadableFile as exc:
            yield ("sources", index, "file"), f"source file '{src.file}': {exc.reason}"
            return
        if text is None:
            yield ("sources", index, "file"), f"source file '{src.file}' does not exist"
            return
        texts[src.id] = normalise_text(text)

    def check(path: Path, source_id: str, quote: str) -> Any:
        if normalise_text(quote) not in texts[source_id]:
            shown = quote if len(quote) <= 80 else quote[:77] + "..."
            yield path + ("quote",), f"quote not found in source '{source_id}': \"{shown}\""

    for index, d in enumerate(s.decisions):
        for actor, stake in d.stakes.items():
            for name in FIELDS:
                param = getattr(stake, name)
                if param is not None:
                    yield from check(("decisions", index, "stakes", actor, name), param.source,
                                     param.quote)
        if d.body is not None:
            yield from check(("decisions", index, "decided_by"), d.body.source, d.body.quote)
        for o_index, option in enumerate(d.options):
            if option.source is not None and option.quote is not None:
                yield from check(("decisions", index, "options", o_index), option.source,
                                 option.quote)
    for index, event in enumerate(s.events):
        yield from check(("events", index), event.source, event.quote)
    for index, election in enumerate(s.elections):
        yield from check(("elections", index), election.source, election.quote)
    for decision_id, record in s.recorded_outcome.items():
        yield from check(("recorded_outcome", decision_id), record.source, record.quote)


def file_format(file: str | os.PathLike[str]) -> str | None:
    """The ``format:`` a scenario file declares (read cheaply; None if it names none)."""
    try:
        text, _ = read_text_file(file)
    except ScenarioError:
        return None
    for line in text.splitlines():
        if line.startswith("format:"):
            return line.split(":", 1)[1].strip().strip("'\"")
    return None


def json_schema() -> dict[str, Any]:
    """JSON Schema of the ``diplosim/3`` format (for editor completion and validation)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "diplosim scenario"
    return schema
