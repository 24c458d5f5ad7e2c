"""A scenario as the arrays the step rules read: clock, casting, events, decisions.

Built once per scenario (and set of constants) in plain Python; the compiled rules then read
only arrays and numbers. Nothing here is random and nothing depends on the recorded outcome.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from sim.model.kernel.jit import Record, structref

from sim.model.clock import build_clock
from sim.model.constants import Constants
from sim.model.draws import (drawn_quantities, effect_key, option_effect_key, turnover_key,
                              voters_key)
from sim.model.kernel import layout as L
from sim.model.kernel import rules
from sim.model.roles import ROLE_NAMES, ROLES, SINGLE_ROLES
from sim.model.scenario import Scenario


class Plan(NamedTuple):
    """Everything a member's run reads that is the same for every member (NumPy arrays; the
    compiled rules receive them as one :class:`CompiledPlan`, see :func:`compiled`)."""

    step_starts: np.ndarray  # (S,) hours since the clock's start
    step_lengths: np.ndarray  # (S,)
    end_h: float
    election_proximity: np.ndarray  # (S,) the decider's, at each step start
    keep_opinion: np.ndarray  # (S,) share of the gap to its target opinion keeps over a step
    keep_pressure: np.ndarray  # (S,) ... pressures keep
    keep_threat: np.ndarray  # (S,) ... perceived threat keeps
    attention: np.ndarray  # (S, D) chance of reconsidering decision i during step k
    has_role: np.ndarray  # (roles,) bool: is the role cast?
    parameter_column: np.ndarray  # (N_PARAMETERS,) column of ``values``, -1 if not cast
    fired_by_step: np.ndarray  # (S,) effects applied up to and including each step
    effect_slot: np.ndarray  # (E,) state slot an effect changes, -1 if its actor is not cast
    effect_adds: np.ndarray  # (E,) bool: add (else set)
    effect_column: np.ndarray  # (E,) column of ``values`` holding the magnitude
    effect_parameter: np.ndarray  # (E,) column of ``values`` the effect changes, -1 for state
    effect_lo: np.ndarray  # (E,) bounds of that parameter
    effect_hi: np.ndarray  # (E,)
    effect_gate: np.ndarray  # (E,) column of the uniform deciding a turnover's effect, -1 none
    effect_chance: np.ndarray  # (E,) column of that turnover's chance, -1 for none
    option_effects: np.ndarray  # (D, K + 1): option j of decision i owns effects [i, j] .. [i, j+1]
    opens_h: np.ndarray  # (D,)
    deadline_h: np.ndarray  # (D,)
    default_option: np.ndarray  # (D,)
    n_options: np.ndarray  # (D,)
    after_decision: np.ndarray  # (D,) -1 if the decision does not wait for an earlier one
    after_option: np.ndarray  # (D,)
    cooperation: np.ndarray  # (D, K), 0 beyond a decision's options
    conditional: np.ndarray  # (D, K) bool: option waits for someone's concession
    conditional_on_counterpart: np.ndarray  # (D, K) bool: ... for the counterpart's
    awaits_counterpart: np.ndarray  # (D,) bool
    home_signal: np.ndarray  # (D, K) how far each option reads at home as giving in
    reversible: np.ndarray  # (D, K) how easily each option can be undone, 0..1
    more_cooperative: np.ndarray  # (D, K) bool: cooperation above the default's (a veto's reach)
    no_later_look: np.ndarray  # (S, D) chance of no look at decision i after step k
    imposed_option: np.ndarray  # (D,) option the scenario imposes, -1 for none
    imposed_h: np.ndarray  # (D,) when
    # windows counted from the earlier decision (docs/model.md, M12; sim.model.kernel.windows)
    relative_window: np.ndarray  # (D,) bool: the window is set in each run when it opens
    runs_for_h: np.ndarray  # (D,) hours it runs from the earlier decision, 0 for none
    resumes_decision: np.ndarray  # (D,) decision whose remaining window it adds, -1 for none
    even_attention: np.ndarray  # (D,) bool: the even attention schedule
    player_column: np.ndarray  # (P, 3) columns of ``values``: opposition, leverage, initial_pressing
    player_veto: np.ndarray  # (P,) bool
    player_election: np.ndarray  # (S, P) each domestic player's election proximity
    counterpart_election: np.ndarray  # (S,) the counterpart's election proximity
    counterpart_voters: np.ndarray  # (S,) column of its next election's voters' hard line, -1
    n_players: int
    n_state: int
    n_channels: int


@structref.register
class CompiledPlanType(Record):
    pass


class CompiledPlan(structref.StructRefProxy):
    """A :class:`Plan` as one compiled record: the rules pass it by a single reference."""


structref.define_proxy(CompiledPlan, CompiledPlanType, list(Plan._fields))


def compiled(plan: Plan) -> CompiledPlan:
    """The record the compiled rules read; it shares the plan's arrays (no copy)."""
    return CompiledPlan(*plan)


