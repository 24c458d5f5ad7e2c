"""Model 2's mechanisms, each tested for the behaviour it promises with every other random
input held fixed (common random numbers): domestic players and their veto, the value of
waiting, option attributes, and decisions without a fixed moment."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.ensemble import VectorEngine
from sim.model.kernel import layout as L

MEMBERS = 3000
SEED = 11


def _run(scenario, constants, fixed: dict[str, float] | None = None, members: int = MEMBERS):
    engine = VectorEngine(scenario, constants)
    inputs = engine.inputs(SEED, range(members))
    if fixed:
        inputs = engine.at_point(inputs, list(fixed), np.array(list(fixed.values())))
    return engine, engine.run(inputs)


def _share(engine, out, decision: str, option: str) -> float:
    i = [d.id for d in engine.decisions].index(decision)
    k = engine.option_ids[i].index(option)
    return float(np.mean((out.status[:, i] == L.RESOLVED) & (out.option_index[:, i] == k)))


def _hours_before(engine, out, decision: str, option: str) -> np.ndarray:
    i = [d.id for d in engine.decisions].index(decision)
    k = engine.option_ids[i].index(option)
    chosen = (out.status[:, i] == L.RESOLVED) & (out.option_index[:, i] == k)
    return engine.deadline_h[i] - out.decided_h[chosen, i]


def _without_effect(scenario, event_id: str, target: str):
    events = []
    for event in scenario.events:
        if event.id == event_id:
            event = event.model_copy(update={"effects": [e for e in event.effects
                                                         if e.target != target]})
        events.append(event)
    return scenario.model_copy(update={"events": events})


def _with_actor(scenario, actor_id: str, **update):
    actors = dict(scenario.actors)
    actors[actor_id] = actors[actor_id].model_copy(update=update)
    return scenario.model_copy(update={"actors": actors})


def _with_options(scenario, decision_id: str, **update):
    decisions = []
    for d in scenario.decisions:
        if d.id == decision_id:
            options = [o if o.id == d.default else o.model_copy(update=update) for o in d.options]
            d = d.model_copy(update={"options": options})
        decisions.append(d)
    return scenario.model_copy(update={"decisions": decisions})


# -- M1: domestic players -----------------------------------------------------------------------


def test_a_ruling_party_demand_raises_p_postpone(scenario_2012, constants):
    """2012 with and without the ruling party's demand (its `pressing` set to 1 at 14:30),
    everything else equal."""
    silent = _without_effect(scenario_2012, "ruling_party_request", "saenuri.pressing")
    engine, with_demand = _run(scenario_2012, constants)
    _, without = _run(silent, constants)
    p_with = _share(engine, with_demand, "signing", "postpone")
    p_without = _share(engine, without, "signing", "postpone")
    assert p_with > p_without + 0.02, (p_with, p_without)


def test_more_leverage_never_lowers_p_postpone(scenario_2012, constants):
    shares = [_share(*_run(scenario_2012, constants, {"saenuri.leverage": level}),
                     "signing", "postpone") for level in (0.0, 0.5, 1.0)]
    assert shares[0] <= shares[1] <= shares[2] and shares[2] > shares[0], shares


def test_an_opposition_that_cannot_block_does_not_stop_a_signing(scenario_2016, constants):
    """With no veto, even a fully opposed, fully pressing opposition only adds cost; with a
    veto, the same opposition stops every signing."""
    loud = {"opposition_parties.opposition": 1.0}
    engine, no_veto = _run(scenario_2016, constants, loud)
    vetoing = _with_actor(scenario_2016, "opposition_parties", veto=True)
    _, veto = _run(vetoing, constants, loud)
    assert _share(engine, no_veto, "signing", "sign") > 0.5
    assert _share(engine, veto, "signing", "sign") == 0.0


def test_a_party_follows_the_public_as_its_election_nears(scenario_2012, constants):
    """Without its December election, the ruling party's stance stays its own, below the
    public's: fewer postponements."""
    engine, with_election = _run(scenario_2012, constants)
    _, without = _run(scenario_2012.model_copy(update={"elections": []}), constants)
    assert (_share(engine, with_election, "signing", "postpone")
            > _share(engine, without, "signing", "postpone"))


