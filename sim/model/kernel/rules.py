"""The model's formulas, each a pure function of plain numbers (compiled with Numba).

Nothing here draws random numbers or knows a scenario: the step rules in
:mod:`sim.model.kernel.steps` read a member's state and parameters, call these, and write the state
back. Options are short arrays (one entry per option of a decision).
"""

from __future__ import annotations

import math

import numpy as np

from sim.model.kernel.jit import njit
from sim.model.kernel.layout import (
    T_ACTION_COST,
    T_ALLIANCE,
    T_COERCION,
    T_DOMESTIC,
    T_FLEXIBILITY,
    T_INDUCEMENT,
    T_LEADER,
    T_RIVAL_ECONOMY,
    T_SECURITY,
)


@njit(cache=True)
def keep_factor(step_hours: float, time_constant_days: float) -> float:
    """Share of the gap to its target that a first-order adjustment keeps over one step."""
    return math.exp(-step_hours / (24.0 * time_constant_days))


@njit(cache=True)
def relax(current: float, target: float, keep: float) -> float:
    """Move ``current`` toward ``target`` by first-order adjustment, keeping ``keep`` of the
    gap (:func:`keep_factor` of the step's length)."""
    return target + (current - target) * keep


@njit(cache=True)
def clip01(value: float) -> float:
    return min(max(value, 0.0), 1.0)


@njit(cache=True)
def deadline_proximity(hours_to_deadline: float, horizon_days: float) -> float:
    """1 at the deadline, 1/2 one horizon before it, toward 0 long before."""
    horizon = 24.0 * horizon_days
    return horizon / (horizon + max(hours_to_deadline, 0.0))


@njit(cache=True)
def election_proximity(days_to_election: float, horizon_days: float) -> float:
    """exp(-days / horizon): 1 on election day, toward 0 far ahead."""
    return math.exp(-days_to_election / horizon_days)


@njit(cache=True)
def attention_probability(hours_to_deadline: float, step_hours: float, rate: float,
                          floor_hours: float) -> float:
    """Probability that a decision-maker reconsiders at least once during a step.

    Reconsiderations arrive at hazard ``rate / (h + floor)`` per hour, ``h`` hours before the
    deadline: attention is spread evenly over log(h + floor), so with rate 1 and a one-hour
    floor the last day gets as many looks (about 3.2) as the 25 days before it. Integrating
    over the step from ``h`` down to ``h - step`` gives the expression below, which does not
    depend on how finely the step is cut.
    """
    h = max(hours_to_deadline, 0.0)
    after = max(h - step_hours, 0.0)
    return 1.0 - ((after + floor_hours) / (h + floor_hours)) ** rate


@njit(cache=True)
def logit_probabilities(utilities: np.ndarray, temperature: float, available: np.ndarray,
                        out: np.ndarray) -> None:
    """Softmax of ``utilities / temperature`` over the available options, into ``out``
    (noisy logit choice; unavailable options get probability 0)."""
    n = utilities.shape[0]
    top = -np.inf
    for i in range(n):
        if available[i]:
            top = max(top, utilities[i] / temperature)
    total = 0.0
    for i in range(n):
        out[i] = math.exp(utilities[i] / temperature - top) if available[i] else 0.0
        total += out[i]
    for i in range(n):
        out[i] = out[i] / total


@njit(cache=True)
def choose(probabilities: np.ndarray, uniform: float) -> int:
    """Index of the option picked by inverse-CDF sampling with one uniform draw."""
    n = probabilities.shape[0]
    total = 0.0
    for i in range(n):
        total += probabilities[i]
    threshold = uniform * total
    cumulative = 0.0
    index = 0
    for i in range(n):
        cumulative += probabilities[i]
        if cumulative <= threshold:
            index += 1
    return min(index, n - 1)


@njit(cache=True)
def expected_non_cooperation(probabilities: np.ndarray, cooperation: np.ndarray) -> float:
    """How far a choice distribution leans away from cooperating: E[1 - cooperation]."""
    total = 0.0
    for i in range(probabilities.shape[0]):
        total += probabilities[i] * (1.0 - cooperation[i])
    return total


