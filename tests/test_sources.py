"""Every number rests on words that really are in its cited source (every library episode)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.formats.common import normalise_text, read_source_text
from sim.model.scenario import FIELDS, load_scenario
from sim.paths import library_scenarios
from tests.conftest import SOURCES, needs_sources

EPISODES = library_scenarios()


def _quoted_items(scenario):
    for d in scenario.decisions:
        for actor, stake in d.stakes.items():
            for name in FIELDS:
                param = getattr(stake, name)
                if param is not None:
                    yield f"{d.id}.{actor}.{name}", param.source, param.quote
        if d.body is not None:
            yield f"{d.id} body", d.body.source, d.body.quote
        for option in d.options:
            if option.quote is not None:
                yield f"{d.id}.{option.id}", option.source, option.quote
    for event in scenario.events:
        yield f"event {event.id}", event.source, event.quote
    for election in scenario.elections:
        yield f"election {election.date}", election.source, election.quote
    for decision_id, record in scenario.recorded_outcome.items():
        yield f"recorded {decision_id}", record.source, record.quote


@needs_sources
@pytest.mark.parametrize("path", EPISODES, ids=[p.parent.name for p in EPISODES])
def test_every_quote_appears_in_its_source(path):
    scenario = load_scenario(path, verify_quotes=False).scenario
    roots = {s.id: (str(Path(path).parent) if s.in_ == "episode" else SOURCES, s.file)
             for s in scenario.sources}
    checked = 0
    for what, source_id, quote in _quoted_items(scenario):
        root, file = roots[source_id]
        text = read_source_text(root, file)
        assert text is not None, f"{what}: {file} missing from {root}"
        assert normalise_text(quote) in normalise_text(text), f"{what}: quote not in {source_id}"
        checked += 1
    assert checked > 20


@needs_sources
@pytest.mark.parametrize("path", EPISODES, ids=[p.parent.name for p in EPISODES])
def test_loader_verifies_quotes_when_sources_are_present(path):
    assert load_scenario(path).quotes_verified


@pytest.mark.parametrize("path", EPISODES, ids=[p.parent.name for p in EPISODES])
def test_every_stake_has_source_quote_and_note(path):
    scenario = load_scenario(path, verify_quotes=False).scenario
    for d in scenario.decisions:
        for stake in d.stakes.values():
            for name in FIELDS:
                param = getattr(stake, name)
                if param is not None:
                    assert param.source and param.quote.strip() and param.note.strip()
        for option in d.options:
            for effect in option.effects:
                assert effect.note.strip()
    for event in scenario.events:
        for effect in event.effects:
            assert effect.note.strip()


GSOMIA = [p for p in EPISODES if p.parent.name.startswith("gsomia_")]


@pytest.mark.parametrize("path", GSOMIA, ids=[p.parent.name for p in GSOMIA])
def test_a_gsomia_episode_carries_its_sources_and_verifies_without_the_shared_folder(
        path, tmp_path, monkeypatch):
    """Copied out of the project (no ../shared anywhere above it), the episode's quotes are
    still checked: every source it cites is in its own folder."""
    import shutil

    copy = tmp_path / path.parent.name
    shutil.copytree(path.parent, copy)
    monkeypatch.delenv("DIPLOSIM_SOURCES", raising=False)
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario(copy / "scenario.yaml")
    assert loaded.sources_root is None
    assert loaded.quotes_verified
    assert all(s.in_ == "episode" for s in loaded.scenario.sources)


@needs_sources
@pytest.mark.parametrize("path", GSOMIA, ids=[p.parent.name for p in GSOMIA])
def test_a_gsomia_episode_s_sources_are_the_shared_material_s_words(path):
    """Each sentence in sources/<id>.txt is in the shared article, and the record reproduces
    each cited fact sheet whole (scripts/gsomia_sources.py wrote them; nothing was retyped)."""
    import sys

    sys.path.insert(0, str(Path(path).parents[2] / "scripts"))
    from gsomia_sources import SHARED_FILES

    scenario = load_scenario(path, verify_quotes=False).scenario
    record = normalise_text((path.parent / "record.md").read_text(encoding="utf-8"))
    for source in scenario.sources:
        original = read_source_text(SOURCES, SHARED_FILES[source.id])
        if source.file == "record.md":
            missing = [line for line in original.splitlines() if line.strip()
                       and normalise_text(line.lstrip("#")) not in record]
            assert missing == [], source.id
            continue
        shared = normalise_text(original)
        paragraphs = (path.parent / source.file).read_text(encoding="utf-8").split("\n\n")[1:]
        assert paragraphs, source.id
        for sentence in paragraphs:
            assert normalise_text(sentence) in shared, (source.id, sentence[:60])
