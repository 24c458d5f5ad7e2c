"""A ``diplosim/3`` scenario as the arrays the compiled rules read, and its drawn quantities.

Built once per scenario in plain Python; nothing here is random and nothing reads the
recorded outcome. Hours count from ``clock.start``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.formats.common import as_aware
from sim.model.constants import Constants
from sim.model.scenario import FIELDS, RULES, Scenario

POSITION, SALIENCE, CLOUT = range(3)



class DrawnQuantity(NamedTuple):
    """A sourced number that varies between runs: its key and its [lo, hi]."""

    key: str
    lo: float
    hi: float

def drawn_quantities(scenario: Scenario) -> list[DrawnQuantity]:
    """Every sourced number that varies between runs, in file order: each decision's stakes
    (position, salience, clout), then each event's effect magnitudes, then each option's."""
    out = []
    for d in scenario.decisions:
        for actor, stake in d.stakes.items():
            for name in FIELDS:
                param = getattr(stake, name)
                if param is not None:
                    out.append(DrawnQuantity(f"{d.id}.{actor}.{name}", *param.bounds))
    for e in scenario.events:
        for n, effect in enumerate(e.effects):
            out.append(DrawnQuantity(f"event.{e.id}.{n}", *effect.bounds))
    for d in scenario.decisions:
        for o in d.options:
            for n, effect in enumerate(o.effects):
                out.append(DrawnQuantity(f"option.{d.id}.{o.id}.{n}", *effect.bounds))
    return out


class Plan(NamedTuple):
    end_h: float
    opens_h: np.ndarray  # (D,)
    deadline_h: np.ndarray  # (D,)
    default: np.ndarray  # (D,) option index
    standing: np.ndarray  # (D,)
    n_options: np.ndarray  # (D,)
    position: np.ndarray  # (D, K) options' positions
    requires_decision: np.ndarray  # (D, K) -1 for none
    requires_option: np.ndarray  # (D, K)
    after_decision: np.ndarray  # (D,) -1 for none
    after_option: np.ndarray  # (D,)
    runs_for: np.ndarray  # (D,) hours, 0 for a fixed window
    imposed_option: np.ndarray  # (D,) -1 for none
    imposed_h: np.ndarray  # (D,)
    temperature: np.ndarray  # (D,) of whoever decides it
    is_body: np.ndarray  # (D,) bool
    quota: np.ndarray  # (D,) share of all seats a motion needs
    stake_first: np.ndarray  # (D + 1,) decision i's stakes are [first[i], first[i + 1])
    stake_column: np.ndarray  # (S, 3) columns of values; -1: clout 1 (the deciding actor)
    stake_actor: np.ndarray  # (S,)
    stake_consent: np.ndarray  # (S,) bool
    stake_seats: np.ndarray  # (S,) 0 for a non-member
    stake_free: np.ndarray  # (S,) bool: a free vote
    election_first: np.ndarray  # (A + 1,)
    election_h: np.ndarray  # (elections,) sorted per actor
    event_h: np.ndarray  # (E,) NaN for an event that follows a choice
    event_if_decision: np.ndarray  # (E,) -1 for a dated event
    event_if_option: np.ndarray  # (E,)
    event_after_h: np.ndarray  # (E,)
    event_addresses: np.ndarray  # (E, D) bool
    event_effect_first: np.ndarray  # (E + 1,)
    option_effect_first: np.ndarray  # (D, K + 1)
    effect_target_first: np.ndarray  # (F + 1,) effect f touches targets [first[f], first[f+1])
    effect_target_stake: np.ndarray  # (G,)
    effect_field: np.ndarray  # (F,)
    effect_adds: np.ndarray  # (F,) bool
    effect_column: np.ndarray  # (F,) column of values holding the magnitude


def hours(scenario: Scenario, moment) -> float:
    return (as_aware(moment) - as_aware(scenario.clock.start)).total_seconds() / 3600.0


def build_plan(scenario: Scenario, constants: Constants) -> Plan:
    """The scenario as the compiled rules read it: one group of arrays per part of the file."""
    scenario = scenario.without_record()
    column = {q.key: i for i, q in enumerate(drawn_quantities(scenario))}
    index = {d.id: i for i, d in enumerate(scenario.decisions)}
    return Plan(end_h=hours(scenario, scenario.clock.end),
                **_decision_arrays(scenario, constants, index),
                **_stake_arrays(scenario, column),
                **_election_arrays(scenario),
                **_event_arrays(scenario, index),
                **_effect_arrays(scenario, column))


def _option_index(decision, option_id: str) -> int:
    return [o.id for o in decision.options].index(option_id)


def _decision_arrays(scenario: Scenario, constants: Constants, index: dict) -> dict:
    """Each decision's window, default, standing option, options' positions and requirements,
    what it follows, an imposed choice, and who decides it (noise, body, quota)."""
    decisions = scenario.decisions
    shape = (len(decisions), max(len(d.options) for d in decisions))
    position = np.zeros(shape)
    requires = np.full(shape, -1, dtype=np.int64), np.full(shape, -1, dtype=np.int64)
    for i, d in enumerate(decisions):
        for k, o in enumerate(d.options):
            position[i, k] = o.position
            if o.requires is not None:
                j = index[o.requires.decision]
                requires[0][i, k] = j
                requires[1][i, k] = _option_index(decisions[j], o.requires.option)
    after = [(index[d.after.decision], _option_index(decisions[index[d.after.decision]],
                                                     d.after.option)) if d.after else (-1, -1)
             for d in decisions]
    return dict(
        opens_h=np.array([hours(scenario, d.opens) for d in decisions]),
        deadline_h=np.array([hours(scenario, d.deadline) for d in decisions]),
        default=np.array([_option_index(d, d.default) for d in decisions], dtype=np.int64),
        standing=np.array([_option_index(d, d.standing_option) for d in decisions],
                          dtype=np.int64),
        n_options=np.array([len(d.options) for d in decisions], dtype=np.int64),
        position=position, requires_decision=requires[0], requires_option=requires[1],
        after_decision=np.array([a[0] for a in after], dtype=np.int64),
        after_option=np.array([a[1] for a in after], dtype=np.int64),
        runs_for=np.array([d.runs_for or 0.0 for d in decisions]),
        imposed_option=np.array([_option_index(d, d.imposed.option) if d.imposed else -1
                                 for d in decisions], dtype=np.int64),
        imposed_h=np.array([hours(scenario, d.imposed.time) if d.imposed else np.inf
                            for d in decisions]),
        temperature=np.array([_temperature(scenario, d, constants) for d in decisions]),
        is_body=np.array([d.body is not None for d in decisions], dtype=np.bool_),
        quota=np.array([RULES[d.body.rule] if d.body else 0.5 for d in decisions]))


def _stake_arrays(scenario: Scenario, column: dict) -> dict:
    """Every decision's stakes in file order: their value columns, actor, consent, seats."""
    actors = list(scenario.actors)
    stakes: list[tuple] = []
    stake_first = [0]
    for d in scenario.decisions:
        seats = {m.actor: m for m in d.body.members} if d.body else {}
        for actor, stake in d.stakes.items():
            member = seats.get(actor)
            stakes.append(([column.get(f"{d.id}.{actor}.{n}", -1) for n in FIELDS],
                           actors.index(actor), stake.consent, member.seats if member else 0,
                           bool(member and member.discipline == "free")))
        stake_first.append(len(stakes))
    return dict(
        stake_first=np.array(stake_first, dtype=np.int64),
        stake_column=np.array([s[0] for s in stakes], dtype=np.int64).reshape(-1, 3),
        stake_actor=np.array([s[1] for s in stakes], dtype=np.int64),
        stake_consent=np.array([s[2] for s in stakes], dtype=np.bool_),
        stake_seats=np.array([s[3] for s in stakes], dtype=np.int64),
        stake_free=np.array([s[4] for s in stakes], dtype=np.bool_))