# -- M2: the leader's own motive ----------------------------------------------------------------


def test_the_leaders_own_preference_moves_the_choice(scenario_2016, constants):
    shares = [_share(*_run(scenario_2016, constants, {"south_korea.leader_preference": v}),
                     "signing", "sign") for v in (-1.0, 0.0, 1.0)]
    assert shares[0] < shares[1] < shares[2], shares


# -- M3 and M4: option attributes and the value of waiting --------------------------------------


def test_the_waiting_rule_moves_decisions_toward_the_deadline(scenario_2019, constants):
    """A leader who wants the pact kept would withdraw the notice; while Tokyo may still offer
    talks, an irreversible withdrawal forfeits the better, conditional step, so the decider
    waits. Making the withdrawal reversible removes that forfeit: the decisions come earlier."""
    keen = {"south_korea.leader_preference": 1.0}
    (november,) = [d.model_copy(update={"after": None}) for d in scenario_2019.decisions
                   if d.id == "termination_takes_effect"]
    alone = scenario_2019.model_copy(update={"decisions": [november]})
    engine, waiting = _run(alone, constants, keen)
    reversible = _with_options(alone, "termination_takes_effect", reversible=1.0,
                               source="kbs_2019", quote="x", note="test")
    _, eager = _run(reversible, constants, keen)
    i = 0
    acted = lambda out: engine.deadline_h[i] - out.decided_h[  # noqa: E731
        (out.status[:, i] == L.RESOLVED) & ~out.by_default[:, i], i]
    assert len(acted(waiting)) > 100 and len(acted(eager)) > 100
    assert np.median(acted(waiting)) < np.median(acted(eager)), (
        np.median(acted(waiting)), np.median(acted(eager)))


def test_an_earlier_concession_moves_the_decision_earlier(scenario_2019, constants):
    """Japan's talks forced by an event on 10 November instead of 20 November: the
    conditional suspension comes earlier."""
    from sim.model.scenario import Event, Effect

    def conceding(day: int):
        moment = scenario_2019.clock.start.replace(month=11, day=day, hour=12)
        event = Event(id="talks_offered", time=moment, description="talks", source="record",
                      quote="x", effects=[Effect(target="japan.concession", op="set", value=1.0,
                                                 note="test")])
        return scenario_2019.model_copy(update={"events": [*scenario_2019.events, event]})

    engine, early = _run(conceding(10), constants)
    _, late = _run(conceding(20), constants)
    h_early = _hours_before(engine, early, "termination_takes_effect", "suspend_conditionally")
    h_late = _hours_before(engine, late, "termination_takes_effect", "suspend_conditionally")
    assert len(h_early) > 100 and len(h_late) > 100
    assert np.median(h_early) > np.median(h_late), (np.median(h_early), np.median(h_late))


def test_a_lower_home_signal_makes_the_middle_option_win_more(scenario_2019, constants):
    engine, as_sourced = _run(scenario_2019, constants)
    plain = _with_options(scenario_2019, "termination_takes_effect", home_signal=None,
                          reversible=0.0)
    _, linear = _run(plain, constants)
    assert (_share(engine, as_sourced, "termination_takes_effect", "suspend_conditionally")
            > _share(engine, linear, "termination_takes_effect", "suspend_conditionally"))


# -- M5: decisions without a fixed moment -------------------------------------------------------


def test_even_attention_spreads_decisions_over_the_window(scenario_2016, constants):
    deadline = [d.model_copy(update={"attention": "deadline"}) for d in scenario_2016.decisions]
    engine, even = _run(scenario_2016, constants)
    _, bunched = _run(scenario_2016.model_copy(update={"decisions": deadline}), constants)
    h_even = _hours_before(engine, even, "signing", "sign")
    h_bunched = _hours_before(engine, bunched, "signing", "sign")
    assert np.median(h_even) > np.median(h_bunched), (np.median(h_even), np.median(h_bunched))


# -- the format ---------------------------------------------------------------------------------


