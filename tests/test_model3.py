"""Model 3's behaviour (docs/model3.md): each mechanism moves outcomes as stated, both drivers
agree member by member, results follow the seed, and bad files get located errors."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.formats.common import ScenarioError
from sim.model.agents import DiplomacyModel
from sim.model.constants import load_constants
from sim.model.engine import Engine, run_ensemble
from sim.model.forecasters import reference_forecasts
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_GSOMIA = [ROOT / "library" / f"gsomia_{year}" / "scenario.yaml" for year in (2012, 2016, 2019)]
WORDS = "The government said yes. The party said no. Seats were counted. A vote was held."


def sourced(value=None, rng=None, quote="The party said no."):
    out = {"source": "r", "quote": quote, "note": "test"}
    out.update({"value": value} if value is not None else {"range": list(rng)})
    return out


def base() -> dict:
    """A decision to sign on schedule (the default) or postpone (the standing situation); the
    government wants to sign, a party wants to postpone but cares little until it calls."""
    return {
        "format": "diplosim/3", "id": "toy", "title": "Toy", "summary": "A toy.",
        "country": "Nowhere", "year": 2020, "kind": "agreement",
        "sources": [{"id": "r", "file": "record.md", "in": "episode", "title": "R",
                     "publisher": "P"}],
        "clock": {"start": "2020-01-01T00:00:00+00:00", "end": "2020-01-31T00:00:00+00:00"},
        "actors": {"gov": {"name": "Government", "role": "decider"},
                   "party": {"name": "Party", "role": "domestic"},
                   "ally": {"name": "Ally", "role": "patron"}},
        "events": [{"id": "call", "kind": "demand", "time": "2020-01-20T12:00:00+00:00",
                    "addresses": ["sign"], "description": "The party calls.", "source": "r",
                    "quote": "The party said no.",
                    "effects": [{"target": "party.salience", "op": "set", "value": 1.0,
                                 "note": "n"}]}],
        "decisions": [{
            "id": "sign", "decided_by": "gov", "question": "Sign?",
            "opens": "2020-01-01T00:00:00+00:00", "deadline": "2020-01-21T00:00:00+00:00",
            "default": "sign", "standing": "postpone",
            "options": [{"id": "sign", "label": "Sign", "position": 1.0},
                        {"id": "postpone", "label": "Postpone", "position": 0.0}],
            "stakes": {
                "gov": {"position": sourced(1.0), "salience": sourced(rng=(0.3, 0.6))},
                "party": {"position": sourced(0.0), "salience": sourced(0.1),
                          "clout": sourced(rng=(0.6, 0.9))},
            }}],
    }


def load(tmp_path: Path, data: dict):
    (tmp_path / "record.md").write_text(WORDS)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(path).scenario


@pytest.fixture(scope="module")
def constants():
    """The constants as first set: the mechanisms' tests do not move when a calibration does."""
    return load_constants(ROOT / "calibration" / "constants3_as_set.yaml")


def shares(scenario, constants, runs=4000, seed=1, decision=None):
    ensemble = run_ensemble(scenario, constants, seed, runs)
    return ensemble.summary(decision or scenario.decisions[0].id)


def test_an_addressed_event_brings_its_decision_to_that_moment(tmp_path, constants):
    addressed = shares(load(tmp_path, base()), constants)
    data = base()
    data["events"][0]["addresses"] = []
    unaddressed = shares(load(tmp_path, data), constants)
    # with the look, postponing follows the call at once: 12 hours before the deadline
    assert addressed.share("postpone") > 0.95
    assert np.median(addressed.hours_for("postpone")) == pytest.approx(12.0)
    # without it, only the background looks of the last 12 hours can act on the call
    assert unaddressed.share("postpone") < addressed.share("postpone") - 0.05


def test_consent_blocks_a_default_signing(tmp_path, constants):
    data = base()
    data["events"] = []
    data["decisions"][0]["stakes"]["party"]["salience"] = sourced(0.8)
    data["decisions"][0]["stakes"]["party"]["clout"] = sourced(0.05)
    free = shares(load(tmp_path, data), constants)
    data["decisions"][0]["stakes"]["party"]["consent"] = True
    vetoed = shares(load(tmp_path, data), constants)
    assert free.share("sign") > 0.8  # a party of little clout is outweighed ...
    assert vetoed.share("postpone") == 1.0  # ... but its consent is needed to leave `standing`


def test_a_pusher_raises_the_chance_of_cooperating(tmp_path, constants):
    data = base()
    data["decisions"][0]["stakes"]["party"]["clout"] = sourced(0.4)
    data["events"][0]["effects"][0]["value"] = 0.7
    without = shares(load(tmp_path, data), constants)
    data["decisions"][0]["stakes"]["ally"] = {"position": sourced(1.0), "salience": sourced(0.5),
                                              "clout": sourced(0.5)}
    with_ally = shares(load(tmp_path, data), constants)
    assert with_ally.share("sign") > without.share("sign") + 0.1


