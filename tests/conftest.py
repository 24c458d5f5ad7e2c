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
