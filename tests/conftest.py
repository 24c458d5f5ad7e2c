"""Shared fixtures: the library's three GSOMIA episodes (diplosim/3), Model 3's constants, and
the shared source folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.formats.common import find_sources_root
from sim.model.constants import load_constants
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "library"
SCENARIO_2012 = LIBRARY / "gsomia_2012" / "scenario.yaml"
SCENARIO_2016 = LIBRARY / "gsomia_2016" / "scenario.yaml"
SCENARIO_2019 = LIBRARY / "gsomia_2019" / "scenario.yaml"
SOURCES = find_sources_root(SCENARIO_2012)

needs_sources = pytest.mark.skipif(
    SOURCES is None,
    reason="the shared source texts (../shared/seeds, ../shared/facts) are not beside the project",
)


def with_episode_sources(folder: Path, scenario: Path = SCENARIO_2019) -> Path:
    """``folder`` with the episode's own sources beside a copy of its scenario (record.md and
    sources/, which the episode's scenario cites ``in: episode``); returns ``folder``."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "record.md").exists():
        shutil.copyfile(scenario.parent / "record.md", folder / "record.md")
    if (scenario.parent / "sources").is_dir() and not (folder / "sources").exists():
        shutil.copytree(scenario.parent / "sources", folder / "sources")
    return folder


@pytest.fixture(scope="session")
def constants():
    return load_constants()


@pytest.fixture(scope="session")
def scenario_2012():
    return load_scenario(SCENARIO_2012, verify_quotes=False).scenario


@pytest.fixture(scope="session")
def scenario_2016():
    return load_scenario(SCENARIO_2016, verify_quotes=False).scenario


@pytest.fixture(scope="session")
def scenario_2019():
    return load_scenario(SCENARIO_2019, verify_quotes=False).scenario
