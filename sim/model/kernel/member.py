"""One member of an ensemble: its arrays, and its run over the whole clock.

A member is a record of arrays: its drawn ``values``, its table of uniform ``shocks`` (steps x
channels), every role's ``state``, its decision book (status, option, decision time, by
default) and the scratch the decider's rules write (utilities, probabilities, probed terms).
The Mesa model owns one member and its agents step it one role at a time; the ensemble engine
refills one member for each run of a block and calls :func:`run_member`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernel.jit import Record, njit, structref
from sim.model.kernel import layout as L
from sim.model.kernel.steps import STEP_ORDER_INDEX, fire_events, initial_state, role_step, update_decisions


class Member(NamedTuple):
    """A member's arrays (NumPy; the compiled rules receive them as one record)."""

    values: np.ndarray  # (Q,) drawn quantities, ``drawn_quantities`` order
    shocks: np.ndarray  # (S, C) uniform shocks by step and channel
    state: np.ndarray  # (plan.n_state,) fixed state, then each domestic player's
    status: np.ndarray  # (D,) WAITING / OPEN / RESOLVED / NOT_REACHED
    option: np.ndarray  # (D,) chosen option, -1 while unresolved
    decided: np.ndarray  # (D,) hours at which it was decided, NaN while unresolved
    by_default: np.ndarray  # (D,) bool
    window_opens: np.ndarray  # (D,) this run's window of each decision (relative ones are set
    window_deadline: np.ndarray  # (D,) when they open: sim.model.kernel.windows)
    probabilities: np.ndarray  # (D, K) the decider's choice probabilities this step
    utilities: np.ndarray  # (D, K) its option utilities this step (NaN where not weighed)
    terms: np.ndarray  # (D, T, K) its utility terms at the probed step of each decision
    probe: np.ndarray  # (D,) step at which to keep each decision's terms, -1 for none
    expected_away: np.ndarray  # (D,)
    was_open: np.ndarray  # (D,) bool, scratch
    option_terms: np.ndarray  # (T,) scratch
    available: np.ndarray  # (K,) bool, scratch
    move_utilities: np.ndarray  # (N_MOVES,) the counterpart's, scratch
    move_available: np.ndarray  # (N_MOVES,) bool, scratch
    move_probabilities: np.ndarray  # (N_MOVES,) scratch
    counterpart_view: np.ndarray  # (4,) what the counterpart saw this step: talks open, coerced,
    #                               patron pressure, and 1 if it could move
    hypothetical: np.ndarray  # (K,) utilities were a concession made, scratch
    hypothetical_available: np.ndarray  # (K,) bool, scratch
    report: np.ndarray  # (2,) what happened this step: provoked (0/1), counterpart move (-1)


@structref.register
class CompiledMemberType(Record):
    pass


class CompiledMember(structref.StructRefProxy):
    """A :class:`Member` as one compiled record, sharing its arrays."""


structref.define_proxy(CompiledMember, CompiledMemberType, list(Member._fields))


def new_member(n_quantities: int, n_steps: int, n_channels: int, n_decisions: int,
               width: int, n_state: int = L.N_STATE) -> Member:
    """A member's arrays, allocated once and refilled for every run."""
    d, k = n_decisions, width
    return Member(
        values=np.zeros(n_quantities), shocks=np.zeros((n_steps, n_channels)),
        state=np.zeros(n_state), status=np.zeros(d, dtype=np.int64),
        option=np.full(d, -1, dtype=np.int64), decided=np.full(d, np.nan),
        by_default=np.zeros(d, dtype=np.bool_), window_opens=np.zeros(d),
        window_deadline=np.zeros(d), probabilities=np.zeros((d, k)),
        utilities=np.full((d, k), np.nan), terms=np.full((d, L.N_TERMS, k), np.nan),
        probe=np.full(d, -1, dtype=np.int64), expected_away=np.zeros(d),
        was_open=np.zeros(d, dtype=np.bool_), option_terms=np.zeros(L.N_TERMS),
        available=np.zeros(k, dtype=np.bool_), move_utilities=np.zeros(L.N_MOVES),
        move_available=np.zeros(L.N_MOVES, dtype=np.bool_),
        move_probabilities=np.zeros(L.N_MOVES),
        counterpart_view=np.zeros(4), hypothetical=np.zeros(k),
        hypothetical_available=np.zeros(k, dtype=np.bool_),
        report=np.zeros(2, dtype=np.int64),
    )


def member_for(plan, n_quantities: int) -> Member:
    """A member shaped for ``plan`` (a :class:`sim.model.kernel.plan.Plan`) and its quantities."""
    n_decisions, width = plan.cooperation.shape
    return new_member(n_quantities, len(plan.step_starts), plan.n_channels, n_decisions, width,
                      plan.n_state)


def compiled(member: Member) -> CompiledMember:
    return CompiledMember(*member)


@njit(cache=True)
def start(m, plan) -> None:
    """Reset the book and scratch and set the initial state from the member's values."""
    m.status[:] = L.WAITING
    m.option[:] = -1
    m.decided[:] = np.nan
    m.by_default[:] = False
    m.window_opens[:] = plan.opens_h
    m.window_deadline[:] = plan.deadline_h
    m.utilities[:, :] = np.nan
    m.terms[:, :, :] = np.nan
    initial_state(m, plan)


@njit(cache=True)
def step(k, m, plan, c) -> None:
    """Step ``k``: the due events, the decision windows, then every role in STEP_ORDER."""
    now = plan.step_starts[k]
    dt = plan.step_lengths[k]
    fire_events(k, m, plan)
    update_decisions(now, m, plan)
    for role in STEP_ORDER_INDEX:
        role_step(role, k, now, dt, m, plan, c)


@njit(cache=True)
def finish(m, plan) -> None:
    """After the last step: decisions still open close by default."""
    update_decisions(plan.end_h, m, plan)


@njit(cache=True)
def run_member(m, plan, c, trajectory) -> None:
    """Run one member over the clock; ``trajectory`` (steps, state slots) receives the state
    after each step when it has rows."""
    start(m, plan)
    record = trajectory.shape[0] > 0
    for k in range(plan.step_starts.shape[0]):
        step(k, m, plan, c)
        if record:
            trajectory[k, :] = m.state
    finish(m, plan)
