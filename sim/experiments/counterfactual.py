"""Counterfactual overlays (``diplosim-overlay/3``): a teaching what-if on a library episode.

An overlay names a ``diplosim/3`` base scenario (a library episode's folder name, or a path
relative to the overlay), asks a question in words, and says how it becomes a change: drawn
quantities fixed at values (the keys of :func:`sim.model.plan.drawn_quantities`), events
removed. It carries no result: :func:`counterfactual` computes one with
:func:`sim.experiments.whatif.compare` (common random numbers; an empty overlay gives exactly
zero difference), the call the page and the API make. The shipped overlays live beside their
episode, ``library/<episode>/counterfactuals/<id>.yaml`` (docs/scenario-format.md,
"Counterfactual overlays").
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import Field, field_validator, model_validator

from sim.experiments.whatif import Change, Comparison, allowed_bounds, compare
from sim.formats.common import (
    Identifier, ScenarioError, StrictModel, Text, normalise_text, parse_model, read_source_text,
    read_text_file, UnreadableFile,
)
from sim.formats.yamlmap import line_for
from sim.model.constants import Constants
from sim.model.plan import drawn_quantities
from sim.model.scenario import FORMAT as SCENARIO_FORMAT
from sim.model.scenario import LoadedScenario, Scenario, file_format, load_scenario
from sim.paths import LIBRARY
from sim.validation import FileName, InvalidArgument, Number, Quote

FORMAT = "diplosim-overlay/3"
NEAREST = 3  # suggestions named for an unknown key, event or name


class Setting(StrictModel):
    """A drawn quantity fixed at one value on the what-if side."""

    value: Number
    note: Text = Field(description="how the question became this value")
    source: Identifier | None = Field(default=None, description="the base scenario's source "
                                      "the value rests on, when it rests on one")
    quote: Quote | None = Field(default=None, description="the words in that source")

    @model_validator(mode="after")
    def _sourced_together(self) -> Setting:
        if (self.source is None) != (self.quote is None):
            raise ValueError("give `source` and `quote` together (a value resting on a "
                             "document), or neither (the note alone explains it)")
        return self


class Overlay(StrictModel):
    """A ``diplosim-overlay/3`` file."""

    format: Literal["diplosim-overlay/3"]
    id: Identifier
    base: FileName = Field(description="a library episode's folder name, or a diplosim/3 "
                           "scenario file relative to this overlay")
    question: Text
    what_to_look_for: Text = Field(description="in plain words, which decision and option to "
                                   "watch; no numbers (results are computed, never written here)")
    set: dict[str, Setting] = Field(default_factory=dict)
    remove_events: list[Identifier] = Field(default_factory=list)
    remove_elections: list[Identifier] = Field(default_factory=list, description="actors whose "
                                               "elections are dropped")

    @field_validator("what_to_look_for")
    @classmethod
    def _no_numbers(cls, text: str) -> str:
        if re.search(r"\d", text):
            raise ValueError("must be plain words without numbers: results are computed by "
                             "diplosim counterfactual, never written into the overlay")
        return text


@dataclass(frozen=True)
class LoadedOverlay:
    """An overlay, checked against its base: the change :func:`compare` makes."""

    overlay: Overlay
    file: str
    sha256: str
    base: Scenario
    base_file: str
    base_loaded: LoadedScenario
    change: Change

    @property
    def episode(self) -> str:
        return self.base.id


class ShippedOverlay(NamedTuple):
    episode: str
    id: str
    question: str
    file: str


# -- finding and reading overlays ---------------------------------------------------------------


def shipped_overlay_files() -> list[Path]:
    return sorted(LIBRARY.glob("*/counterfactuals/*.yaml"))


def overlay_file(name: str | os.PathLike[str]) -> str:
    """A path as given when it exists or looks like one, else the shipped overlay of that id
    (``no_us_pressure_2019``); an unknown id is one error naming the nearest."""
    text = os.fspath(name)
    if "/" in text or "\\" in text or text.endswith((".yaml", ".yml")) or Path(text).exists():
        return text
    found = [p for p in shipped_overlay_files() if p.stem == text]
    if found:
        return str(found[0])
    near = difflib.get_close_matches(text, [p.stem for p in shipped_overlay_files()], NEAREST, 0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else "; diplosim scenarios lists them"
    raise InvalidArgument(f"{text}: no such file, and no shipped overlay of that id{hint}")


def _refuse_results(data: dict[str, Any], lines: dict, name: str) -> None:
    """An earlier overlay format, or a written answer, gets a message saying what to change."""
    if data.get("format") in ("diplosim-overlay/1", "diplosim-overlay/2"):
        raise ScenarioError(name, ("format",), line_for(lines, ("format",)),
                            f"is a {data['format']} file (Model 2's); rewrite it as {FORMAT} "
                            "on a diplosim/3 scenario (docs/scenario-format.md, Counterfactual "
                            "overlays)")
    if data.get("format") == FORMAT and "answer" in data:
        raise ScenarioError(name, ("answer",), line_for(lines, ("answer",)),
                            "unknown key 'answer': an overlay carries no results (diplosim "
                            "counterfactual computes them); say what to watch in "
                            "`what_to_look_for`, in words")


def read_overlay(path: str) -> tuple[Overlay, str, dict]:
    """The overlay file parsed and checked on its own: (overlay, SHA-256, line map)."""
    text, sha256 = read_text_file(path)
    overlay, _, lines = parse_model(text, path, Overlay, before=_refuse_results)
    return overlay, sha256, lines


def load_overlay(path_or_name: str | os.PathLike[str], sources: str | None = None) -> LoadedOverlay:
    """Read an overlay (a file, or a shipped overlay's id), load its base and check the change
    against it. Every problem is one located :class:`ScenarioError`: in the overlay, or (for a
    base that declares ``diplosim/3``) in the base scenario itself."""
    path = overlay_file(path_or_name)
    overlay, sha256, lines = read_overlay(path)
    base_path = _base_path(overlay.base, path, lines)
    base = _load_base(base_path, overlay.base, path, lines, sources)
    _check_change(overlay, base, path, lines)
    change = Change(set={k: float(s.value) for k, s in overlay.set.items()},
                    remove_events=tuple(overlay.remove_events),
                    remove_elections=tuple(overlay.remove_elections))
    return LoadedOverlay(overlay, path, sha256, base.scenario.without_record(), base_path, base,
                         change)


def _base_path(base: str, overlay_path: str, lines: dict) -> str:
    """A library episode's scenario for a bare name, else the path relative to the overlay."""
    if "/" not in base and "\\" not in base and not base.endswith((".yaml", ".yml")):
        episode = LIBRARY / base / "scenario.yaml"
        if episode.is_file():
            return str(episode)
        names = [p.parent.name for p in sorted(LIBRARY.glob("*/scenario.yaml"))]
        near = difflib.get_close_matches(base, names, NEAREST, 0.5)
        raise ScenarioError(overlay_path, ("base",), line_for(lines, ("base",)),
                            f"no library episode '{base}'; expected an episode's folder name"
                            + (f" (nearest: {', '.join(near)})" if near else "")
                            + " or a path to a diplosim/3 scenario relative to this overlay")
    return str(Path(overlay_path).resolve().parent / base)


def _load_base(base_path: str, given: str, overlay_path: str, lines: dict,
               sources: str | None) -> LoadedScenario:
    """The base scenario, once it declares ``format: diplosim/3``: nothing of a file that does
    not is quoted (it may be any readable file)."""
    line = line_for(lines, ("base",))
    try:
        declared = file_format(base_path) if Path(base_path).is_file() else None
        read_text_file(base_path)
    except ScenarioError as exc:
        raise ScenarioError(overlay_path, ("base",), line, f"base scenario '{given}': "
                            f"{exc.message}") from None
    except OSError as exc:
        raise ScenarioError(overlay_path, ("base",), line, f"base scenario '{given}': cannot "
                            f"be read ({exc.strerror or exc})") from None
    if declared != SCENARIO_FORMAT:
        known = f" (it is a {declared} file)" if declared in ("diplosim/1", "diplosim/2") else ""
        raise ScenarioError(overlay_path, ("base",), line, f"base scenario '{given}' is not a "
                            f"{SCENARIO_FORMAT} scenario{known}; expected a library episode's "
                            f"folder name or a file with `format: {SCENARIO_FORMAT}` (nothing "
                            "of that file is shown)")
    try:
        return load_scenario(base_path, sources_root=sources)
    except ScenarioError as exc:
        named_at = f"{overlay_path}:{line}" if line else overlay_path
        raise ScenarioError(exc.file, exc.path, exc.line, f"{exc.message} (in the base "
                            f"scenario named at {named_at})") from None


def _check_change(overlay: Overlay, base: LoadedScenario, path: str, lines: dict) -> None:
    """Every key is a drawn quantity of the base within its scale, every event one of its
    events, every source one of its sources and every quote in that source's text."""
    scenario = base.scenario

    def fail(where: tuple, message: str) -> ScenarioError:
        return ScenarioError(path, where, line_for(lines, where), message)

    keys = [q.key for q in drawn_quantities(scenario)]
    events = [e.id for e in scenario.events]
    sources = {s.id: s for s in scenario.sources}
    for index, event in enumerate(overlay.remove_events):
        if event not in events:
            near = difflib.get_close_matches(event, events, NEAREST, 0.5)
            raise fail(("remove_events", index), f"unknown event '{event}' in {scenario.id}; "
                       f"expected one of {near or events}")
    voters = sorted({e.actor for e in scenario.elections})
    for index, actor in enumerate(overlay.remove_elections):
        if actor not in voters:
            raise fail(("remove_elections", index), f"no election of '{actor}' in "
                       f"{scenario.id}; expected one of {voters}")
    for key, setting in overlay.set.items():
        if key not in keys:
            near = difflib.get_close_matches(key, keys, NEAREST, 0.6)
            raise fail(("set", key), f"'{key}' is not a drawn quantity of {scenario.id}; "
                       + (f"nearest: {', '.join(near)}" if near else "expected a key "
                          "decision.actor.field, event.<id>.<n> or option.<decision>.<option>.<n>"))
        if key.startswith("event.") and key.split(".")[1] in overlay.remove_events:
            raise fail(("set", key), f"'{key}' belongs to an event the overlay removes")
        lo, hi = allowed_bounds(key)
        if not lo <= setting.value <= hi:
            raise fail(("set", key, "value"), f"must lie within [{lo:g}, {hi:g}] (the scale "
                       f"of '{key}'), got {setting.value:g}")
        if setting.source is not None and setting.source not in sources:
            raise fail(("set", key, "source"), f"unknown source '{setting.source}'; expected "
                       f"one of {sorted(sources)} (the base scenario's sources)")
    if base.quotes_verified:
        _check_quotes(overlay, base, fail)


def _check_quotes(overlay: Overlay, base: LoadedScenario, fail) -> None:
    episode = str(Path(base.file).resolve().parent)
    sources = {s.id: s for s in base.scenario.sources}
    for key, setting in overlay.set.items():
        if setting.source is None:
            continue
        src = sources[setting.source]
        root = episode if src.in_ == "episode" else base.sources_root
        try:
            text = read_source_text(root, src.file) if root else None
        except UnreadableFile as exc:
            raise fail(("set", key, "source"), f"source file '{src.file}': {exc.reason}") from None
        if text is not None and normalise_text(setting.quote) not in normalise_text(text):
            shown = setting.quote if len(setting.quote) <= 80 else setting.quote[:77] + "..."
            raise fail(("set", key, "quote"), f"quote not found in source '{setting.source}': "
                       f"\"{shown}\"")


def overlays() -> list[ShippedOverlay]:
    """Every shipped overlay (episode, id, question), read on its own (its base is checked
    when it is run); a file that does not read is listed with its error as the question."""
    out = []
    for path in shipped_overlay_files():
        try:
            overlay = read_overlay(str(path))[0]
            out.append(ShippedOverlay(path.parent.parent.name, overlay.id,
                                      " ".join(overlay.question.split()), str(path)))
        except ScenarioError as exc:
            out.append(ShippedOverlay(path.parent.parent.name, path.stem,
                                      f"(does not load: {exc})", str(path)))
    return out


# -- running one --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterfactualResult:
    """An overlay's question and the comparison :func:`compare` made for it."""

    loaded: LoadedOverlay
    comparison: Comparison

    def text(self) -> str:
        o = self.loaded.overlay
        lines = [f"counterfactual {o.id} on {self.loaded.episode}: {_words(o.question)}",
                 f"what to look for: {_words(o.what_to_look_for)}"]
        for key, setting in o.set.items():
            lines.append(f"  set {key} = {setting.value:g}")
        if o.remove_events:
            lines.append(f"  remove events: {', '.join(o.remove_events)}")
        if o.remove_elections:
            lines.append(f"  remove the elections of: {', '.join(o.remove_elections)}")
        return "\n".join(lines) + "\n\n" + self.comparison.text()

    def as_json(self) -> dict[str, Any]:
        o = self.loaded.overlay
        return {
            "overlay": o.id, "episode": self.loaded.episode, "question": _words(o.question),
            "what_to_look_for": _words(o.what_to_look_for),
            "set": {k: s.value for k, s in o.set.items()},
            "remove_events": list(o.remove_events),
            "remove_elections": list(o.remove_elections),
            "seed": self.comparison.seed, "runs": self.comparison.runs,
            "decisions": self.comparison.as_json(),
        }

    def frame(self):
        """One row per decision and option (pandas), with the overlay and episode."""
        table = self.comparison.frame()
        table.insert(0, "episode", self.loaded.episode)
        table.insert(0, "overlay", self.loaded.overlay.id)
        return table


def counterfactual(loaded: LoadedOverlay, constants: Constants | str | None, seed: int,
                   runs: int) -> CounterfactualResult:
    """The base beside its overlaid copy on common random numbers, with the attribution of
    each decision by actor (:func:`sim.experiments.whatif.compare`)."""
    from sim.model.loading import constants as resolve_constants

    return CounterfactualResult(loaded, compare(loaded.base, loaded.change,
                                                resolve_constants(constants), seed, runs,
                                                attribute=True))


def _words(text: str) -> str:
    return " ".join(text.split())