@njit(cache=True)
def even_attention_rate(window_hours: float, rate: float, floor_hours: float) -> float:
    """Hazard per hour of a decision without a fixed moment: the expected number of looks the
    deadline schedule gives over the window (``rate · ln((W + floor)/floor)``), spread evenly."""
    w = max(window_hours, 1e-9)
    return rate * math.log((w + floor_hours) / floor_hours) / w


@njit(cache=True)
def even_attention_probability(step_hours: float, hazard_per_hour: float) -> float:
    return 1.0 - math.exp(-hazard_per_hour * step_hours)


@njit(cache=True)
def public_cost(opposition: float, salience: float, election_prox: float, grievance: float,
                accountability: float) -> float:
    """Domestic cost of cooperating that the public imposes, 0..1: opposition it can see,
    heavier where grievance runs deep, borne as far as the executive answers to the public
    (its accountability, rising to 1 as its own election nears). With accountability 1/2 this
    is Model 1's ``salience · opposition · (1 + E)(1 + grievance)/4``."""
    answer = accountability + (1.0 - accountability) * election_prox
    return salience * opposition * (1.0 + grievance) / 2.0 * answer


@njit(cache=True)
def player_stance(own_opposition: float, election_prox: float, public_opposition: float) -> float:
    """A domestic player's effective stance: its own, moving toward the public's as its own
    election nears (a party facing voters follows them)."""
    return own_opposition + election_prox * (public_opposition - own_opposition)


@njit(cache=True)
def player_cost(leverage: float, stance: float, pressing: float) -> float:
    """What a domestic player's opposition costs the executive: its leverage times its stance,
    while it presses."""
    return leverage * stance * pressing


@njit(cache=True)
def option_terms(cooperation: float, home_signal: float, conceded: float, is_default: bool,
                 domestic: float, alliance_value: float, security_value: float,
                 rival_economy: float, coercion: float, concession_credit: float,
                 leader_preference: float, answered: float, inducement: float,
                 w_domestic: float, w_alliance: float, w_security: float, w_economy: float,
                 action_cost: float, out: np.ndarray) -> None:
    """The weighted utility terms of one option, into ``out`` (UTILITY_TERMS order).

    ``cooperation`` is what the step gives the partner and the patron; ``home_signal`` how far
    it reads at home as giving in (the domestic cost scales with it); ``conceded`` is 1 for a
    conditional option whose counterpart has conceded (its domestic cost and foregone leverage
    shrink by ``concession_credit``); coercion ``answered`` through another channel no longer
    counts against cooperating; the leader's own preference weighs like the domestic cost; the
    net ``inducement`` (the patron's offer for cooperating less the rival's for staying out) is
    a material reward, weighed like the economy; the option that happens by inaction carries no
    action cost (status-quo bias).
    """
    offset = 1.0 - concession_credit * conceded
    out[T_DOMESTIC] = -w_domestic * home_signal * domestic * offset
    out[T_ALLIANCE] = w_alliance * cooperation * alliance_value
    out[T_SECURITY] = w_security * cooperation * security_value
    out[T_RIVAL_ECONOMY] = -w_economy * cooperation * rival_economy
    out[T_COERCION] = -w_economy * cooperation * coercion * offset * (1.0 - answered)
    out[T_LEADER] = w_domestic * leader_preference * cooperation
    out[T_INDUCEMENT] = w_economy * cooperation * inducement
    out[T_FLEXIBILITY] = 0.0  # set once every option is weighed (choice_value)
    out[T_ACTION_COST] = 0.0 if is_default else -action_cost


@njit(cache=True)
def worth_acting_now(gain_over_default: float, no_further_look: float, wait_chance: float,
             forfeit: float) -> bool:
    """The value of waiting: act now when what waiting risks (the default happens if no look
    comes again before the deadline) outweighs what acting now forfeits (the gain an expected
    concession would bring, lost by an irreversible step).

    ``wait_chance`` is the chance the other side moves first; ``forfeit`` is
    ``(1 - reversible) · [Σ_m q_m (U*_m - U_j) + (1 - q)(1 - P_n)(U_max + V - U_j)]``: the
    concessions' worth (M4) and that of choosing again at a later look (M14).
    """
    return (1.0 - wait_chance) * no_further_look * gain_over_default >= forfeit