# The behavioural constants as the compiled rules take them: a tuple of floats with the fields
# of :class:`~sim.model.constants.Constants`, in the same order.
KernelConstants = NamedTuple(  # type: ignore[misc]
    "KernelConstants", [(f.name, float) for f in dataclasses.fields(Constants)]
)


def kernel_constants(constants: Constants) -> KernelConstants:
    return KernelConstants(**{k: float(v) for k, v in dataclasses.asdict(constants).items()})


def build_plan(scenario: Scenario, constants: Constants) -> Plan:
    """The arrays of ``scenario`` (its recorded outcome is not read)."""
    scenario = scenario.without_record()
    clock = build_clock(scenario)
    column = {q.key: i for i, q in enumerate(drawn_quantities(scenario))}
    cast = {role: scenario.actor_by_role(role) for role in SINGLE_ROLES}
    players = scenario.actors_in_role("domestic")
    starts = clock.step_starts.astype(float)
    lengths = clock.step_lengths.astype(float)

    parameter_column = np.full(L.N_PARAMETERS, -1, dtype=np.int64)
    for (role, name), slot in L.PARAMETER_SLOTS.items():
        if cast[role] is not None:  # an optional parameter left out: -1, its mechanism is off
            parameter_column[slot] = column.get(f"{cast[role]}.{name}", -1)
    fired, slots, adds, columns, targets, lo, hi, gates, chances, option_effects = _effects(
        scenario, clock, cast, players, column, starts)
    decisions = _decision_arrays(scenario, clock, cast)
    attention = _attention(starts, lengths, decisions["opens_h"], decisions["deadline_h"],
                           decisions.pop("even"), constants)
    return Plan(
        step_starts=starts,
        step_lengths=lengths,
        end_h=float(clock.boundaries[-1]),
        election_proximity=_election_proximity(scenario, clock, cast["decider"], starts, constants),
        keep_opinion=_keep(lengths, constants.opinion_adjustment_days),
        keep_pressure=_keep(lengths, constants.pressure_adjustment_days),
        keep_threat=_keep(lengths, constants.threat_decay_days),
        attention=attention,
        has_role=np.array([cast[r] is not None if r in cast else bool(players)
                           for r in ROLE_NAMES], dtype=np.bool_),
        parameter_column=parameter_column,
        fired_by_step=fired,
        effect_slot=slots,
        effect_adds=adds,
        effect_column=columns,
        effect_parameter=targets,
        effect_lo=lo,
        effect_hi=hi,
        effect_gate=gates,
        effect_chance=chances,
        option_effects=option_effects,
        no_later_look=_no_later_look(attention),
        player_column=np.array([[column[f"{p}.{n}"] for n in L.PLAYER_PARAMETERS]
                                for p in players], dtype=np.int64).reshape(len(players), 3),
        player_veto=np.array([scenario.actors[p].veto for p in players], dtype=np.bool_),
        player_election=_election_table(scenario, clock, players, starts, constants),
        **_counterpart_elections(scenario, clock, cast["counterpart"], column, starts,
                                 constants),
        n_players=len(players),
        n_state=L.N_STATE + L.N_PLAYER_STATE * len(players),
        n_channels=L.N_FIXED_CHANNELS + 2 * len(scenario.decisions),
        **decisions,
    )


