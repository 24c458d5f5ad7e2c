"""Every number rests on words that really are in its cited source."""

from __future__ import annotations

import pytest

from sim.model.scenario import load_scenario, normalise_text, read_source_text
from tests.conftest import SCENARIOS, SOURCES, needs_sources

SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))


def _quoted_items(scenario):
    for actor_id, actor in scenario.actors.items():
        for name, param in actor.all_parameters().items():
            yield f"{actor_id}.{name}", param.source, param.quote
    for event in scenario.events:
        yield f"event {event.id}", event.source, event.quote
    for election in scenario.elections:
        yield f"election {election.date}", election.source, election.quote
    for decision_id, record in scenario.recorded_outcome.items():
        yield f"recorded {decision_id}", record.source, record.quote


@needs_sources
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_every_quote_appears_in_its_source(path):
    scenario = load_scenario(path, verify_quotes=False).scenario
    files = {s.id: s.file for s in scenario.sources}
    checked = 0
    for what, source_id, quote in _quoted_items(scenario):
        text = read_source_text(SOURCES, files[source_id])
        assert text is not None, f"{what}: {files[source_id]} missing from {SOURCES}"
        assert normalise_text(quote) in normalise_text(text), f"{what}: quote not in {source_id}"
        checked += 1
    assert checked > 20


@needs_sources
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_loader_verifies_quotes_when_sources_are_present(path):
    assert load_scenario(path).quotes_verified


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_every_parameter_has_source_quote_and_note(path):
    scenario = load_scenario(path, verify_quotes=False).scenario
    for actor in scenario.actors.values():
        for param in actor.all_parameters().values():
            assert param.source and param.quote.strip() and param.note.strip()
    for event in scenario.events:
        for effect in event.effects:
            assert effect.note.strip()
