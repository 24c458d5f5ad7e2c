"""Each run's own decision windows: fixed ones from the file, relative ones set as they open.

A decision with a fixed window keeps the scenario's ``opens`` and ``deadline``, and its
attention is read from the plan's precomputed tables. A decision whose window is counted from
the earlier decision (``runs_for``, ``resumes``: docs/model.md, M12) gets its window in each
run when it opens, into ``m.window_opens`` and ``m.window_deadline``; its attention then
follows that run's deadline by the same schedules (:mod:`sim.model.kernel.rules`), computed
here per member.
"""

from __future__ import annotations

import math

from sim.model.kernel.jit import njit
from sim.model.kernel import layout as L
from sim.model.kernel import rules


@njit(cache=True)
def set_window(i, j, m, plan) -> None:
    """Decision ``i``'s window in this run, once its earlier decision ``j`` was taken: it opens
    then (not before the file's ``opens``) and runs ``runs_for`` hours, plus what was left of
    the resumed decision's window when that one was taken; never past the file's deadline."""
    start = m.decided[j]
    length = plan.runs_for_h[i]
    r = plan.resumes_decision[i]
    if r >= 0 and m.status[r] == L.RESOLVED:
        length += max(m.window_deadline[r] - m.decided[r], 0.0)
    m.window_opens[i] = max(plan.opens_h[i], start)
    m.window_deadline[i] = min(plan.deadline_h[i], start + length)


@njit(cache=True, inline="always")
def attention_chance(k, i, m, plan, c) -> float:
    """Chance of reconsidering decision ``i`` during step ``k`` (the plan's table for a fixed
    window; for a relative one, the same schedule to this run's deadline)."""
    if not plan.relative_window[i]:
        return plan.attention[k, i]
    now, dt = plan.step_starts[k], plan.step_lengths[k]
    deadline = m.window_deadline[i]
    rate, floor = c.attention_rate, c.attention_floor_hours
    if not plan.even_attention[i]:
        return rules.attention_probability(deadline - now, dt, rate, floor)
    if now >= deadline:
        return 0.0
    hazard = rules.even_attention_rate(deadline - m.window_opens[i], rate, floor)
    return rules.even_attention_probability(min(dt, deadline - now), hazard)


@njit(cache=True, inline="always")
def no_later_look(k, i, m, plan, c) -> float:
    """Chance of no look at decision ``i`` in the steps after step ``k``. For a relative
    window the product of ``1 - attention`` over the later steps telescopes: with the deadline
    schedule to ``((h_last + f) / (h_k + f)) ** r`` (``h`` the hours left at the end of step
    ``k`` and of the clock), with even attention to ``exp(-hazard · hours left after k)``."""
    if not plan.relative_window[i]:
        return plan.no_later_look[k, i]
    after = plan.step_starts[k] + plan.step_lengths[k]
    deadline = m.window_deadline[i]
    rate, floor = c.attention_rate, c.attention_floor_hours
    if not plan.even_attention[i]:
        left = max(deadline - after, 0.0)
        beyond = max(deadline - plan.end_h, 0.0)
        return ((beyond + floor) / (left + floor)) ** rate
    hazard = rules.even_attention_rate(deadline - m.window_opens[i], rate, floor)
    return math.exp(-hazard * max(min(deadline, plan.end_h) - after, 0.0))
