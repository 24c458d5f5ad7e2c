"""An ensemble's outcomes in summary: each decision's option counts and timing, the tidy
rows' columns, and the Wilson interval of a share."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NOT_REACHED = "not_reached"
RUN_COLUMNS = ("run", "decision", "outcome", "by_default", "decided_at", "hours_before_deadline")


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95% Wilson score interval for a binomial proportion (good near 0 and 1)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


class Tally:
    """Outcomes and decision times of an ensemble, kept as compact arrays so that an
    ensemble streamed in chunks can be summarised without keeping its rows."""

    def __init__(self, scenario):
        self.options = {d.id: tuple(o.id for o in d.options) for d in scenario.decisions}
        self._codes: dict[str, list[np.ndarray]] = {d: [] for d in self.options}
        self._hours: dict[str, list[np.ndarray]] = {d: [] for d in self.options}

    def add(self, rows: list[dict[str, object]]) -> Tally:
        """Count tidy rows (as the runners produce them)."""
        codes: dict[str, list[int]] = {d: [] for d in self.options}
        hours: dict[str, list[float]] = {d: [] for d in self.options}
        for row in rows:
            decision = str(row["decision"])
            outcome = str(row["outcome"])
            codes[decision].append(
                -1 if outcome == NOT_REACHED else self.options[decision].index(outcome)
            )
            hours[decision].append(float(row["hours_before_deadline"]))  # type: ignore[arg-type]
        for decision in self.options:
            self._codes[decision].append(np.asarray(codes[decision], dtype=np.int16))
            self._hours[decision].append(np.asarray(hours[decision], dtype=float))
        return self

    def summary(self, decision_id: str) -> DecisionSummary:
        codes = np.concatenate(self._codes[decision_id]) if self._codes[decision_id] else np.zeros(0, np.int16)
        hours = np.concatenate(self._hours[decision_id]) if self._hours[decision_id] else np.zeros(0)
        return DecisionSummary.from_codes(decision_id, self.options[decision_id], codes, hours)


@dataclass(frozen=True)
class DecisionSummary:
    """Outcome shares and timing of one decision across an ensemble."""

    decision: str
    options: tuple[str, ...]
    runs: int
    reached: int
    counts: dict[str, int]
    hours_before_deadline: np.ndarray  # of runs that reached the decision
    chosen: np.ndarray  # option index of each run that reached the decision

    @classmethod
    def from_codes(cls, decision: str, options: tuple[str, ...], codes: np.ndarray,
                   hours: np.ndarray) -> DecisionSummary:
        """From one option index per run (-1: not reached) and its hours before the deadline."""
        reached = codes >= 0
        return cls(
            decision=decision,
            options=options,
            runs=int(codes.size),
            reached=int(reached.sum()),
            counts={o: int((codes == i).sum()) for i, o in enumerate(options)},
            hours_before_deadline=hours[reached],
            chosen=codes[reached],
        )

    def hours_for(self, option: str) -> np.ndarray:
        """Hours before the deadline of the runs that chose ``option``."""
        return self.hours_before_deadline[self.chosen == self.options.index(option)]

    def share(self, option: str) -> float:
        """Share of runs that reached the decision and chose ``option``."""
        return self.counts[option] / self.reached if self.reached else math.nan

    def interval(self, option: str) -> tuple[float, float]:
        return wilson_interval(self.counts[option], self.reached)

    @property
    def shares(self) -> dict[str, float]:
        return {o: self.share(o) for o in self.options}

    @property
    def modal_outcome(self) -> str:
        if not self.reached:
            return NOT_REACHED
        return max(self.options, key=lambda o: (self.counts[o], -self.options.index(o)))

    def hours_quantiles(self) -> tuple[float, float, float]:
        """(25th, 50th, 75th) percentile of hours before the deadline."""
        if self.hours_before_deadline.size == 0:
            return (math.nan, math.nan, math.nan)
        q = np.percentile(self.hours_before_deadline, [25, 50, 75])
        return (float(q[0]), float(q[1]), float(q[2]))