def test_an_old_format_file_says_what_to_change(tmp_path):
    from sim.model.scenario import ScenarioError, load_scenario

    path = tmp_path / "old.yaml"
    path.write_text("# an old file\nformat: diplosim/1\nid: old\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path, verify_quotes=False)
    text = str(error.value)
    assert "old.yaml:2" in text and "diplosim/2" in text
    assert "public_accountability" in text and "leader_preference" in text


def test_a_domestic_players_stance_is_not_an_event_target(scenario_2012):
    from sim.model.scenario import ScenarioError, load_scenario_text
    import yaml
    from tests.conftest import SCENARIO_2012

    data = yaml.safe_load(SCENARIO_2012.read_text(encoding="utf-8"))
    data["events"][0]["effects"][0]["target"] = "saenuri.stance"
    with pytest.raises(ScenarioError, match="stance is derived each step"):
        load_scenario_text(yaml.safe_dump(data), "x.yaml", verify_quotes=False)


# -- M6 and M7 (round 2) ------------------------------------------------------------------------


def test_a_reversible_option_is_worth_more_when_the_choice_is_close(scenario_2012, constants):
    """The postponement keeps the choice open (reversible 1): taking that away lowers
    P(postpone), everything else equal."""
    engine, reversible = _run(scenario_2012, constants)
    fixed = _with_options(scenario_2012, "signing", reversible=0.0)
    _, irreversible = _run(fixed, constants)
    assert (_share(engine, reversible, "signing", "postpone")
            > _share(engine, irreversible, "signing", "postpone"))


def test_an_event_can_change_a_parameter(scenario_2019, constants):
    """A new government in the patron's capital: base pressure set to 0 from 1 August lowers
    the pact's survival."""
    from sim.model.scenario import Effect, Event

    moment = scenario_2019.clock.start.replace(month=8, day=1)
    event = Event(id="new_patron_government", time=moment, description="a new government",
                  source="record", quote="x",
                  effects=[Effect(target="united_states.base_pressure", op="set", value=0.0,
                                  note="test")])
    quiet = scenario_2019.model_copy(update={"events": [*scenario_2019.events, event]})
    engine, as_is = _run(scenario_2019, constants)
    _, changed = _run(quiet, constants)
    assert (_share(engine, changed, "termination_notice", "renew")
            < _share(engine, as_is, "termination_notice", "renew"))


# -- imposed decisions and scoring along the recorded path ---------------------------------------


def test_forced_path_reaches_the_later_decision_in_every_run(scenario_2019, constants):
    from sim.experiments.validate import forced_paths

    ((decision_id, forced),) = forced_paths(scenario_2019)
    assert decision_id == "termination_takes_effect"
    engine, out = _run(forced.without_record(), constants, members=500)
    notice = [d.id for d in engine.decisions].index("termination_notice")
    recorded = scenario_2019.recorded_outcome["termination_notice"]
    expected_h = engine.clock.hours(recorded.time)
    assert (out.status[:, notice] == L.RESOLVED).all()
    assert (out.option_index[:, notice] == engine.option_ids[notice].index("terminate")).all()
    assert np.allclose(out.decided_h[:, notice], expected_h)
    assert (out.status[:, 1] == L.RESOLVED).all()  # reached, then resolved, in every run


def test_validate_scores_the_later_decision_twice(tmp_path):
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "sim.cli", "validate", "gsomia_2019",
                             "--runs", "200", "--json"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    paths = [(r["decision"], r["path"]) for r in rows]
    assert paths == [("termination_notice", "reached"), ("termination_takes_effect", "reached"),
                     ("termination_takes_effect", "forced")]
    assert rows[2]["p_reached"] == 1.0


# -- one actor in two roles -----------------------------------------------------------------


def _treaty_partner_as_patron():
    """2019 with Japan holding the patron's role too (the United States left out): the shape
    of an alliance crisis with the patron itself across the table."""
    import copy

    import yaml
    from tests.conftest import SCENARIO_2019

    data = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))
    patron = data["actors"].pop("united_states")
    data["actors"]["japan"]["also"] = [{"role": "patron",
                                        "parameters": copy.deepcopy(patron["parameters"])}]
    for event in data["events"]:
        for effect in event["effects"]:
            effect["target"] = effect["target"].replace("united_states.", "japan.")
    return data


