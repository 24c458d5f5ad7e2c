"""Each role's step, written once, as a compiled function of one member.

Every role step takes the step index ``k``, its start ``now`` and length ``dt`` (hours), the
member ``m`` (a :class:`sim.model.kernel.member.CompiledMember`: drawn values, shock table, state,
decision book, scratch), the scenario's compiled plan and the constants. A step reads the
others' state and writes its own role's, plus the decisions it takes; ``m.report`` says what
happened, for traces.

The Mesa agents call their role's step for their member; the ensemble engine calls
:func:`role_step` over :data:`STEP_ORDER` for every member. The order is declared only here.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernel.jit import njit
from sim.model.kernel import layout as L
from sim.model.kernel import rules
from sim.model.kernel import windows

# Each step the actors move in this order: the provocateur's tests and the counterpart's move
# come first, the patron and rival then respond to where the decider leaned at the last step,
# the domestic players take their stance on last step's opinion, and the decider weighs
# everything last. Domestic players move in the order they are cast.
STEP_ORDER: tuple[str, ...] = ("provocateur", "counterpart", "patron", "rival", "domestic",
                               "decider")
STEP_ORDER_INDEX: tuple[int, ...] = tuple(L.ROLE_INDEX[r] for r in STEP_ORDER)

# m.report slots: what happened this step.
R_PROVOKED, R_COUNTERPART_MOVE = 0, 1


@njit(cache=True, inline="always")
def parameter(values: np.ndarray, columns: np.ndarray, slot: int) -> float:
    """A role parameter's drawn value (``columns`` is ``plan.parameter_column``); 0 where the
    role is not cast."""
    column = columns[slot]
    return values[column] if column >= 0 else 0.0


@njit(cache=True, inline="always")
def state_of(state: np.ndarray, cast: np.ndarray, role: int, slot: int) -> float:
    """Another role's state variable (``cast`` is ``plan.has_role``); 0 where that role is not
    cast."""
    return state[slot] if cast[role] else 0.0


@njit(cache=True, inline="always")
def first_open(status: np.ndarray) -> int:
    """Index of the first open decision, -1 if none."""
    for i in range(status.shape[0]):
        if status[i] == L.OPEN:
            return i
    return -1


_INITIAL = tuple(L.INITIAL_STATE.items())


@njit(cache=True)
def initial_state(m, plan) -> None:
    """Each state variable from the parameter it starts at, else 0."""
    m.state[:] = 0.0
    for slot, source in _INITIAL:
        m.state[slot] = parameter(m.values, plan.parameter_column, source)
    for p in range(plan.n_players):
        base = L.N_STATE + L.N_PLAYER_STATE * p
        m.state[base + L.PS_PRESSING] = m.values[plan.player_column[p, L.PP_INITIAL_PRESSING]]
        m.state[base + L.PS_STANCE] = m.values[plan.player_column[p, L.PP_OPPOSITION]]


# -- the clock's own moves: events and decision windows ------------------------------------


@njit(cache=True)
def fire_events(k, m, plan) -> None:
    """Apply the effects of the events due at step ``k``: a state variable kept within 0..1,
    a parameter (the member's drawn value, from now on) within its role's bounds."""
    first = plan.fired_by_step[k - 1] if k > 0 else 0
    for e in range(first, plan.fired_by_step[k]):
        apply_effect(e, m, plan)


@njit(cache=True)
def apply_effect(e, m, plan) -> None:
    """Effect number ``e`` (an event's, a turnover's or an option's) on the member; a
    turnover's only where its draw fell below its chance (M13)."""
    gate = plan.effect_gate[e]
    if gate >= 0 and m.values[gate] >= m.values[plan.effect_chance[e]]:
        return
    magnitude = m.values[plan.effect_column[e]]
    target = plan.effect_parameter[e]
    if target >= 0:  # a parameter: within its role's bounds
        value = m.values[target] + magnitude if plan.effect_adds[e] else magnitude
        m.values[target] = min(plan.effect_hi[e], max(plan.effect_lo[e], value))
        return
    slot = plan.effect_slot[e]
    if slot < 0:
        return
    value = m.state[slot] + magnitude if plan.effect_adds[e] else magnitude
    m.state[slot] = min(1.0, max(0.0, value))


@njit(cache=True)
def resolve(i, option, at, by_default, m, plan) -> None:
    """Decision ``i`` is taken: ``option`` at hour ``at``; the option's effects apply."""
    m.status[i] = L.RESOLVED
    m.option[i] = option
    m.decided[i] = at
    m.by_default[i] = by_default
    for e in range(plan.option_effects[i, option], plan.option_effects[i, option + 1]):
        apply_effect(e, m, plan)


@njit(cache=True)
def update_decisions(now, m, plan) -> None:
    """Close open decisions whose deadline has passed (the default happens), then open those
    whose window has come and whose earlier decision went the required way, and take the
    imposed ones whose time has come. Windows are this run's (``m.window_*``): a relative one
    is set as it opens (:func:`sim.model.kernel.windows.set_window`)."""
    status, option, decided = m.status, m.option, m.decided
    n = status.shape[0]
    for i in range(n):
        if status[i] == L.OPEN and m.window_deadline[i] <= now:
            resolve(i, plan.default_option[i], m.window_deadline[i], True, m, plan)
    for i in range(n):
        if status[i] != L.WAITING:
            continue
        j = plan.after_decision[i]
        if j >= 0:
            if status[j] == L.NOT_REACHED or (status[j] == L.RESOLVED
                                               and option[j] != plan.after_option[i]):
                status[i] = L.NOT_REACHED
                continue
            if status[j] != L.RESOLVED or decided[j] >= now:
                continue
            if plan.relative_window[i]:
                windows.set_window(i, j, m, plan)
        if m.window_opens[i] <= now < m.window_deadline[i]:
            status[i] = L.OPEN
        elif now >= m.window_deadline[i]:
            status[i] = L.NOT_REACHED
    for i in range(n):  # a decision the scenario imposes is taken at its time once open
        if status[i] == L.OPEN and plan.imposed_option[i] >= 0 and plan.imposed_h[i] <= now:
            resolve(i, plan.imposed_option[i], plan.imposed_h[i], False, m, plan)


# -- the roles ----------------------------------------------------------------------------


@njit(cache=True)
def provocateur_step(k, now, dt, m, plan, c) -> None:
    """Provokes at random (missile or nuclear tests); each provocation raises the decider's
    perceived threat."""
    m.report[R_PROVOKED] = 0
    if not plan.has_role[L.PROVOCATEUR]:
        return
    columns = plan.parameter_column
    p = rules.provocation_probability(parameter(m.values, columns, L.P_PROVOCATION_RATE), dt)
    if m.shocks[k, L.CH_PROVOCATION] < p:
        m.report[R_PROVOKED] = 1
        if plan.has_role[L.DECIDER]:
            m.state[L.S_THREAT] = rules.threat_after_provocation(
                m.state[L.S_THREAT], parameter(m.values, columns, L.P_THREAT_JUMP))


@njit(cache=True)
def counterpart_move_chances(k, m, plan, c, talks_open, coerced, patron_pressure) -> int:
    """The counterpart's chance of each move (hold, offer talks, lift its coercion, ease part
    of it) at a look in step ``k``, into ``m.move_probabilities``, with the patron's pressure as
    given; returns how many moves there are (3 where it cannot ease, 4 where it can)."""
    columns = plan.parameter_column
    pressure_on = 0.0
    if plan.has_role[L.PATRON]:
        pressure_on = patron_pressure * parameter(m.values, columns, L.P_COUNTERPART_PRESSURE)
    hard_line = parameter(m.values, columns, L.P_HARD_LINE)
    voters = plan.counterpart_voters[k]
    if voters >= 0:  # its hard line follows its voters' as its election nears (M9)
        hard_line = rules.player_stance(hard_line, plan.counterpart_election[k], m.values[voters])
    talks = rules.counterpart_talks_utility(parameter(m.values, columns, L.P_TALKS_WILLINGNESS),
                                            hard_line, pressure_on,
                                            parameter(m.values, columns, L.P_RESPONSIVENESS))
    share = parameter(m.values, columns, L.P_EASING_SHARE)
    m.move_utilities[L.HOLD] = 0.0
    m.move_utilities[L.OFFER_TALKS] = talks
    # one rule for the ladder's upper rungs: lifting is easing all of it
    m.move_utilities[L.LIFT_COERCION] = rules.counterpart_ease_utility(talks, hard_line, 1.0)
    m.move_utilities[L.EASE_COERCION] = rules.counterpart_ease_utility(talks, hard_line, share)
    m.move_available[L.HOLD] = True
    m.move_available[L.OFFER_TALKS] = talks_open
    m.move_available[L.LIFT_COERCION] = coerced
    m.move_available[L.EASE_COERCION] = coerced and share > 0.0
    n = L.N_MOVES if m.move_available[L.EASE_COERCION] else L.EASE_COERCION
    rules.logit_probabilities(m.move_utilities[:n], c.temperature, m.move_available[:n],
                              m.move_probabilities[:n])
    m.move_probabilities[n:] = 0.0
    return n


@njit(cache=True)
def counterpart_chances(k, m, plan, c) -> tuple:
    """The counterpart's chance of offering talks, of lifting its coercion and of easing part
    of it at a look, as it stood at its step (all 0 when it could not move)."""
    view = m.counterpart_view
    if view[3] == 0.0:
        return 0.0, 0.0, 0.0
    counterpart_move_chances(k, m, plan, c, view[0] > 0.0, view[1] > 0.0, view[2])
    p = m.move_probabilities
    return p[L.OFFER_TALKS], p[L.LIFT_COERCION], p[L.EASE_COERCION]


@njit(cache=True)
def counterpart_step(k, now, dt, m, plan, c) -> None:
    """While a decision is open the counterpart may climb down: offer talks (when an option
    awaits its concession), ease part of its coercion (M10; an easing, like lifting, includes
    the offer of talks) or lift it altogether. What it sees
    when it could move is kept in ``m.counterpart_view``, from which the decider estimates what
    waiting may bring (:func:`counterpart_chances`, computed only when the decider needs it)."""
    m.report[R_COUNTERPART_MOVE] = -1
    m.counterpart_view[:] = 0.0
    if not plan.has_role[L.COUNTERPART]:
        return
    first = first_open(m.status)
    if first < 0:
        return
    awaited = False
    for i in range(m.status.shape[0]):
        if plan.awaits_counterpart[i] and m.status[i] == L.OPEN:
            awaited = True
    talks_open = m.state[L.S_CONCESSION] < 1.0 and awaited
    coerced = m.state[L.S_COERCION] > 0.0
    if not talks_open and not coerced:
        return
    patron_pressure = state_of(m.state, plan.has_role, L.PATRON, L.S_PATRON_PRESSURE)
    m.counterpart_view[0] = 1.0 if talks_open else 0.0
    m.counterpart_view[1] = 1.0 if coerced else 0.0
    m.counterpart_view[2] = patron_pressure
    m.counterpart_view[3] = 1.0
    if m.shocks[k, L.CH_COUNTERPART_ATTENTION] >= windows.attention_chance(k, first, m, plan, c):
        return
    n = counterpart_move_chances(k, m, plan, c, talks_open, coerced, patron_pressure)
    move = rules.choose(m.move_probabilities[:n], m.shocks[k, L.CH_COUNTERPART_CHOICE])
    m.report[R_COUNTERPART_MOVE] = move
    if move != L.HOLD:  # each rung of the ladder includes the one below (M10')
        m.state[L.S_CONCESSION] = 1.0
    if move == L.LIFT_COERCION:
        m.state[L.S_COERCION] = 0.0
    if move == L.EASE_COERCION:
        share = parameter(m.values, plan.parameter_column, L.P_EASING_SHARE)
        m.state[L.S_COERCION] *= 1.0 - share


@njit(cache=True)
def patron_step(k, now, dt, m, plan, c) -> None:
    """Presses the decider to cooperate, harder as it leans away and a deadline nears."""
    if not plan.has_role[L.PATRON]:
        return
    first = first_open(m.status)
    proximity = 0.0
    if first >= 0:
        proximity = rules.deadline_proximity(m.window_deadline[first] - now,
                                             c.deadline_horizon_days)
    columns = plan.parameter_column
    target = rules.patron_target(parameter(m.values, columns, L.P_BASE_PRESSURE),
                                 parameter(m.values, columns, L.P_ESCALATION),
                                 m.state[L.LEAN], proximity)
    m.state[L.S_PATRON_PRESSURE] = rules.relax(m.state[L.S_PATRON_PRESSURE], target,
                                               plan.keep_pressure[k])


@njit(cache=True)
def rival_step(k, now, dt, m, plan, c) -> None:
    """Applies counter-pressure through trade leverage as cooperation looks likely."""
    if not plan.has_role[L.RIVAL]:
        return
    columns = plan.parameter_column
    target = rules.rival_target(parameter(m.values, columns, L.P_RIVAL_OPPOSITION),
                                parameter(m.values, columns, L.P_TRADE_LEVERAGE), m.state[L.LEAN])
    m.state[L.S_RIVAL_PRESSURE] = rules.relax(m.state[L.S_RIVAL_PRESSURE], target,
                                              plan.keep_pressure[k])


@njit(cache=True)
def domestic_step(k, now, dt, m, plan, c, p) -> None:
    """Domestic player ``p`` takes its stance: its own, moving toward the public's opposition
    as its own election nears. How hard it presses changes only by dated events."""
    base = L.N_STATE + L.N_PLAYER_STATE * p
    public = state_of(m.state, plan.has_role, L.DECIDER, L.S_OPPOSITION)
    own = m.values[plan.player_column[p, L.PP_OPPOSITION]]
    m.state[base + L.PS_STANCE] = rules.player_stance(own, plan.player_election[k, p], public)


@njit(cache=True)
def domestic_players_step(k, now, dt, m, plan, c) -> None:
    for p in range(plan.n_players):
        domestic_step(k, now, dt, m, plan, c, p)


@njit(cache=True)
def domestic_cost(k, m, plan) -> float:
    """The executive's domestic cost of cooperating: the public's, plus each domestic
    player's while it presses."""
    columns, state = plan.parameter_column, m.state
    total = rules.public_cost(state[L.S_OPPOSITION], state[L.S_SALIENCE],
                              plan.election_proximity[k], state[L.S_GRIEVANCE],
                              parameter(m.values, columns, L.P_ACCOUNTABILITY))
    for p in range(plan.n_players):
        base = L.N_STATE + L.N_PLAYER_STATE * p
        total += rules.player_cost(m.values[plan.player_column[p, L.PP_LEVERAGE]],
                                   state[base + L.PS_STANCE], state[base + L.PS_PRESSING])
    return total


@njit(cache=True)
def vetoed(m, plan) -> bool:
    """Does a veto player withhold its consent (its stance above one half)?"""
    for p in range(plan.n_players):
        if plan.player_veto[p] and m.state[L.N_STATE + L.N_PLAYER_STATE * p + L.PS_STANCE] > 0.5:
            return True
    return False


@njit(cache=True)
def update_opinion(k, m, plan) -> None:
    """Public opposition drifts toward its target; perceived threat decays to its baseline."""
    columns, cast, state = plan.parameter_column, plan.has_role, m.state
    coercion = state_of(state, cast, L.COUNTERPART, L.S_COERCION)
    excess = 0.0
    if cast[L.PATRON]:
        excess = state[L.S_PATRON_PRESSURE] - parameter(m.values, columns, L.P_BASE_PRESSURE)
    target = rules.opinion_target(
        parameter(m.values, columns, L.P_INITIAL_OPPOSITION),
        parameter(m.values, columns, L.P_COERCION_SENSITIVITY), coercion,
        parameter(m.values, columns, L.P_PRESSURE_BACKLASH),
        parameter(m.values, columns, L.P_PUBLICITY), excess)
    state[L.S_OPPOSITION] = rules.relax(state[L.S_OPPOSITION], target, plan.keep_opinion[k])
    state[L.S_THREAT] = rules.relax(state[L.S_THREAT],
                                    parameter(m.values, columns, L.P_THREAT_PERCEPTION),
                                    plan.keep_threat[k])


@njit(cache=True)
def drivers(m, plan) -> tuple:
    """What the decider weighs: alliance value, security value, rival economy, coercion, the
    counterpart's concession, its concession credit, the leader's own preference, the share
    of coercion answered through another channel, and the net inducement (the patron's offer
    less the rival's)."""
    columns, cast, state = plan.parameter_column, plan.has_role, m.state
    alliance_value = state[L.S_ALLIANCE_DEPENDENCE] * state_of(state, cast, L.PATRON,
                                                               L.S_PATRON_PRESSURE)
    security_value = state[L.S_THREAT] * parameter(m.values, columns, L.P_SECURITY_VALUE)
    rival_economy = parameter(m.values, columns, L.P_RIVAL_EXPOSURE) * state_of(
        state, cast, L.RIVAL, L.S_RIVAL_PRESSURE)
    coercion = state_of(state, cast, L.COUNTERPART, L.S_COERCION)
    conceded_by = state_of(state, cast, L.COUNTERPART, L.S_CONCESSION)
    inducement = (state_of(state, cast, L.PATRON, L.S_PATRON_INDUCEMENT)
                  - state_of(state, cast, L.RIVAL, L.S_RIVAL_INDUCEMENT))
    return (alliance_value, security_value, rival_economy, coercion, conceded_by,
            parameter(m.values, columns, L.P_CONCESSION_CREDIT),
            parameter(m.values, columns, L.P_LEADER_PREFERENCE), state[L.S_COERCION_ANSWERED],
            inducement)


@njit(cache=True)
def option_utilities(i, k, m, plan, c, domestic, blocked, coercion, conceded_by, utilities,
                     available, keep_terms) -> None:
    """The decider's utility of each of decision ``i``'s options, and which are available,
    were coercion and the counterpart's concession as given; with ``keep_terms`` the terms
    go to ``m.terms`` (the decision's probed step). A reversible option adds the value of
    keeping the choice open (docs/model.md, M6). While a demand in return stands, a step more
    cooperative than the default that does not wait for the concession reads at home as backing
    down: its domestic cost is ``1 + demand`` times as high (M15)."""
    (alliance_value, security_value, rival_economy, _, _, credit, leader, answered,
     inducement) = drivers(m, plan)
    n = plan.n_options[i]
    demand = m.state[L.S_DEMAND]
    for j in range(n):
        conceded = conceded_by if plan.conditional_on_counterpart[i, j] else 0.0
        backing_down = demand if plan.more_cooperative[i, j] and not plan.conditional[i, j] else 0.0
        available[j] = ((not plan.conditional[i, j]) or conceded >= 1.0) and not (
            blocked and plan.more_cooperative[i, j])
        rules.option_terms(plan.cooperation[i, j], plan.home_signal[i, j], conceded,
                           j == plan.default_option[i], domestic * (1.0 + backing_down),
                           alliance_value,
                           security_value, rival_economy, coercion, credit, leader, answered,
                           inducement, c.w_domestic, c.w_alliance, c.w_security, c.w_economy,
                           c.action_cost, m.option_terms)
        if keep_terms:
            m.terms[i, :, j] = m.option_terms
        utilities[j] = rules.total_utility(m.option_terms)
    open_value = rules.choice_value(utilities[:n], available[:n], c.temperature)
    for j in range(n):
        flexibility = plan.reversible[i, j] * open_value
        utilities[j] += flexibility
        if keep_terms:
            m.terms[i, L.T_FLEXIBILITY, j] = flexibility


@njit(cache=True)
def best_utility(i, k, m, plan, c, domestic, blocked, coercion, conceded_by) -> float:
    """The decider's best utility over decision ``i``'s available options, were coercion and
    the counterpart's concession as given (a hypothetical for the value of waiting)."""
    option_utilities(i, k, m, plan, c, domestic, blocked, coercion, conceded_by,
                     m.hypothetical, m.hypothetical_available, False)
    best = -np.inf
    for j in range(plan.n_options[i]):
        if m.hypothetical_available[j]:
            best = max(best, m.hypothetical[j])
    return best


@njit(cache=True)
def weigh(i, k, m, plan, c, domestic, blocked) -> None:
    """The decider's utility terms, utilities and choice probabilities over decision ``i``'s
    options; the terms are kept when ``k`` is the decision's probed step."""
    coercion = state_of(m.state, plan.has_role, L.COUNTERPART, L.S_COERCION)
    conceded_by = state_of(m.state, plan.has_role, L.COUNTERPART, L.S_CONCESSION)
    n = plan.n_options[i]
    option_utilities(i, k, m, plan, c, domestic, blocked, coercion, conceded_by,
                     m.utilities[i], m.available, m.probe[i] == k)
    rules.logit_probabilities(m.utilities[i, :n], c.temperature, m.available[:n],
                              m.probabilities[i, :n])
    m.expected_away[i] = rules.expected_non_cooperation(m.probabilities[i, :n],
                                                        plan.cooperation[i, :n])


@njit(cache=True)
def takes_it_now(i, j, k, m, plan, c, domestic, blocked) -> bool:
    """The value of waiting (docs/model.md, M4 and M14): take option ``j`` of decision ``i``
    now, or wait while the counterpart may still concede (offer talks, lift or ease its
    coercion) and a later look may choose again?"""
    talks, lift, ease = counterpart_chances(k, m, plan, c)
    no_look = windows.no_later_look(k, i, m, plan, c)
    n = plan.n_options[i]
    u_j = m.utilities[i, j]
    gain = u_j - m.utilities[i, plan.default_option[i]]
    moves = talks + lift + ease
    q = rules.chance_before_deadline(moves, no_look)
    forfeit = 0.0
    if moves > 0.0:
        forfeit = concession_forfeit(i, k, m, plan, c, domestic, blocked, u_j, q, talks, lift,
                                     ease)
    later = rules.later_choice_value(m.utilities[i, :n], m.available[:n], c.temperature)
    forfeit += (1.0 - q) * (1.0 - no_look) * (later - u_j)
    forfeit *= 1.0 - plan.reversible[i, j]
    return rules.worth_acting_now(gain, no_look, q, forfeit)


@njit(cache=True)
def concession_forfeit(i, k, m, plan, c, domestic, blocked, u_j, q, talks, lift, ease) -> float:
    """What taking a step worth ``u_j`` now forfeits of what the counterpart's concessions,
    each as likely as its share of the chance ``q`` that one comes, would bring (M4)."""
    moves = talks + lift + ease
    coercion = state_of(m.state, plan.has_role, L.COUNTERPART, L.S_COERCION)
    forfeit = 0.0
    if talks > 0.0:
        u_talks = best_utility(i, k, m, plan, c, domestic, blocked, coercion, 1.0)
        forfeit += q * talks / moves * (u_talks - u_j)
    if lift > 0.0:
        u_lift = best_utility(i, k, m, plan, c, domestic, blocked, 0.0, 1.0)
        forfeit += q * lift / moves * (u_lift - u_j)
    if ease > 0.0:
        share = parameter(m.values, plan.parameter_column, L.P_EASING_SHARE)
        u_ease = best_utility(i, k, m, plan, c, domestic, blocked, coercion * (1.0 - share),
                              1.0)
        forfeit += q * ease / moves * (u_ease - u_j)
    return forfeit


@njit(cache=True)
def lean_away(m, plan) -> float:
    """How far the decider publicly leans away from cooperating: the expected
    non-cooperation of the first open decision, else of the last one resolved, else 0."""
    first = first_open(m.status)
    if first >= 0:
        return m.expected_away[first]
    last = -1
    for i in range(m.status.shape[0]):
        if m.status[i] == L.RESOLVED and (last < 0 or m.decided[i] > m.decided[last]):
            last = i
    if last >= 0:
        return 1.0 - plan.cooperation[last, m.option[last]]
    return 0.0


@njit(cache=True)
def decider_step(k, now, dt, m, plan, c) -> None:
    """The government that decides: its opinion moves, then, at moments of attention, it makes
    a noisy (logit) choice in each open decision, weighing domestic cost (its public's and its
    domestic players') against alliance, security and economic value and its leader's own
    preference; it acts when the choice differs from the default and acting now is worth more
    than waiting for the counterpart (:func:`takes_it_now`). Imposed decisions it only weighs."""
    if not plan.has_role[L.DECIDER]:
        return
    update_opinion(k, m, plan)
    domestic = domestic_cost(k, m, plan)
    blocked = vetoed(m, plan)
    m.utilities[:, :] = np.nan
    n = m.status.shape[0]
    for i in range(n):
        m.was_open[i] = m.status[i] == L.OPEN
    for i in range(n):
        if not m.was_open[i] and m.probe[i] != k:
            continue
        weigh(i, k, m, plan, c, domestic, blocked)
        if not m.was_open[i] or plan.imposed_option[i] >= 0:
            continue
        channel = L.N_FIXED_CHANNELS + 2 * i
        if m.shocks[k, channel] >= windows.attention_chance(k, i, m, plan, c):
            continue
        chosen = rules.choose(m.probabilities[i, :plan.n_options[i]], m.shocks[k, channel + 1])
        if chosen != plan.default_option[i] and takes_it_now(i, chosen, k, m, plan, c, domestic,
                                                          blocked):
            resolve(i, chosen, now, False, m, plan)
    m.state[L.LEAN] = lean_away(m, plan)


@njit(cache=True)
def role_step(role, k, now, dt, m, plan, c) -> None:
    """The step of role number ``role`` (``sim.model.kernel.layout.ROLE_INDEX``)."""
    if role == L.PROVOCATEUR:
        provocateur_step(k, now, dt, m, plan, c)
    elif role == L.COUNTERPART:
        counterpart_step(k, now, dt, m, plan, c)
    elif role == L.PATRON:
        patron_step(k, now, dt, m, plan, c)
    elif role == L.RIVAL:
        rival_step(k, now, dt, m, plan, c)
    elif role == L.DOMESTIC:
        domestic_players_step(k, now, dt, m, plan, c)
    elif role == L.DECIDER:
        decider_step(k, now, dt, m, plan, c)