@njit(cache=True)
def chance_before_deadline(per_look: float, no_further_look: float) -> float:
    """Chance that an actor who takes a step with probability ``per_look`` at each look does
    so before the deadline, given its chance of no further look (``1 - P_n ** per_look``:
    exact when looks are rare)."""
    if per_look <= 0.0:
        return 0.0
    if no_further_look <= 0.0:
        return 1.0
    return 1.0 - no_further_look ** per_look


@njit(cache=True)
def choice_value(utilities: np.ndarray, available: np.ndarray, temperature: float) -> float:
    """The value of a choice still to be made, above its best option: the inclusive value
    ``T · ln Σ exp(U/T)`` less ``max U`` over the available options (McFadden's expected
    maximum utility of a logit choice); at most ``T · ln K``, most when the options are close."""
    top = -np.inf
    for i in range(utilities.shape[0]):
        if available[i]:
            top = max(top, utilities[i])
    if top == -np.inf:
        return 0.0
    total = 0.0
    for i in range(utilities.shape[0]):
        if available[i]:
            total += math.exp((utilities[i] - top) / temperature)
    return temperature * math.log(total)


@njit(cache=True)
def later_choice_value(utilities: np.ndarray, available: np.ndarray, temperature: float) -> float:
    """What a later look at the same choice is worth, as weighed now: its best utility plus the
    value of a choice still to be made (``U_max + V``; M14)."""
    top = -np.inf
    for i in range(utilities.shape[0]):
        if available[i]:
            top = max(top, utilities[i])
    return top + choice_value(utilities, available, temperature)


@njit(cache=True)
def total_utility(terms: np.ndarray) -> float:
    total = 0.0
    for t in range(terms.shape[0]):
        total += terms[t]
    return total


@njit(cache=True)
def counterpart_talks_utility(talks_willingness: float, hard_line: float,
                              pressure_on_counterpart: float, responsiveness: float) -> float:
    """Counterpart's utility of offering talks (holding firm is worth 0): its willingness plus
    the patron's pull, less its hard line. Lifting its measures outright is a full climb-down
    that pays the hard line twice: ``talks - hard_line``."""
    return talks_willingness + responsiveness * pressure_on_counterpart - hard_line


@njit(cache=True)
def counterpart_ease_utility(talks_utility: float, hard_line: float, easing_share: float) -> float:
    """Counterpart's utility of easing a share of its coercion: between offering talks and
    lifting, paying the hard line in proportion to what it gives up (lifting is share 1)."""
    return talks_utility - easing_share * hard_line


@njit(cache=True)
def patron_target(base_pressure: float, escalation: float, lean_away: float,
                  proximity: float) -> float:
    """Pressure the patron works toward: its base, plus escalation as the decider leans away
    and a deadline nears."""
    return clip01(base_pressure + escalation * lean_away * proximity)


@njit(cache=True)
def rival_target(opposition: float, trade_leverage: float, lean_away: float) -> float:
    """Counter-pressure the rival works toward: strongest when cooperation looks likely."""
    return clip01(opposition * trade_leverage * (1.0 - lean_away))


@njit(cache=True)
def opinion_target(initial_opposition: float, coercion_sensitivity: float, coercion: float,
                   pressure_backlash: float, publicity: float, excess_pressure: float) -> float:
    """Public opposition the opinion drifts toward: its start, raised by the counterpart's
    coercion and by visible patron pressure above its base."""
    return clip01(initial_opposition + coercion_sensitivity * coercion
                  + pressure_backlash * publicity * max(excess_pressure, 0.0))


@njit(cache=True)
def provocation_probability(rate_per_day: float, step_hours: float) -> float:
    """Probability of a provocation during a step (at most one per step; Poisson thinning)."""
    return 1.0 - math.exp(-rate_per_day * step_hours / 24.0)


@njit(cache=True)
def threat_after_provocation(threat: float, jump: float) -> float:
    return threat + jump * (1.0 - threat)