def test_one_actor_can_hold_two_roles_in_both_engines(constants):
    import yaml
    from sim.model.scenario import load_scenario_text
    from tests.test_engines import _compare

    text = yaml.safe_dump(_treaty_partner_as_patron(), sort_keys=False, allow_unicode=True)
    scenario = load_scenario_text(text, "two_roles.yaml", verify_quotes=False).scenario
    assert scenario.actor_by_role("patron") == scenario.actor_by_role("counterpart") == "japan"
    _compare(scenario, constants, seed=3, members=60)
    engine, out = _run(scenario, constants, members=300)
    assert 0.0 < _share(engine, out, "termination_notice", "terminate") < 1.0


def test_two_roles_that_share_a_name_are_refused():
    import yaml
    from sim.model.scenario import ScenarioError, load_scenario_text

    data = _treaty_partner_as_patron()
    rival = data["actors"].pop("china")
    data["actors"]["japan"]["also"].append({"role": "rival", "parameters": rival["parameters"]})
    with pytest.raises(ScenarioError, match="belongs to both the patron and the rival role"):
        load_scenario_text(yaml.safe_dump(data), "x.yaml", verify_quotes=False)


# -- M8: moves on both sides ------------------------------------------------------------------


def test_coercion_answered_elsewhere_costs_the_pact_less(scenario_2019, constants):
    """Without the WTO complaint the controls weigh fully on keeping the pact in November."""
    without = scenario_2019.model_copy(update={"events": [
        e for e in scenario_2019.events if e.id != "wto_complaint_filed"]})
    engine, with_complaint = _run(scenario_2019, constants)
    _, no_complaint = _run(without, constants)
    assert (_share(engine, with_complaint, "termination_takes_effect", "let_expire")
            < _share(engine, no_complaint, "termination_takes_effect", "let_expire"))


def test_an_options_effects_apply_when_it_is_taken(scenario_2019, constants):
    """The suspension also suspends the WTO complaint: after it, coercion_answered is 0 (where
    the suspension came after the complaint was filed); in runs that let the pact lapse it
    keeps the complaint's value."""
    engine = VectorEngine(scenario_2019, constants)
    inputs = engine.inputs(SEED, range(400))
    out = engine.run(inputs, record=True)
    answered = out.trajectories["south_korea.coercion_answered"][:, -1]
    i = 1
    suspended = (out.status[:, i] == L.RESOLVED) & (
        out.option_index[:, i] == engine.option_ids[i].index("suspend_conditionally"))
    lapsed = (out.status[:, i] == L.RESOLVED) & (
        out.option_index[:, i] == engine.option_ids[i].index("let_expire"))
    filed = engine.clock.hours(next(e.time for e in scenario_2019.events
                                    if e.id == "wto_complaint_filed"))
    suspended &= out.decided_h[:, i] >= filed  # a suspension before the complaint is filed
    assert suspended.sum() > 20 and lapsed.sum() > 20
    assert np.all(answered[suspended] == 0.0)
    assert np.all(answered[lapsed] > 0.0)


# -- bad input in the new keys: one located error each ------------------------------------------


