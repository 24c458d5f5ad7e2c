"""Decision rules as pure functions of state.

Every function here takes plain numbers or NumPy arrays (broadcasting alike) and returns the
same, so the Mesa agents and any vectorised engine apply one set of rules. Nothing here draws
random numbers: callers pass the uniform draws in, which keeps the rules deterministic given
their inputs and lets two engines be fed identical inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Number = Any  # a float or an ndarray of floats

UTILITY_TERMS: tuple[str, ...] = (
    "domestic",
    "alliance",
    "security",
    "rival_economy",
    "coercion",
    "action_cost",
)


@dataclass(frozen=True)
class Constants:
    """Global behavioural constants (``calibration/constants.yaml``), shared by all actors."""

    temperature: float
    w_domestic: float
    w_alliance: float
    w_security: float
    w_economy: float
    action_cost: float
    attention_rate: float
    attention_floor_hours: float
    deadline_horizon_days: float
    election_horizon_days: float
    opinion_adjustment_days: float
    pressure_adjustment_days: float
    threat_decay_days: float


def relax(current: Number, target: Number, step_hours: float, time_constant_days: float) -> Number:
    """Move ``current`` toward ``target`` as first-order adjustment over one step."""
    keep = np.exp(-step_hours / (24.0 * time_constant_days))
    return target + (current - target) * keep


def clip01(value: Number) -> Number:
    return np.minimum(np.maximum(value, 0.0), 1.0)


def deadline_proximity(hours_to_deadline: Number, horizon_days: float) -> Number:
    """1 at the deadline, 1/2 one horizon before it, toward 0 long before."""
    horizon = 24.0 * horizon_days
    return horizon / (horizon + np.maximum(hours_to_deadline, 0.0))


def election_proximity(days_to_election: Number, horizon_days: float) -> Number:
    """exp(-days / horizon): 1 on election day; 0 where there is no election ahead (inf days)."""
    return np.exp(-np.asarray(days_to_election, dtype=float) / horizon_days)


def attention_probability(
    hours_to_deadline: Number, step_hours: Number, rate: float, floor_hours: float
) -> Number:
    """Probability that a decision-maker reconsiders at least once during a step.

    Reconsiderations arrive at hazard ``rate / (h + floor)`` per hour, ``h`` hours before the
    deadline: attention is spread evenly over log(h + floor), so with rate 1 and a one-hour
    floor the last day gets as many looks (about 3.2) as the 25 days before it. This
    concentrates action near deadlines. Integrating over the step from ``h`` down to
    ``h - step`` gives the expression below, which does not depend on how finely the step is
    cut.
    """
    h = np.maximum(hours_to_deadline, 0.0)
    after = np.maximum(h - step_hours, 0.0)
    return 1.0 - ((after + floor_hours) / (h + floor_hours)) ** rate


def _columns(values: np.ndarray) -> list[np.ndarray]:
    """The options of ``values`` one by one. Option counts are small (2-5), so looping over
    them beats NumPy's reductions along a short last axis, and it fixes the order of
    summation, which keeps the engines bit-for-bit equal."""
    return [values[..., i] for i in range(values.shape[-1])]


def _sum(columns: list[np.ndarray]) -> np.ndarray:
    total = columns[0]
    for column in columns[1:]:
        total = total + column
    return total


def logit_probabilities(utilities: np.ndarray, temperature: float, available: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, restricted to available options (noisy logit choice)."""
    scaled = np.where(available, utilities / temperature, -np.inf)
    columns = _columns(scaled)
    top = columns[0]
    for column in columns[1:]:
        top = np.maximum(top, column)
    weights = np.exp(scaled - top[..., None])
    return weights / _sum(_columns(weights))[..., None]


def choose(probabilities: np.ndarray, uniform: Number) -> Number:
    """Index of the option picked by inverse-CDF sampling with the given uniform draw(s)."""
    columns = _columns(np.asarray(probabilities))
    cumulative = [columns[0]]
    for column in columns[1:]:
        cumulative.append(cumulative[-1] + column)
    threshold = np.asarray(uniform) * cumulative[-1]
    index = _sum([(c <= threshold).astype(np.int64) for c in cumulative])
    return np.minimum(index, len(columns) - 1)


