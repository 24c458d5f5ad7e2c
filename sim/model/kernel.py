"""Model 3's rules, written once, as compiled functions of one member (docs/model3.md).

A run is a sequence of moments, not of clock steps: a decision's deadline, its opening, an
imposed choice, a dated event (or one that follows a choice), the look an event brings to the
decisions it addresses, and the deciding actor's background looks, drawn from the deadline
hazard. :func:`next_moment` says which comes next; one function per kind of moment carries it
out. The Mesa model (:mod:`sim.model.agents`) hands each moment to the agent whose it is, and
the ensemble engine runs :func:`run_member`; both call these same functions.

Random numbers are addressed by (seed, run, stream, index) (docs/model3.md, M3.8) and drawn
where they are used.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.model.jit import njit
from sim.model.philox import philox_block

WAITING, OPEN, RESOLVED, NOT_REACHED = 0, 1, 2, 3
NONE, EXPIRE, OPENING, IMPOSE, EVENT, ADDRESSED, LOOK = -1, 0, 1, 2, 3, 4, 5
MOMENT_NAMES = {EXPIRE: "deadline", OPENING: "opens", IMPOSE: "imposed", EVENT: "event",
                ADDRESSED: "look (event)", LOOK: "look"}
POSITION, SALIENCE, CLOUT = 0, 1, 2
STREAM_LOOK_TIME, STREAM_LOOK_CHOICE, STREAM_EVENT_CHOICE, STREAM_VOTE = 4, 5, 6, 7
LOOKS_PER_DECISION = 1 << 20
BLOCS_PER_DECISION = 1 << 10
_TO_UNIT = 1.0 / 9007199254740992.0


class Member(NamedTuple):
    """One run's arrays, allocated once and refilled for every run of a block."""

    values: np.ndarray  # (Q,) drawn quantities
    stake: np.ndarray  # (S, 3) position, salience, clout now
    status: np.ndarray  # (D,)
    option: np.ndarray  # (D,) -1 while unresolved
    decided: np.ndarray  # (D,) hours, NaN while unresolved
    by_default: np.ndarray  # (D,) bool
    window_opens: np.ndarray  # (D,)
    window_deadline: np.ndarray  # (D,)
    next_look: np.ndarray  # (D,) hour of the next background look, inf for none
    looks: np.ndarray  # (D,) background looks made
    pending: np.ndarray  # (D,) event whose look is due, -1 for none
    pending_h: np.ndarray  # (D,)
    event_due: np.ndarray  # (E,) inf until due
    event_done: np.ndarray  # (E,) bool
    utilities: np.ndarray  # (K,) scratch: the last weighing
    available: np.ndarray  # (K,) bool
    probabilities: np.ndarray  # (K,)
    key: np.ndarray  # (3,) uint64: the seed's two words and the run
    last: np.ndarray  # (4,) the last moment: kind, index, hour, option taken (-1 none)


def new_member(plan, n_quantities: int) -> Member:
    d, k = plan.position.shape
    s, e = plan.stake_column.shape[0], plan.event_h.shape[0]
    return Member(
        values=np.zeros(n_quantities), stake=np.zeros((s, 3)),
        status=np.zeros(d, dtype=np.int64), option=np.full(d, -1, dtype=np.int64),
        decided=np.full(d, np.nan), by_default=np.zeros(d, dtype=np.bool_),
        window_opens=np.zeros(d), window_deadline=np.zeros(d), next_look=np.full(d, np.inf),
        looks=np.zeros(d, dtype=np.int64), pending=np.full(d, -1, dtype=np.int64),
        pending_h=np.zeros(d), event_due=np.full(e, np.inf),
        event_done=np.zeros(e, dtype=np.bool_), utilities=np.zeros(k),
        available=np.zeros(k, dtype=np.bool_), probabilities=np.zeros(k),
        key=np.zeros(3, dtype=np.uint64), last=np.zeros(4),
    )


# -- random numbers, where they are used ---------------------------------------------------