def body_decision(rule: str, yes_seats: int, no_seats: int) -> dict:
    data = base()
    data["events"] = []
    data["actors"].update({"bloc_yes": {"name": "Yes bloc", "role": "domestic"},
                           "bloc_no": {"name": "No bloc", "role": "domestic"}})
    data["decisions"].append({
        "id": "ratify", "question": "Ratify?",
        "decided_by": {"members": [{"actor": "bloc_yes", "seats": yes_seats},
                                   {"actor": "bloc_no", "seats": no_seats}],
                       "rule": rule, "source": "r", "quote": "Seats were counted."},
        "opens": "2020-01-01T00:00:00+00:00", "deadline": "2020-01-25T00:00:00+00:00",
        "default": "reject",
        "options": [{"id": "reject", "label": "Reject", "position": 0.0},
                    {"id": "ratify", "label": "Ratify", "position": 1.0}],
        "stakes": {"bloc_yes": {"position": sourced(0.95, quote="A vote was held."),
                                "salience": sourced(0.5, quote="A vote was held.")},
                   "bloc_no": {"position": sourced(0.05, quote="A vote was held."),
                               "salience": sourced(0.5, quote="A vote was held.")}}})
    return data


@pytest.mark.parametrize("rule, yes, no, passes", [
    ("majority", 60, 40, True), ("majority", 50, 50, False), ("two_thirds", 60, 40, False),
    ("two_thirds", 70, 30, True), ("three_fifths", 60, 40, True)])
def test_a_bodys_vote_follows_its_rule(tmp_path, constants, rule, yes, no, passes):
    summary = shares(load(tmp_path, body_decision(rule, yes, no)), constants, runs=500,
                     decision="ratify")
    # disciplined blocs far from the middle vote their position almost surely
    assert summary.share("ratify") == pytest.approx(1.0 if passes else 0.0, abs=0.01)


def test_a_conditional_event_fires_only_on_its_branch(tmp_path, constants):
    data = base()
    data["events"] = [{
        "id": "after_signing", "kind": "statement", "if": {"decision": "sign", "option": "sign"},
        "after_hours": 1, "description": "After signing.", "source": "r",
        "quote": "The party said no.",
        "effects": [{"target": "ratify.bloc_no.position", "op": "set", "value": 0.95,
                     "note": "n"}]}]
    body = body_decision("majority", 30, 70)
    data["actors"] = body["actors"]
    data["decisions"].append(body["decisions"][1])
    scenario = load(tmp_path, data)
    ensemble = run_ensemble(scenario, constants, 3, 3000)
    o = ensemble.outcomes
    signed = o.option[:, 0] == 0
    ratified = o.option[:, 1] == 1
    assert signed.any() and (~signed).any()
    assert ratified[signed].mean() > 0.99  # the event moved the no bloc on the branch where it fired
    assert not ratified[~signed].any()  # and nowhere else


@pytest.mark.parametrize("path", LIBRARY_GSOMIA, ids=lambda p: p.parent.name)
def test_both_drivers_agree_member_by_member(path, constants):
    scenario = load_scenario(path, verify_quotes=False).scenario
    compiled = Engine(scenario, constants).run(20190822, np.arange(150))
    for run in range(150):
        model = DiplomacyModel(scenario, constants, 20190822, run)
        steps = 0
        while model.running:
            model.step()
            steps += 1
        m = model.member
        assert (m.option == compiled.option[run]).all() and (m.status == compiled.status[run]).all()
        np.testing.assert_allclose(m.decided, compiled.decided_h[run], equal_nan=True)
        model.step()  # past the end: nothing happens, running stays False
        assert not model.running and (m.option == compiled.option[run]).all()


def test_the_same_seed_gives_the_same_runs_whatever_the_threads(constants):
    scenario = load_scenario(LIBRARY_GSOMIA[2], verify_quotes=False).scenario
    one = Engine(scenario, constants, threads=1).run(7, np.arange(12000))
    two = Engine(scenario, constants, threads=2).run(7, np.arange(12000))
    part = Engine(scenario, constants, threads=1).run(7, np.arange(6000, 12000))
    np.testing.assert_array_equal(one.option, two.option)
    np.testing.assert_array_equal(one.option[6000:], part.option)
    other = Engine(scenario, constants).run(8, np.arange(12000))
    assert (other.option != one.option).any()


def test_reference_forecasters_read_the_same_inputs(tmp_path, constants):
    data = base()
    forecasts = reference_forecasts(load(tmp_path, data), constants)["sign"]
    # at the deadline the party's call has set its salience to 1: weight 0.75 at 0 against the
    # government's 0.45 at 1 -> the weighted median and mean postpone
    assert forecasts["weighted_median"] == {"sign": 0.0, "postpone": 1.0}
    assert forecasts["weighted_mean"]["postpone"] == 1.0
    assert forecasts["veto_players"]["sign"] == 1.0  # no consent: the government's own choice
    data["decisions"][0]["stakes"]["party"]["consent"] = True
    vetoed = reference_forecasts(load(tmp_path, data), constants)["sign"]
    assert vetoed["veto_players"]["postpone"] == 1.0


