"""The simulated clock: step boundaries from a scenario, finer before each deadline.

Steps are intervals ``[t_k, t_k+1)`` in hours since the clock's start. Coarse steps cover the
whole span; inside ``fine_window_hours`` before every decision deadline the step shrinks to
``fine_step_hours``, so "an hour before the ceremony" and "six hours before the deadline" are
told apart from "days before". Deadlines and decision openings are boundaries too. Event times
are not: an event applies at the first step starting at or after it, so the grid depends only
on the clock and the decisions, and a counterfactual that moves, adds or removes events runs
on the same grid (and the same shock table) as its baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from sim.model.scenario import Scenario, as_aware


@dataclass(frozen=True)
class Clock:
    """Step boundaries in hours since ``start``."""

    start: datetime
    boundaries: np.ndarray  # shape (n_steps + 1,), strictly increasing, first 0, last = end

    @property
    def n_steps(self) -> int:
        return len(self.boundaries) - 1

    @property
    def step_starts(self) -> np.ndarray:
        return self.boundaries[:-1]

    @property
    def step_lengths(self) -> np.ndarray:
        return np.diff(self.boundaries)

    def hours(self, moment: datetime | date) -> float:
        """Hours from the clock's start to ``moment``."""
        return (as_aware(moment) - self.start).total_seconds() / 3600.0

    def moment(self, hours: float) -> datetime:
        return self.start + timedelta(hours=float(hours))


def build_clock(scenario: Scenario) -> Clock:
    spec = scenario.clock
    start = as_aware(spec.start)
    end_h = (as_aware(spec.end) - start).total_seconds() / 3600.0
    points = set(np.arange(0.0, end_h, spec.step_hours).round(9).tolist())
    points.add(round(end_h, 9))
    for decision in scenario.decisions:
        deadline = (as_aware(decision.deadline) - start).total_seconds() / 3600.0
        opens = (as_aware(decision.opens) - start).total_seconds() / 3600.0
        points.update({round(deadline, 9), round(opens, 9)})
        window_start = max(0.0, deadline - spec.fine_window_hours)
        points.update(np.arange(deadline, window_start, -spec.fine_step_hours).round(9).tolist())
    boundaries = np.array(sorted(p for p in points if 0.0 <= p <= end_h), dtype=float)
    return Clock(start=start, boundaries=boundaries)