@njit(cache=True)
def uniform(m, stream, index) -> float:
    """Uniform ``index`` of ``stream`` of this run (Philox-4x64-10, as NumPy)."""
    w0, w1, w2, w3 = philox_block(m.key[0], m.key[1], np.uint64(index // 4), m.key[2],
                                  np.uint64(stream), np.uint64(0))
    lane = index % 4
    word = w0 if lane == 0 else w1 if lane == 1 else w2 if lane == 2 else w3
    return (word >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def normal_quantile(p) -> float:
    """The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    cc = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
          -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    if p < 0.02425 or p > 1 - 0.02425:
        q = math.sqrt(-2 * math.log(p if p < 0.5 else 1 - p))
        x = (((((cc[0] * q + cc[1]) * q + cc[2]) * q + cc[3]) * q + cc[4]) * q + cc[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        return x if p < 0.5 else -x
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


# -- the stakes ---------------------------------------------------------------------------


@njit(cache=True)
def salience_at(s, t, m, plan, c) -> float:
    """A stake's salience at hour ``t``: raised as the actor's next election nears (M3.2)."""
    base = m.stake[s, SALIENCE]
    a = plan.stake_actor[s]
    for e in range(plan.election_first[a], plan.election_first[a + 1]):
        if plan.election_h[e] >= t:
            near = math.exp(-(plan.election_h[e] - t) / 24.0 / c.election_horizon_days)
            return 1.0 - (1.0 - base) * (1.0 - near)
    return base


@njit(cache=True)
def withheld(i, k, t, m, plan, c) -> bool:
    """Does an actor whose consent is needed withhold it from option ``k`` (it likes it less
    than the standing option, and cares enough: salience of at least one half)?"""
    standing = plan.standing[i]
    if k == standing:
        return False
    for s in range(plan.stake_first[i], plan.stake_first[i + 1]):
        if plan.stake_consent[s] and salience_at(s, t, m, plan, c) >= 0.5:
            x = m.stake[s, POSITION]
            if abs(plan.position[i, k] - x) > abs(plan.position[i, standing] - x):
                return True
    return False


@njit(cache=True)
def requirement_met(i, k, m, plan) -> bool:
    j = plan.requires_decision[i, k]
    return j < 0 or (m.status[j] == RESOLVED and m.option[j] == plan.requires_option[i, k])


@njit(cache=True)
def weigh(i, t, m, plan, c) -> int:
    """The deciding actor's loss-weighted utility of each option of decision ``i`` at hour
    ``t``, which are available, and the logit probabilities (M3.1, M3.3); returns the number
    of options."""
    n = plan.n_options[i]
    for k in range(n):
        total = 0.0
        for s in range(plan.stake_first[i], plan.stake_first[i + 1]):
            weight = salience_at(s, t, m, plan, c) * m.stake[s, CLOUT]
            total -= weight * abs(plan.position[i, k] - m.stake[s, POSITION])
        m.utilities[k] = total
        m.available[k] = requirement_met(i, k, m, plan) and not withheld(i, k, t, m, plan, c)
    best = -np.inf
    for k in range(n):
        if m.available[k]:
            best = max(best, m.utilities[k])
    norm = 0.0
    for k in range(n):
        m.probabilities[k] = math.exp((m.utilities[k] - best) / plan.temperature[i]) \
            if m.available[k] else 0.0
        norm += m.probabilities[k]
    for k in range(n):
        m.probabilities[k] /= norm
    return n


@njit(cache=True)
def choose(n, u, m) -> int:
    """Inverse-CDF draw from the last weighing's probabilities."""
    cumulative = 0.0
    last = -1
    for k in range(n):
        if m.probabilities[k] > 0.0:
            last = k
            cumulative += m.probabilities[k]
            if u < cumulative:
                return k
    return last


# -- what a moment does --------------------------------------------------------------------


@njit(cache=True)
def apply_effects(first, stop, m, plan) -> None:
    for f in range(first, stop):
        magnitude = m.values[plan.effect_column[f]]
        field = plan.effect_field[f]
        for g in range(plan.effect_target_first[f], plan.effect_target_first[f + 1]):
            s = plan.effect_target_stake[g]
            value = m.stake[s, field] + magnitude if plan.effect_adds[f] else magnitude
            m.stake[s, field] = min(1.0, max(0.0, value))


@njit(cache=True)
def resolve(i, k, t, by_default, m, plan) -> None:
    """Decision ``i`` takes option ``k`` at hour ``t``: its effects apply, and the events that
    follow that choice become due."""
    m.status[i] = RESOLVED
    m.option[i] = k
    m.decided[i] = t
    m.by_default[i] = by_default
    m.next_look[i] = np.inf
    m.pending[i] = -1
    m.last[3] = k
    apply_effects(plan.option_effect_first[i, k], plan.option_effect_first[i, k + 1], m, plan)
    for e in range(plan.event_h.shape[0]):
        if plan.event_if_decision[e] == i and plan.event_if_option[e] == k:
            m.event_due[e] = t + plan.event_after_h[e]


@njit(cache=True)
def draw_next_look(i, m, plan, c) -> None:
    """The next background look at decision ``i`` from the deadline hazard r / (h + f):
    from ``h`` hours left the next is at ``(h + f) u^(1/r) - f`` (none if that is not > 0)."""
    deadline = m.window_deadline[i]
    now = m.window_opens[i] if m.looks[i] == 0 else m.next_look[i]
    u = uniform(m, STREAM_LOOK_TIME, i * LOOKS_PER_DECISION + m.looks[i])
    f = c.attention_floor_hours
    left = (deadline - now + f) * u ** (1.0 / c.attention_rate) - f
    m.next_look[i] = deadline - left if left > 0.0 else np.inf


@njit(cache=True)
def open_decision(i, t, m, plan, c) -> None:
    m.status[i] = OPEN
    m.window_opens[i] = t
    if plan.runs_for[i] > 0.0:
        m.window_deadline[i] = min(plan.deadline_h[i], t + plan.runs_for[i])
    if plan.is_body[i] or plan.imposed_option[i] >= 0:
        return
    m.looks[i] = 0
    draw_next_look(i, m, plan, c)


@njit(cache=True)
def no_look_chance(i, t, m, c) -> float:
    """The chance of no background look at decision ``i`` in the hours left of its window."""
    f = c.attention_floor_hours
    left = max(m.window_deadline[i] - t, 0.0)
    return (f / (left + f)) ** c.attention_rate


@njit(cache=True)
def move_chance(j, o, t, m, plan, c) -> float:
    """The chance that open decision ``j`` takes option ``o`` before its deadline: its
    deciding actor's logit probability at the current stakes, times the chance of a look."""
    weigh(j, t, m, plan, c)
    return m.probabilities[o] * (1.0 - no_look_chance(j, t, m, c))


@njit(cache=True)
def worth_waiting(i, chosen, t, m, plan, c) -> bool:
    """M3.9: is waiting for another actor's pending move worth more than taking ``chosen`` now?
    (Uses the weighing of decision ``i`` in ``m.utilities``; leaves it as it found it.)"""
    n = plan.n_options[i]
    u_chosen = m.utilities[chosen]
    u_default = m.utilities[plan.default[i]]
    best_gain, best_q = 0.0, 0.0
    for k in range(n):
        j = plan.requires_decision[i, k]
        if j < 0 or m.status[j] != OPEN or m.utilities[k] <= u_chosen:
            continue
        gain = m.utilities[k] - u_chosen
        saved = m.utilities[:n].copy()
        available = m.available[:n].copy()
        probabilities = m.probabilities[:n].copy()
        q = move_chance(j, plan.requires_option[i, k], t, m, plan, c)
        m.utilities[:n] = saved
        m.available[:n] = available
        m.probabilities[:n] = probabilities
        if q * gain > best_q * best_gain:
            best_gain, best_q = gain, q
    if best_gain == 0.0:
        return False
    risk = (1.0 - best_q) * no_look_chance(i, t, m, c) * (u_chosen - u_default)
    return best_q * best_gain > risk


@njit(cache=True)
def look(i, t, event, m, plan, c) -> None:
    """The deciding actor looks at decision ``i``: a background look (``event`` -1) or the one
    an event brings; it takes the option it draws unless that is the default."""
    if event >= 0:
        m.pending[i] = -1
        u = uniform(m, STREAM_EVENT_CHOICE, event * plan.n_options.shape[0] + i)
    else:
        u = uniform(m, STREAM_LOOK_CHOICE, i * LOOKS_PER_DECISION + m.looks[i])
        m.looks[i] += 1
        draw_next_look(i, m, plan, c)
    n = weigh(i, t, m, plan, c)
    chosen = choose(n, u, m)
    if chosen != plan.default[i] and not worth_waiting(i, chosen, t, m, plan, c):
        resolve(i, chosen, t, False, m, plan)


@njit(cache=True)
def vote(i, t, m, plan, c) -> None:
    """A body votes on its motion at the deadline (M3.4): each bloc for the motion with the
    logit chance of its position; a disciplined bloc as one, a free one split."""
    default = plan.default[i]
    motion = 1 - default
    yes, seats = 0.0, 0.0
    bloc = 0
    for s in range(plan.stake_first[i], plan.stake_first[i + 1]):
        n = plan.stake_seats[s]
        if n == 0:
            continue
        x = m.stake[s, POSITION]
        gain = abs(plan.position[i, default] - x) - abs(plan.position[i, motion] - x)
        p = 1.0 / (1.0 + math.exp(-gain / plan.temperature[i]))
        u = uniform(m, STREAM_VOTE, i * BLOCS_PER_DECISION + bloc)
        bloc += 1
        if plan.stake_free[s]:
            spread = math.sqrt(n * p * (1.0 - p))
            yes += min(float(n), max(0.0, round(n * p + normal_quantile(u) * spread)))
        elif u < p:
            yes += n
        seats += n
    q = plan.quota[i]
    passes = yes > q * seats if q == 0.5 else yes >= q * seats - 1e-9
    resolve(i, motion if passes else default, t, not passes, m, plan)


@njit(cache=True)
def expire(i, t, m, plan, c) -> None:
    """The deadline: a body votes; otherwise the default happens, or the standing situation
    holds where consent for the default is withheld."""
    if plan.is_body[i]:
        vote(i, t, m, plan, c)
        return
    k = plan.default[i]
    if withheld(i, k, t, m, plan, c):
        k = plan.standing[i]
    resolve(i, k, t, True, m, plan)


@njit(cache=True)
def fire_event(e, t, m, plan) -> None:
    """An event's effects; the open decisions it addresses get a look right after."""
    m.event_done[e] = True
    apply_effects(plan.event_effect_first[e], plan.event_effect_first[e + 1], m, plan)
    for i in range(m.status.shape[0]):
        if plan.event_addresses[e, i] and m.status[i] == OPEN and not plan.is_body[i] \
                and plan.imposed_option[i] < 0:
            m.pending[i] = e
            m.pending_h[i] = t


@njit(cache=True)
def settle(m, plan) -> None:
    """Decisions that can no longer be reached: their earlier decision went another way or
    was not reached."""
    changed = True
    while changed:
        changed = False
        for i in range(m.status.shape[0]):
            j = plan.after_decision[i]
            if m.status[i] != WAITING or j < 0:
                continue
            if m.status[j] == NOT_REACHED or (m.status[j] == RESOLVED
                                               and m.option[j] != plan.after_option[i]):
                m.status[i] = NOT_REACHED
                changed = True


# -- the sequence of moments ---------------------------------------------------------------


@njit(cache=True)
def start(m, plan) -> None:
    m.status[:] = WAITING
    m.option[:] = -1
    m.decided[:] = np.nan
    m.by_default[:] = False
    m.window_opens[:] = plan.opens_h
    m.window_deadline[:] = plan.deadline_h
    m.next_look[:] = np.inf
    m.looks[:] = 0
    m.pending[:] = -1
    m.event_done[:] = False
    m.last[:] = -1.0
    for e in range(plan.event_h.shape[0]):
        m.event_due[e] = np.inf if plan.event_if_decision[e] >= 0 else plan.event_h[e]
    for s in range(plan.stake_column.shape[0]):
        for f in range(3):
            column = plan.stake_column[s, f]
            m.stake[s, f] = m.values[column] if column >= 0 else 1.0


@njit(cache=True)
def next_moment(m, plan) -> tuple:
    """(kind, index, hour) of the next moment, or (NONE, -1, inf) when the run is over. At the
    same hour: deadlines, then openings, imposed choices, events, the looks events bring, and
    background looks; within a kind, in file order."""
    best_t, best_kind, best_i = np.inf, NONE, -1
    for i in range(m.status.shape[0]):
        if m.status[i] == OPEN:
            if m.window_deadline[i] < best_t or (m.window_deadline[i] == best_t
                                                 and EXPIRE < best_kind):
                best_t, best_kind, best_i = m.window_deadline[i], EXPIRE, i
            if plan.imposed_option[i] >= 0:
                at = max(plan.imposed_h[i], m.window_opens[i])
                if at < best_t or (at == best_t and IMPOSE < best_kind):
                    best_t, best_kind, best_i = at, IMPOSE, i
            if m.pending[i] >= 0 and (m.pending_h[i] < best_t or (
                    m.pending_h[i] == best_t and ADDRESSED < best_kind)):
                best_t, best_kind, best_i = m.pending_h[i], ADDRESSED, i
            if m.next_look[i] < best_t:
                best_t, best_kind, best_i = m.next_look[i], LOOK, i
        elif m.status[i] == WAITING:
            at = plan.opens_h[i]
            j = plan.after_decision[i]
            if j >= 0:
                if m.status[j] != RESOLVED:
                    continue
                at = max(at, m.decided[j])
            if at < best_t or (at == best_t and OPENING < best_kind):
                best_t, best_kind, best_i = at, OPENING, i
    for e in range(m.event_due.shape[0]):
        due = m.event_due[e]
        if not m.event_done[e] and due < plan.end_h and (
                due < best_t or (due == best_t and EVENT < best_kind)):
            best_t, best_kind, best_i = due, EVENT, e
    if best_t > plan.end_h:
        return NONE, -1, np.inf
    return best_kind, best_i, best_t


@njit(cache=True)
def carry_out(kind, i, t, m, plan, c) -> None:
    """Carry out one moment (the engine's dispatch; the Mesa model hands each kind to the
    agent whose moment it is, which calls the same functions)."""
    if kind == EXPIRE:
        expire(i, t, m, plan, c)
    elif kind == OPENING:
        if t >= plan.deadline_h[i]:
            m.status[i] = NOT_REACHED
        else:
            open_decision(i, t, m, plan, c)
    elif kind == IMPOSE:
        resolve(i, plan.imposed_option[i], t, False, m, plan)
    elif kind == EVENT:
        fire_event(i, t, m, plan)
    elif kind == ADDRESSED:
        look(i, t, m.pending[i], m, plan, c)
    elif kind == LOOK:
        look(i, t, -1, m, plan, c)
    settle(m, plan)


@njit(cache=True)
def begin_moment(m, plan) -> tuple:
    """The next moment, noted in ``m.last`` (kind, index, hour; the option is set if one is
    taken)."""
    kind, i, t = next_moment(m, plan)
    m.last[0] = kind
    m.last[1] = i
    m.last[2] = t
    m.last[3] = -1.0
    return kind, i, t


@njit(cache=True)
def finish(m) -> None:
    for i in range(m.status.shape[0]):
        if m.status[i] == WAITING:
            m.status[i] = NOT_REACHED


@njit(cache=True)
def run_member(m, plan, c) -> None:
    start(m, plan)
    while True:
        kind, i, t = begin_moment(m, plan)
        if kind == NONE:
            break
        carry_out(kind, i, t, m, plan, c)
    finish(m)


@njit(cache=True, nogil=True)
def run_block(runs, values, m, plan, c, status, option, decided, by_default, deadline,
              stop) -> None:
    """Every member of a block through the one member record ``m``; ``stop`` (one flag) ends
    the block before its next member once set (an interrupted ensemble)."""
    for r in range(runs.shape[0]):
        if stop[0]:
            return
        m.values[:] = values[r]
        m.key[2] = np.uint64(runs[r])
        run_member(m, plan, c)
        status[r] = m.status
        option[r] = m.option
        decided[r] = m.decided
        by_default[r] = m.by_default
        deadline[r] = m.window_deadline