def _bad(mutate):
    import yaml
    from tests.conftest import SCENARIO_2019

    data = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))
    mutate(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _set(path, value):
    def mutate(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


BAD_NEW_KEYS = [
    (_set(["decisions", 1, "options", 1, "reversible"], 2.0),
     "decisions[1].options[1].reversible", "less than or equal to 1"),
    (_set(["decisions", 1, "options", 2, "home_signal"], 0.5),
     "decisions[1].options[2]", "needs `source`, `quote` and `note`"),
    (_set(["decisions", 0, "attention"], "sometimes"),
     "decisions[0].attention", "'deadline' or 'even'"),
    (_set(["decisions", 0, "imposed"], {"option": "maybe", "time": "2019-08-01T00:00:00+09:00"}),
     "decisions[0].imposed.option", "unknown option 'maybe'"),
    (_set(["decisions", 0, "imposed"], {"option": "renew", "time": "2019-12-01T00:00:00+09:00"}),
     "decisions[0]", "imposed.time must lie within the decision's window"),
    (_set(["decisions", 1, "options", 1, "effects"],
          [{"target": "nobody.salience", "op": "add", "value": 0.1, "note": "x"}]),
     "decisions[1].options[1].effects[0].target", "unknown actor 'nobody'"),
    (_set(["actors", "japan", "also"], [{"role": "decider", "parameters": {}}]),
     "actors.japan.also[0]", "does not match any of the expected tags"),
    (_set(["actors", "japan", "also"], [{"role": "patron", "parameters": {}}]),
     "actors.japan.also[0].parameters", "missing required key"),
    (_set(["actors", "party"], {"name": "P", "role": "domestic", "veto": "perhaps",
                                 "parameters": {n: {"value": 0.5, "source": "record",
                                                    "quote": "x", "note": "x"}
                                                for n in ("opposition", "leverage",
                                                          "initial_pressing")}}),
     "actors.party.veto", "valid boolean"),
    (_set(["elections"], [{"actor": "china", "date": "2019-10-01", "description": "x",
                           "source": "record", "quote": "x"}]),
     "elections[0].actor", "its election changes nothing without a `turnover`"),
]


@pytest.mark.parametrize("mutate, where, message", BAD_NEW_KEYS)
def test_bad_new_keys_give_one_located_error(mutate, where, message, tmp_path):
    import re
    from sim.model.scenario import ScenarioError, load_scenario

    path = tmp_path / "bad.yaml"
    path.write_text(_bad(mutate), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, verify_quotes=False)
    text = str(caught.value)
    assert re.match(rf"{re.escape(str(path))}:\d+: ", text), text
    assert where in text and message in text, text


# -- M9: the counterpart's elections ----------------------------------------------------------


def _with_counterpart_election(hawkish: float, day: str = "2019-11-25"):
    import yaml
    from sim.model.scenario import load_scenario_text
    from tests.conftest import SCENARIO_2019

    data = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))
    data.setdefault("elections", []).append({
        "actor": "japan", "date": day, "description": "a Japanese election (fictional)",
        "source": "record", "quote": "x",
        "voters_hard_line": {"value": hawkish, "source": "record", "quote": "x", "note": "test"}})
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return load_scenario_text(text, "variant.yaml", verify_quotes=False).scenario


def test_a_counterpart_facing_hawkish_voters_concedes_less(scenario_2019, constants):
    """With a Japanese election just after the deadline, the share of runs in which Tokyo
    concedes (talks or lifting) falls with its voters' hard line."""
    def conceded(scenario) -> float:
        engine = VectorEngine(scenario, constants)
        out = engine.run(engine.inputs(SEED, range(1500)), record=True)
        return float(np.mean(out.trajectories["japan.concession"][:, -1] > 0))

    shares = [conceded(s) for s in (_with_counterpart_election(1.0), scenario_2019,
                                    _with_counterpart_election(0.0))]
    assert shares[0] < shares[1] < shares[2], shares


def test_counterpart_elections_in_both_engines(constants):
    from tests.test_engines import _compare

    _compare(_with_counterpart_election(0.9), constants, seed=5, members=60)


@pytest.mark.parametrize("actor, voters, message", [
    ("japan", None, "its election needs `voters_hard_line`"),
    ("south_korea", 0.5, "only a counterpart's election has `voters_hard_line`"),
    ("united_states", None, "its election changes nothing without a .turnover."),
])
def test_election_voters_are_checked(actor, voters, message):
    import yaml
    from sim.model.scenario import ScenarioError, load_scenario_text
    from tests.conftest import SCENARIO_2019

    data = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))
    election = {"actor": actor, "date": "2019-10-01", "description": "x", "source": "record",
                "quote": "x"}
    if voters is not None:
        election["voters_hard_line"] = {"value": voters, "source": "record", "quote": "x",
                                        "note": "x"}
    data["elections"] = [election]
    with pytest.raises(ScenarioError, match=message.replace("`", ".").replace("(", ".")):
        load_scenario_text(yaml.safe_dump(data), "x.yaml", verify_quotes=False)