def _decision_arrays(scenario: Scenario, clock, cast: dict[str, str | None]) -> dict[str, np.ndarray]:
    """Each decision's window, default, precondition and imposition, and its options'
    attributes, as (D,) and (D, K) arrays (K: the most options of any decision)."""
    decisions = scenario.decisions
    width = max(len(d.options) for d in decisions) if decisions else 1
    shape = (len(decisions), width)
    out = {name: np.zeros(shape) for name in ("cooperation", "home_signal", "reversible")}
    for name in ("conditional", "conditional_on_counterpart", "more_cooperative"):
        out[name] = np.zeros(shape, dtype=np.bool_)
    index = {d.id: i for i, d in enumerate(decisions)}
    after_decision = np.full(len(decisions), -1, dtype=np.int64)
    after_option = np.full(len(decisions), -1, dtype=np.int64)
    for i, d in enumerate(decisions):
        ids = [o.id for o in d.options]
        for k, option in enumerate(d.options):
            out["cooperation"][i, k] = option.cooperation
            out["conditional"][i, k] = option.conditional_on is not None
            out["conditional_on_counterpart"][i, k] = (
                option.conditional_on is not None and option.conditional_on == cast["counterpart"])
            out["home_signal"][i, k] = (option.home_signal if option.home_signal is not None
                                        else option.cooperation)
            out["reversible"][i, k] = option.reversible
        out["more_cooperative"][i, :len(ids)] = (out["cooperation"][i, :len(ids)]
                                                 > out["cooperation"][i, ids.index(d.default)])
        if d.after is not None:
            j = index[d.after.decision]
            after_decision[i] = j
            after_option[i] = [o.id for o in decisions[j].options].index(d.after.option)
    return dict(
        out,
        awaits_counterpart=out["conditional_on_counterpart"].any(axis=1),
        after_decision=after_decision,
        after_option=after_option,
        opens_h=np.array([clock.hours(d.opens) for d in decisions], dtype=float),
        deadline_h=np.array([clock.hours(d.deadline) for d in decisions], dtype=float),
        even=np.array([d.attention == "even" for d in decisions], dtype=np.bool_),
        even_attention=np.array([d.attention == "even" for d in decisions], dtype=np.bool_),
        relative_window=np.array([d.runs_for is not None or d.resumes is not None
                                  for d in decisions], dtype=np.bool_),
        runs_for_h=np.array([d.runs_for or 0.0 for d in decisions], dtype=float),
        resumes_decision=np.array([index[d.resumes] if d.resumes is not None else -1
                                   for d in decisions], dtype=np.int64),
        default_option=np.array([[o.id for o in d.options].index(d.default) for d in decisions],
                                dtype=np.int64),
        n_options=np.array([len(d.options) for d in decisions], dtype=np.int64),
        imposed_option=np.array([[o.id for o in d.options].index(d.imposed.option)
                                 if d.imposed is not None else -1 for d in decisions],
                                dtype=np.int64),
        imposed_h=np.array([clock.hours(d.imposed.time) if d.imposed is not None else np.inf
                            for d in decisions], dtype=float),
    )