def expected_non_cooperation(probabilities: np.ndarray, cooperation: np.ndarray) -> Number:
    """How far a choice distribution leans away from cooperating: E[1 - cooperation]."""
    return _sum(_columns(probabilities * (1.0 - cooperation)))


def domestic_cost(
    opposition: Number, salience: Number, election_prox: Number, grievance: Number
) -> Number:
    """Domestic cost of cooperating, 0..1: opposition the public can see, heavier near an
    election and where grievance runs deep (the level-II side of Putnam's two-level game)."""
    return salience * opposition * (1.0 + election_prox) * (1.0 + grievance) / 4.0


def option_terms(
    cooperation: np.ndarray,
    conceded: np.ndarray,
    is_default: np.ndarray,
    *,
    domestic: Number,
    alliance_value: Number,
    security_value: Number,
    rival_economy: Number,
    coercion: Number,
    concession_credit: Number,
    constants: Constants,
) -> dict[str, np.ndarray]:
    """Weighted utility terms for each option (options on the last axis).

    ``cooperation`` is each option's degree of keeping the commitment; ``conceded`` marks
    conditional options whose counterpart has conceded (their domestic cost and foregone
    leverage shrink by ``concession_credit``); ``is_default`` marks the option that happens by
    inaction (every other option carries the action cost: status-quo bias).
    """
    c = np.asarray(cooperation, dtype=float)

    def per_option(x: Number) -> np.ndarray:
        """Put a per-run quantity on an axis that broadcasts against the options axis."""
        return np.asarray(x, dtype=float)[..., None]

    offset = 1.0 - per_option(concession_credit) * np.asarray(conceded, dtype=float)
    acting = 1.0 - np.asarray(is_default, dtype=float)
    return {
        "domestic": -constants.w_domestic * c * per_option(domestic) * offset,
        "alliance": constants.w_alliance * c * per_option(alliance_value),
        "security": constants.w_security * c * per_option(security_value),
        "rival_economy": -constants.w_economy * c * per_option(rival_economy),
        "coercion": -constants.w_economy * c * per_option(coercion) * offset,
        "action_cost": -constants.action_cost * acting * np.ones_like(c * per_option(domestic)),
    }


def total_utility(terms: dict[str, np.ndarray]) -> np.ndarray:
    return sum(terms[name] for name in UTILITY_TERMS)


def counterpart_move_utilities(
    talks_willingness: Number,
    hard_line: Number,
    pressure_on_counterpart: Number,
    responsiveness: Number,
) -> tuple[Number, Number, Number]:
    """Counterpart's utilities of (holding firm, offering talks, lifting its coercion).

    Offering talks is worth its willingness plus the patron's pull, less its hard line;
    lifting the measures outright is a full climb-down that pays the hard line twice.
    """
    talks = talks_willingness + responsiveness * pressure_on_counterpart - hard_line
    return (np.zeros_like(talks), talks, talks - hard_line)


def patron_target(
    base_pressure: Number, escalation: Number, lean_away: Number, proximity: Number
) -> Number:
    """Pressure the patron works toward: its base, plus escalation as the decider leans away
    and a deadline nears."""
    return clip01(base_pressure + escalation * lean_away * proximity)


def rival_target(opposition: Number, trade_leverage: Number, lean_away: Number) -> Number:
    """Counter-pressure the rival works toward: strongest when cooperation looks likely."""
    return clip01(opposition * trade_leverage * (1.0 - lean_away))


def opinion_target(
    initial_opposition: Number,
    coercion_sensitivity: Number,
    coercion: Number,
    pressure_backlash: Number,
    publicity: Number,
    excess_pressure: Number,
) -> Number:
    """Public opposition the opinion drifts toward: its start, raised by the counterpart's
    coercion and by visible patron pressure above its base."""
    return clip01(
        initial_opposition
        + coercion_sensitivity * coercion
        + pressure_backlash * publicity * np.maximum(excess_pressure, 0.0)
    )


def provocation_probability(rate_per_day: Number, step_hours: Number) -> Number:
    """Probability of a provocation during a step (at most one per step; Poisson thinning)."""
    return 1.0 - np.exp(-rate_per_day * step_hours / 24.0)


def threat_after_provocation(threat: Number, jump: Number) -> Number:
    return threat + jump * (1.0 - threat)