def _election_arrays(scenario: Scenario) -> dict:
    election_first, election_h = [0], []
    for actor in scenario.actors:
        election_h += sorted(hours(scenario, e.date) for e in scenario.elections if e.actor == actor)
        election_first.append(len(election_h))
    return dict(election_first=np.array(election_first, dtype=np.int64),
                election_h=np.array(election_h, dtype=float))


def _event_arrays(scenario: Scenario, index: dict) -> dict:
    """Each event's time (or the choice it follows, and how long after), and what it addresses."""
    events, decisions = scenario.events, scenario.decisions
    addresses = np.zeros((len(events), len(decisions)), dtype=np.bool_)
    for k, e in enumerate(events):
        for d_id in e.addresses:
            addresses[k, index[d_id]] = True
    return dict(
        event_h=np.array([hours(scenario, e.time) if e.time else np.nan for e in events],
                         dtype=float),
        event_if_decision=np.array([index[e.if_.decision] if e.if_ else -1 for e in events],
                                   dtype=np.int64),
        event_if_option=np.array([_option_index(decisions[index[e.if_.decision]], e.if_.option)
                                  if e.if_ else -1 for e in events], dtype=np.int64),
        event_after_h=np.array([e.after_hours or 0.0 for e in events], dtype=float),
        event_addresses=addresses)


def _effect_arrays(scenario: Scenario, column: dict) -> dict:
    """Every effect (events' first, then options'), the stakes it touches, its field, whether
    it adds or sets, and the column holding its magnitude."""
    decisions = scenario.decisions
    keys = _stake_keys(decisions)
    rows, targets, target_first = [], [], [0]

    def add(key_prefix: str, effects) -> None:
        for n, effect in enumerate(effects):
            parts = effect.target.split(".")
            targets.extend(s for s, (d_id, actor) in enumerate(keys)
                           if (len(parts) == 3 and parts[:2] == [d_id, actor])
                           or (len(parts) == 2 and parts[0] == actor))
            target_first.append(len(targets))
            rows.append((FIELDS.index(parts[-1]), effect.op == "add", column[f"{key_prefix}.{n}"]))

    event_first = [0]
    for e in scenario.events:
        add(f"event.{e.id}", e.effects)
        event_first.append(len(rows))
    width = max(len(d.options) for d in decisions)
    option_first = np.zeros((len(decisions), width + 1), dtype=np.int64)
    for i, d in enumerate(decisions):
        option_first[i, 0] = len(rows)
        for k, o in enumerate(d.options):
            add(f"option.{d.id}.{o.id}", o.effects)
            option_first[i, k + 1] = len(rows)
        option_first[i, len(d.options) + 1:] = len(rows)
    table = np.array(rows, dtype=float).reshape(-1, 3)
    return dict(event_effect_first=np.array(event_first, dtype=np.int64),
                option_effect_first=option_first,
                effect_target_first=np.array(target_first, dtype=np.int64),
                effect_target_stake=np.array(targets, dtype=np.int64),
                effect_field=table[:, 0].astype(np.int64), effect_adds=table[:, 1].astype(np.bool_),
                effect_column=table[:, 2].astype(np.int64))


def _stake_keys(decisions) -> list[tuple[str, str]]:
    return [(d.id, actor) for d in decisions for actor in d.stakes]


def _temperature(scenario: Scenario, d, constants: Constants) -> float:
    """The noise of whoever decides: the government under study, another actor, a body."""
    if d.body is not None:
        return constants.temperature_member
    if scenario.actors[d.decider].role == "decider":
        return constants.temperature_decider
    return constants.temperature_counterpart