def _effects(scenario: Scenario, clock, cast: dict[str, str | None], players: list[str],
             column: dict[str, int], starts: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every effect as arrays, and how many have fired by the end of each step: the dated
    ones first (events' and turnovers'), in firing order (one applies at the first step
    starting at or after its time; events are not clock boundaries; ties: events before
    turnovers, each in file order), then each option's, decision by decision
    (``option_effects`` says which are whose; they apply when the option is taken). A
    turnover's effects carry the columns of the draw and the chance that decide them."""
    dated = _dated_effects(scenario, clock, column)
    effects = [(int(np.searchsorted(starts, hours, side="left")), key, effect, gate)
               for hours, key, effect, gate in dated]
    width = max((len(d.options) for d in scenario.decisions), default=1)
    option_effects = np.zeros((len(scenario.decisions), width + 1), dtype=np.int64)
    for i, d in enumerate(scenario.decisions):
        option_effects[i, 0] = len(effects)
        for j, option in enumerate(d.options):
            effects += [(len(starts), option_effect_key(d.id, option.id, index), effect, (-1, -1))
                        for index, effect in enumerate(option.effects)]
            option_effects[i, j + 1] = len(effects)
        option_effects[i, len(d.options) + 1:] = len(effects)
    rows = [_effect_row(scenario, cast, players, column, key, effect)
            for _, key, effect, _ in effects]
    fire_step = np.array([step for step, _, _, _ in effects], dtype=np.int64)
    fired = np.array([int((fire_step <= k).sum()) for k in range(len(starts))], dtype=np.int64)
    slots, adds, columns, targets, lo, hi = (list(c) for c in zip(*rows)) if rows else ([],) * 6
    gates = np.array([gate for _, _, _, (gate, _) in effects], dtype=np.int64)
    chances = np.array([chance for _, _, _, (_, chance) in effects], dtype=np.int64)
    return (fired, np.array(slots, dtype=np.int64), np.array(adds, dtype=np.bool_),
            np.array(columns, dtype=np.int64), np.array(targets, dtype=np.int64),
            np.array(lo, dtype=float), np.array(hi, dtype=float), gates, chances,
            option_effects)


def _dated_effects(scenario: Scenario, clock, column: dict[str, int]) -> list[tuple]:
    """(hours, key, effect, (gate column, chance column)) of every event's and turnover's
    effect, in firing order."""
    dated = [(clock.hours(e.time), 0, i, [(effect_key(e.id, n), effect, (-1, -1))
                                         for n, effect in enumerate(e.effects)])
             for i, e in enumerate(scenario.events)]
    for i, election in enumerate(scenario.elections):
        turnover = election.turnover
        if turnover is None:
            continue
        gate = (column[turnover_key(i, "draw")], column[turnover_key(i, "chance")])
        when = turnover.takes_office if turnover.takes_office is not None else election.date
        dated.append((clock.hours(when), 1, i, [(turnover_key(i, str(n)), effect, gate)
                                                for n, effect in enumerate(turnover.effects)]))
    return [(hours, key, effect, gate) for hours, _, _, items in sorted(dated, key=lambda d: d[:3])
            for key, effect, gate in items]


def _effect_row(scenario: Scenario, cast: dict[str, str | None], players: list[str],
                column: dict[str, int], key: str, effect) -> tuple:
    """Where one effect lands: a state slot (-1 if its actor is not cast) or a parameter's
    column of ``values`` with that parameter's bounds (-1 for a state effect). A name that is
    both (salience) is the state variable."""
    actor, variable = effect.target.split(".")
    spec_actor = scenario.actors.get(actor)
    role = spec_actor.role_with_state(variable) if spec_actor is not None else None
    slot = -1
    if role is not None and cast.get(role) == actor:
        slot = L.STATE_SLOTS.get((role, variable), -1)
    if actor in players and variable in L.PLAYER_STATE:
        slot = L.player_state_slot(players.index(actor), variable)
    spec = None
    if spec_actor is not None and role is None and variable in spec_actor.all_parameters():
        spec = spec_actor.parameter_spec(variable)
    target = column[f"{actor}.{variable}"] if spec is not None else -1
    return (slot, effect.op == "add", column[key], target, spec.lo if spec else 0.0,
            spec.hi if spec else 1.0)


def _keep(lengths: np.ndarray, time_constant_days: float) -> np.ndarray:
    return np.array([rules.keep_factor(dt, time_constant_days) for dt in lengths.tolist()])


def _attention(starts: np.ndarray, lengths: np.ndarray, opens_h: np.ndarray,
               deadline_h: np.ndarray, even: np.ndarray, constants: Constants) -> np.ndarray:
    """Chance of reconsidering each decision during each step: it depends on the clock and
    the constants alone, so it is computed once per scenario. A decision with even attention
    has a constant hazard over its window (none after its deadline)."""
    rate, floor = constants.attention_rate, constants.attention_floor_hours
    table = np.zeros((len(starts), len(deadline_h)))
    for i, deadline in enumerate(deadline_h.tolist()):
        hazard = rules.even_attention_rate(deadline - opens_h[i], rate, floor)
        for k, (now, dt) in enumerate(zip(starts.tolist(), lengths.tolist())):
            if not even[i]:
                table[k, i] = rules.attention_probability(deadline - now, dt, rate, floor)
            elif now < deadline:
                table[k, i] = rules.even_attention_probability(min(dt, deadline - now), hazard)
    return table


def _no_later_look(attention: np.ndarray) -> np.ndarray:
    """(S, D): the chance of no look at each decision in the steps after step k."""
    out = np.ones_like(attention)
    for k in range(attention.shape[0] - 2, -1, -1):
        out[k] = out[k + 1] * (1.0 - attention[k + 1])
    return out


def _election_proximity(scenario: Scenario, clock, decider: str | None, starts: np.ndarray,
                        constants: Constants) -> np.ndarray:
    """The decider's election proximity at each step start (0 with no election ahead)."""
    return _election_table(scenario, clock, [decider], starts, constants)[:, 0]


def _counterpart_elections(scenario: Scenario, clock, counterpart: str | None,
                           column: dict[str, int], starts: np.ndarray,
                           constants: Constants) -> dict[str, np.ndarray]:
    """The counterpart's election proximity at each step start, and which election's voters
    it follows then (its next one; -1 with none ahead)."""
    proximity = _election_table(scenario, clock, [counterpart], starts, constants)[:, 0]
    voters = np.full(len(starts), -1, dtype=np.int64)
    ahead = [(clock.hours(e.date), column[voters_key(i)]) for i, e in enumerate(scenario.elections)
             if e.actor == counterpart and e.voters_hard_line is not None]
    for k, now in enumerate(starts.tolist()):
        upcoming = [(hours, c) for hours, c in ahead if hours >= now]
        if upcoming:
            voters[k] = min(upcoming)[1]
    return {"counterpart_election": proximity, "counterpart_voters": voters}


def _election_table(scenario: Scenario, clock, actors: list[str | None], starts: np.ndarray,
                    constants: Constants) -> np.ndarray:
    """(S, actors): each actor's election proximity at each step start (0 with none ahead)."""
    proximity = np.zeros((len(starts), len(actors)))
    for a, actor in enumerate(actors):
        dates = [clock.hours(e.date) for e in scenario.elections if e.actor == actor]
        for k, now in enumerate(starts.tolist()):
            ahead = [h for h in dates if h >= now]
            if ahead:
                days = (min(ahead) - now) / 24.0
                proximity[k, a] = rules.election_proximity(days, constants.election_horizon_days)
    return proximity
