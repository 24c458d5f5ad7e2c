"""Shared fixtures: the shipped scenarios, the constants, and the shared source folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.model.constants import load_constants
from sim.model.scenario import find_sources_root, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SCENARIO_2012 = SCENARIOS / "gsomia_2012.yaml"
SCENARIO_2016 = SCENARIOS / "gsomia_2016.yaml"
SCENARIO_2019 = SCENARIOS / "gsomia_2019.yaml"
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
