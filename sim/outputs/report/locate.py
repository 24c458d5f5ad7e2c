"""Finding the scenario a result was run from (for the recorded outcome, the decisions'
questions and the traced run), and saying in the report which file was used and how it was
found. Nothing of a file that is not a scenario reaches the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.formats.common import ScenarioError, WrongKind
from sim.formats.yamlmap import printable
from sim.model.scenario import LoadedScenario, Scenario, load_scenario
from sim.outputs.report.errors import ReportError
from sim.outputs.report.folders import file_sha256, inside
from sim.paths import LIBRARY, library_scenarios



@dataclass(frozen=True)
class Located:
    """The scenario a result was run from (None if not found), and what the report says of it."""

    loaded: LoadedScenario | None
    note: str

    @property
    def scenario(self) -> Scenario | None:
        """The scenario, with its recorded outcome, or None."""
        return self.loaded.scenario if self.loaded else None


def _shown(path: Path) -> str:
    """A path as the report prints it, never a machine path: relative to the working directory
    or to the project when inside them, else the file name."""
    resolved = path.resolve()
    for root in (Path.cwd().resolve(), LIBRARY.parent):
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return path.name


def _named(folder: Path, name: str | None) -> list[tuple[Path, str]]:
    """Where the file the manifest names may be, in the order looked: (path, how found)."""
    if not name:
        return []
    roots = [(folder.parent, "beside the results folder"),
             (Path.cwd(), "in the working directory"),
             (Path.cwd() / "scenarios", "in scenarios/ of the working directory")]
    return [(inside(folder, name), "named in the manifest, beside the results"),
            *[(root / name, f"named in the manifest, {where}") for root, where in roots]]


def _scenario_files() -> list[Path]:
    """Every scenario file to search by SHA-256 or id: the working directory's (its
    ``scenarios/`` and ``library/``, as ``diplosim init`` lays them out), the library's."""
    roots = dict.fromkeys([Path.cwd() / "scenarios", Path.cwd() / "library"])
    found = [p for root in roots if root.is_dir() for p in sorted(root.rglob("*.yaml"))]
    return list(dict.fromkeys([*found, *library_scenarios()]))


def _by_id(search: list[Path], scenario_id: str) -> Path | None:
    """The first file among ``search`` that loads as the scenario ``scenario_id``."""
    for path in search:
        try:
            loaded = load_scenario(path, verify_quotes=False)
        except ScenarioError:
            continue
        if loaded.scenario.id == scenario_id:
            return path
    return None


def locate_scenario(folder: Path, manifest: dict[str, Any], given: str | None = None) -> Located:
    """Find the scenario file of a result: ``given`` (``--scenario``), else the file the
    manifest names (a bare file name: the manifest was checked), looked for inside the results
    folder, beside it, in the working directory and its ``scenarios/``; else a file
    there with the manifest's SHA-256 or scenario id. A file whose SHA-256 differs from the
    manifest's is used, with a note saying so. Nothing of a file that is not a scenario
    reaches the report: a manifest cannot make the report copy another file."""
    sha = manifest.get("scenario_sha256")
    scenario_id = manifest.get("scenario_id")
    if given is not None:
        path = Path(given)
        if not path.is_file():
            raise ReportError(path, "--scenario: no such file; expected the scenario file the "
                              "results were run from")
        return _load_located(path, sha, "given with --scenario", explain=True)
    name = manifest.get("scenario_file")
    candidates = _named(folder, name)
    for path, how in candidates:
        if path.is_file() and (sha is None or file_sha256(path) == sha):
            return _load_located(path, sha, how)
    search = _scenario_files()
    same = next((p for p in search if file_sha256(p) == sha), None) if sha is not None else None
    if same is not None:
        return _load_located(same, sha, "found by its SHA-256")
    broken = None  # the first named file that exists but does not load
    for path, how in candidates:
        if path.is_file():
            located = _load_located(path, sha, how)
            if located.loaded is not None:
                return located
            broken = broken or located
    found = _by_id(search, scenario_id) if scenario_id else None
    if found is not None:
        return _load_located(found, sha, "found by its scenario id")
    return broken or _not_found(name or f"scenario '{scenario_id}'")


def _not_found(wanted: str) -> Located:
    return Located(None, (
        f"Scenario file {wanted} was not found beside the results, in the working directory or "
        "in the library: recorded outcomes are not marked and no run is "
        "traced. Pass --scenario FILE to name it."
    ))


def _load_located(path: Path, sha: str | None, how: str, explain: bool = False) -> Located:
    """The scenario at ``path``; if it does not load, a note that says why only when the user
    named the file (a file found from a manifest may be anything: its text stays out)."""
    try:
        loaded = load_scenario(path, verify_quotes=False)
    except WrongKind as exc:
        if explain:  # named by the user, and not a scenario at all: refused, nothing quoted
            raise ReportError(path, f"--scenario: {exc.message}") from None
        return Located(None, f"Scenario file {_shown(path)} ({how}) is not a scenario file: "
                             "recorded outcomes are not marked.")
    except ScenarioError as exc:
        why = (f" ({printable(exc.message)})" if explain
               else f"; `diplosim check {_shown(path)}` says why")
        return Located(None, f"Scenario file {_shown(path)} ({how}) could not be loaded{why}: "
                             "recorded outcomes are not marked.")
    note = f"Scenario file: {_shown(path)} ({how}"
    if sha is not None and loaded.sha256 != sha:
        note += "; NOTE: its SHA-256 differs from the file the results were run from, so the "
        note += "record and the traced run may not match them"
    elif sha is not None and "SHA-256" not in how:
        note += ", same SHA-256 as the file that was run"
    return Located(loaded, note + ").")