@pytest.mark.parametrize("change, where, message", [
    (lambda d: d["events"][0].update(kind="measure"), "events[0]", "brings no look"),
    (lambda d: d["decisions"][0]["stakes"]["gov"].update(clout=sourced(0.5)),
     "decisions[0].stakes.gov.clout", "by definition"),
    (lambda d: d["decisions"][0]["stakes"]["party"].pop("clout"),
     "decisions[0].stakes.party", "clout"),
    (lambda d: d["events"][0]["effects"][0].update(target="nobody.salience"),
     "events[0].effects[0].target", "no stake"),
    (lambda d: d["decisions"][0]["stakes"]["party"]["salience"].update(quote="Not there."),
     "decisions[0].stakes.party.salience.quote", "quote not found"),
    (lambda d: d["decisions"][0]["stakes"]["party"]["salience"].update(quote="   "),
     "decisions[0].stakes.party.salience.quote", "at least one word"),
])
def test_bad_files_get_one_located_error(tmp_path, change, where, message):
    data = copy.deepcopy(base())
    change(data)
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, data)
    text = str(caught.value)
    assert where in text and message in text and "scenario.yaml:" in text


def test_the_gsomia_library_scenarios_load_with_their_quotes_checked():
    from tests.conftest import SOURCES

    if SOURCES is None:
        pytest.skip("the shared source texts are not beside the project")
    for path in LIBRARY_GSOMIA:
        assert load_scenario(path).quotes_verified


def test_the_command_line_runs_checks_traces_and_validates_a_model3_file(tmp_path, capsys):
    from sim.cli import main

    path = str(LIBRARY_GSOMIA[0])
    assert main(["check", path]) == 0
    assert "diplosim/3: 1 decisions" in capsys.readouterr().out
    assert main(["run", path, "--runs", "200", "--quiet", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "postpone" in out and "200 runs" in out
    assert (tmp_path / "o" / "runs.csv").read_text().count("\n") == 201
    assert main(["run", path, "--trace"]) == 0
    assert "outcome: signing:" in capsys.readouterr().out
    assert main(["validate", path, "--runs", "200", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert {"brier_veto_players", "brier_weighted_median", "brier_weighted_mean",
            "log_score_weighted_mean"} <= set(rows[0])


def pending_move() -> dict:
    """The government may lapse (the default), take a full step now, or take a partial step
    that requires the ally's offer, which the ally is likely to make (M3.9)."""
    data = base()
    data["events"] = [{
        "id": "offer_made", "kind": "concession", "if": {"decision": "offer", "option": "offer"},
        "after_hours": 0, "addresses": ["main"], "description": "The ally offers.",
        "source": "r", "quote": "The party said no."}]
    data["decisions"] = [
        {"id": "offer", "decided_by": "ally", "question": "Offer?",
         "opens": "2020-01-01T00:00:00+00:00", "deadline": "2020-01-28T00:00:00+00:00",
         "default": "hold",
         "options": [{"id": "hold", "label": "Hold", "position": 0.0},
                     {"id": "offer", "label": "Offer", "position": 1.0}],
         "stakes": {"ally": {"position": sourced(0.9), "salience": sourced(0.8)},
                    "gov": {"position": sourced(1.0), "salience": sourced(0.5),
                            "clout": sourced(0.5)}}},
        {"id": "main", "decided_by": "gov", "question": "Which step?",
         "opens": "2020-01-01T00:00:00+00:00", "deadline": "2020-01-30T00:00:00+00:00",
         "default": "lapse",
         "options": [{"id": "lapse", "label": "Lapse", "position": 0.0},
                     {"id": "partial", "label": "Partial", "position": 0.6,
                      "requires": {"decision": "offer", "option": "offer"},
                      "source": "r", "quote": "The party said no.", "note": "n"},
                     {"id": "full", "label": "Full", "position": 1.0}],
         "stakes": {"gov": {"position": sourced(0.6), "salience": sourced(0.9)},
                    "party": {"position": sourced(0.3), "salience": sourced(0.6),
                              "clout": sourced(0.5)}}}]
    return data


def test_the_decider_waits_for_a_pending_move_it_prefers(tmp_path, constants):
    summary = shares(load(tmp_path, pending_move()), constants, decision="main")
    # U(partial) > U(full) > U(lapse): without the wait it takes `full` at its first look
    # before the ally offers; with it, it waits for the offer and takes `partial`
    assert summary.share("partial") > 0.8
    assert summary.share("full") < 0.15
