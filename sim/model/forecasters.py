"""The reference forecasters of docs/model3.md (M3.7), from the same inputs as the model.

Each decision is forecast without randomness from the stakes as they stand at its deadline on
the scenario's dated events (every range and magnitude at its midpoint; events that follow a
choice are not applied, since no choice is known). Each forecaster puts all its weight on one
option; ties go to the default.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernel as K
from sim.model.constants import Constants, kernel_constants
from sim.model.plan import build_plan, drawn_quantities
from sim.model.scenario import Scenario

REFERENCE_FORECASTERS: tuple[str, ...] = ("veto_players", "weighted_median", "weighted_mean")


def reference_forecasts(scenario: Scenario, constants: Constants) -> dict[str, dict[str, dict[str, float]]]:
    """``{decision: {forecaster: {option: probability}}}`` for every decision."""
    scenario = scenario.without_record()
    plan = build_plan(scenario, constants)
    c = kernel_constants(constants)
    quantities = drawn_quantities(scenario)
    out = {}
    for i, d in enumerate(scenario.decisions):
        m = _member_at(plan, c, quantities, plan.deadline_h[i])
        options = [o.id for o in d.options]
        picks = {
            "veto_players": _veto_players(i, m, plan, c),
            "weighted_median": _nearest(i, plan, _weighted_median(*_weights(i, m, plan, c))),
            "weighted_mean": _nearest(i, plan, _weighted_mean(*_weights(i, m, plan, c))),
        }
        out[d.id] = {name: {o: 1.0 if k == pick else 0.0 for k, o in enumerate(options)}
                     for name, pick in picks.items()}
    return out


def _member_at(plan, c, quantities, hour: float):
    """The stakes at ``hour``: midpoints, then every dated event before it, in order."""
    m = K.new_member(plan, len(quantities))
    m.values[:] = [(q.lo + q.hi) / 2.0 for q in quantities]
    K.start(m, plan)
    dated = [(plan.event_h[e], e) for e in range(len(plan.event_h))
             if plan.event_if_decision[e] < 0 and plan.event_h[e] < hour]
    for _, e in sorted(dated):
        K.apply_effects(plan.event_effect_first[e], plan.event_effect_first[e + 1], m, plan)
    m.status[:] = K.RESOLVED  # no option waits on an earlier decision in a static forecast
    m.option[:] = plan.requires_option.max(axis=1).clip(min=0) if plan.requires_option.size else -1
    return m


def _weights(i, m, plan, c) -> tuple[np.ndarray, np.ndarray]:
    """Positions and weights: salience times clout, or for a body's blocs salience times seats."""
    t = plan.deadline_h[i]
    stakes = range(plan.stake_first[i], plan.stake_first[i + 1])
    x = np.array([m.stake[s, K.POSITION] for s in stakes])
    if plan.is_body[i]:
        w = np.array([K.salience_at(s, t, m, plan, c) * plan.stake_seats[s] for s in stakes])
    else:
        w = np.array([K.salience_at(s, t, m, plan, c) * m.stake[s, K.CLOUT] for s in stakes])
    return x, w


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(w[order])
    if cumulative[-1] <= 0:
        return float(np.median(x))
    return float(x[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    return float((w * x).sum() / w.sum()) if w.sum() > 0 else float(x.mean())


def _nearest(i, plan, target: float) -> int:
    """The option nearest ``target`` (the default first among equals)."""
    n = plan.n_options[i]
    order = [plan.default[i]] + [k for k in range(n) if k != plan.default[i]]
    return min(order, key=lambda k: abs(plan.position[i, k] - target))


def _veto_players(i, m, plan, c) -> int:
    """Tsebelis: the standing option unless every actor whose consent is needed accepts a move;
    among the accepted options, the deciding actor's nearest; for a body, the motion if the
    blocs nearer the motion hold the seats its rule needs."""
    t = plan.deadline_h[i]
    default = plan.default[i]
    if plan.is_body[i]:
        motion = 1 - default
        yes = seats = 0.0
        for s in range(plan.stake_first[i], plan.stake_first[i + 1]):
            x, n = m.stake[s, K.POSITION], plan.stake_seats[s]
            seats += n
            if abs(plan.position[i, motion] - x) < abs(plan.position[i, default] - x):
                yes += n
        q = plan.quota[i]
        return motion if (yes > q * seats if q == 0.5 else yes >= q * seats - 1e-9) else default
    allowed = [k for k in range(plan.n_options[i]) if not K.withheld(i, k, t, m, plan, c)]
    own = next(s for s in range(plan.stake_first[i], plan.stake_first[i + 1])
               if plan.stake_column[s, K.CLOUT] < 0)
    x = m.stake[own, K.POSITION]
    order = [default] + [k for k in allowed if k != default]
    return min((k for k in order if k in allowed), key=lambda k: abs(plan.position[i, k] - x))
