"""Naming and loading: a scenario as a user names it (a library episode's folder name such as
``gsomia_2019``, a file path, or an object already loaded) and the constants (given, read from
a file, or the fitted ones). The orchestrator, the Mesa model and the experiments all load
through here, so a name means the same everywhere."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Union

from sim.formats.common import ScenarioError, read_text_file
from sim.model.constants import Constants, load_constants
from sim.model.scenario import FORMAT, LoadedScenario, Scenario, file_format, load_scenario
from sim.paths import LIBRARY, library_scenarios
from sim.validation import InvalidArgument

ScenarioLike = Union[str, os.PathLike, Scenario, LoadedScenario]

MIGRATION = ("is a diplosim/2 file; diplosim now runs Model 3 (format: diplosim/3). Rewrite it "
             "as docs/scenario-format.md#diplosim3 says: actors with a role, and for each "
             "decision every actor's stake (position, salience, clout) with its source and "
             "quote; options with a position; events that address decisions. The library's "
             "episodes (diplosim scenarios) are worked examples; diplosim init DIR copies them")


class UnknownScenario(InvalidArgument):
    """A name that is neither a file nor a library episode."""


def episode_names() -> list[str]:
    return [p.parent.name for p in library_scenarios()]


def scenario_file(name: str | os.PathLike[str]) -> str:
    """A path as given when it exists (or looks like a path), else the library episode of that
    folder name; an unknown name is one error naming the nearest episodes."""
    text = os.fspath(name)
    if "/" in text or "\\" in text or text.endswith((".yaml", ".yml")) or Path(text).exists():
        return text
    episode = LIBRARY / text / "scenario.yaml"
    if episode.is_file():
        return str(episode)
    near = difflib.get_close_matches(text, episode_names(), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else "; diplosim scenarios lists them"
    raise UnknownScenario(f"{text}: no such file, and no library episode of that name{hint}")


def load(scenario: ScenarioLike, sources: str | None = None,
         verify_quotes: bool = True) -> LoadedScenario:
    """A validated diplosim/3 scenario; a diplosim/2 file gets the migration message."""
    if isinstance(scenario, LoadedScenario):
        return scenario
    if isinstance(scenario, Scenario):
        return LoadedScenario(scenario=scenario, file="(in memory)", sha256="",
                              quotes_verified=False, sources_root=None)
    path = scenario_file(scenario)
    declared = file_format(path)
    if declared is not None and declared != FORMAT and declared.startswith("diplosim/"):
        raise ScenarioError(path, ("format",), _format_line(path), MIGRATION)
    return load_scenario(path, sources_root=sources, verify_quotes=verify_quotes)


def _format_line(path: str) -> int | None:
    lines = read_text_file(path)[0].splitlines()
    return next((n for n, line in enumerate(lines, 1) if line.startswith("format:")), None)


def constants(given: Constants | str | os.PathLike[str] | None = None) -> Constants:
    """The constants: given, read from a file, or the fitted ones (calibration/constants3.yaml)."""
    return given if isinstance(given, Constants) else load_constants(given)
