"""What an ensemble of Model 3 costs, estimated from the plan's sizes before any run.

A Model 3 run is a sequence of moments, not of clock steps (docs/model3.md), so Model 2's
estimate (steps x decisions) does not apply. One member's work, in units:

    looks_i  = r ln(1 + W_i / f) + a_i      (only a_i for a body's or an imposed decision)
    moments  = E + sum_i (2 + looks_i)
    work     = moments x (2D + E) + sum_i looks_i x 2 K_i S_i + sum_bodies S_i

with D decisions, E events, and for decision ``i``: its window W_i in hours (from its opening
to its deadline, or ``runs_for`` when that is shorter), K_i options, S_i stakes and a_i events
that address it; r and f are the deadline hazard's ``attention_rate`` and
``attention_floor_hours``. ``r ln(1 + W/f)`` is the expected number of background looks the
hazard r / (h + f) brings over a whole window (fewer when the decision is taken early). Every
moment looks over the decisions and events for the next one and settles the decisions
(2D + E); every look weighs each option against each stake, twice at most (the second time to
judge a pending move, M3.9); a body's vote counts each bloc. ``runs`` members cost ``runs`` x
that on the compiled engine, and :data:`AGENTS_FACTOR` times as much on the Mesa agents (Python
carries out each moment there).

Measured on the 24 library scenarios (benchmarks/model3_cost.py: one thread, 20,000 members
each, on a shared 2-core machine): the formula gives 154 to 2,543 units per member; a unit took
about 10 to 130 ns on the compiled engine (median about 30; the smallest scenarios cost most per
unit, a member's start being a fixed cost), and 600 to 4,700 ns on the agents (median about
1,100: some 40 times the compiled engine's). The limit :data:`sim.validation.MAX_WORK` (10**10
units, Model 2's) is therefore about 2 to 20 minutes of one core on either engine, and lets every
library scenario run some 4 million members (compiled) or 100,000 (agents) without
``allow_large``. The estimate is an upper bound: where events address decisions already taken,
their looks never happen (a scenario of 200 decisions and 100 events addressing all of them
is estimated at 1.1e7 units a member and takes about 13 ms, 1.2 ns a unit).
"""

from __future__ import annotations

import numpy as np

from sim import validation
from sim.model.constants import Constants
from sim.model.plan import Plan, build_plan
from sim.model.scenario import Scenario

HOW = "--allow-large (allow_large=True in Python)"
AGENTS_FACTOR = 40  # a unit on the Mesa agents costs about 40 on the compiled engine (measured)


def expected_looks(plan: Plan, constants: Constants) -> np.ndarray:
    """(D,) the looks each decision gets at most in one member: the hazard's expected
    background looks over its whole window, plus one per event that addresses it."""
    window = plan.deadline_h - plan.opens_h
    window = np.where(plan.runs_for > 0, np.minimum(window, plan.runs_for), window)
    background = constants.attention_rate * np.log1p(np.maximum(window, 0.0)
                                                     / constants.attention_floor_hours)
    background = np.where(plan.is_body | (plan.imposed_option >= 0), 0.0, background)
    return background + plan.event_addresses.sum(axis=0)


def member_work(plan: Plan, constants: Constants, engine: str = "vector") -> float:
    """One member's units of work on ``engine`` (the module's formula)."""
    decisions, events = len(plan.opens_h), len(plan.event_h)
    looks = expected_looks(plan, constants)
    stakes = np.diff(plan.stake_first)
    moments = events + float(np.sum(2.0 + looks))
    weighing = float(np.sum(looks * 2.0 * plan.n_options * stakes))
    voting = float(np.sum(np.where(plan.is_body, stakes, 0)))
    work = moments * (2 * decisions + events) + weighing + voting
    return work * (AGENTS_FACTOR if engine == "agents" else 1)


def ensemble_work(scenario: Scenario, constants: Constants, runs: int,
                  engine: str = "vector") -> float:
    """``runs`` members' units of work on ``engine``."""
    return runs * member_work(build_plan(scenario, constants), constants, engine)


def check_cost(what: str, scenario: Scenario, constants: Constants, runs: int,
               allow_large: bool = False, engine: str = "vector",
               runs_text: str | None = None, how: str = HOW) -> float:
    """Refuse ``runs`` members of ``scenario`` on ``engine`` (as
    :class:`sim.validation.TooLarge`, one sentence) when their estimated work exceeds
    :data:`sim.validation.MAX_WORK`, unless ``allow_large``; returns the estimate.
    ``runs_text`` words the runs (e.g. "1,000 runs x 3 ensembles" for a validation)."""
    allow_large = validation.flag("allow_large", allow_large)
    per_member = member_work(build_plan(scenario, constants), constants, engine)
    work = runs * per_member
    if work > validation.MAX_WORK and not allow_large:
        shown = runs_text or f"{runs:,} runs"
        on = " on the agents engine" if engine == "agents" else ""
        raise validation.TooLarge(
            f"{what} would take about {work:.2g} units of work ({shown} x "
            f"{_per_member_text(per_member)} units per run of {scenario.id}{on}), above the "
            f"limit of {validation.MAX_WORK:.0e} units; pass {how} to run it anyway")
    return work


def _per_member_text(units: float) -> str:
    return f"{units:,.0f}" if units < 1e9 else f"{units:.2g}"


def block_members(member_units: float, block_units: float) -> int:
    """Members per block so that a block holds about ``block_units`` (at least one)."""
    return max(1, int(block_units // max(member_units, 1.0)))
