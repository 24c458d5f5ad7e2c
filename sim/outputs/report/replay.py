"""One run replayed by the Mesa agents (Model 3), read back for the report's timeline: each
option's chance at every look of the deciding actor, the events and the run's decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from sim.formats.common import as_aware


@dataclass(frozen=True)
class TracedRun:
    """Run 0 replayed by the Mesa agents."""

    times: list[datetime]  # every look of the run
    series: dict[str, np.ndarray]  # "decision: option" -> its chance at each look (NaN before)
    utilities: dict[str, np.ndarray]  # unused by Model 3's timeline (kept for the plot's shape)
    events: list[tuple[datetime, str, str]]  # (time, id, description)
    decisions: list[tuple[datetime, str, str, bool]]  # (time, decision, option, by default)
    outcomes: dict[str, str]  # decision -> outcome or not_reached
    start: datetime  # the clock's start, in the scenario's time zone
    span: tuple[datetime, datetime] | None = None  # the whole clock, for the time axis

    @property
    def timezone(self) -> str:
        """The clock's UTC offset, for the time axis label."""
        return self.start.strftime("UTC%z") if self.start.utcoffset() is not None else ""

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the clock's time zone, as a naive datetime (for the plot's axis)."""
        return as_aware(moment).astimezone(self.start.tzinfo).replace(tzinfo=None)


def trace_run(scenario, constants_values: dict[str, float], seed: int) -> TracedRun:
    """Replay run 0 of ``seed`` with the agents (the page's traced run, nothing changed)."""
    from sim.experiments.trace import TracedRun as Traced
    from sim.experiments.whatif import Change
    from sim.model.constants import Constants

    model = Traced(scenario.without_record(), Change(), Constants(**constants_values), seed, 0)
    while model.running:
        model.step()
    return traced(model)


def traced(model) -> TracedRun:
    """What a traced Model 3 run holds: its looks, events and decisions."""
    s = model.scenario
    start = as_aware(s.clock.start)

    def local(hours: float) -> datetime:
        return model.moment(hours).astimezone(start.tzinfo).replace(tzinfo=None)

    m = model.member
    hours = np.array([look.hours for look in model.looks])
    times = [local(h) for h in hours]
    series: dict[str, np.ndarray] = {}
    for n, look in enumerate(model.looks):
        d = s.decisions[look.decision]
        closed = float(m.decided[look.decision]) if np.isfinite(m.decided[look.decision]) \
            else np.inf
        for k, option in enumerate(d.options):
            line = series.setdefault(f"{d.id}: {option.id}", np.full(len(times), np.nan))
            line[n:] = np.where(hours[n:] <= closed, look.probabilities[k], np.nan)
    by_id = {e.id: e for e in s.events}
    events = [(local(h), e, by_id[e].description) for h, e in model.fired]
    outcomes = model.outcomes()
    decisions = [(local(float(m.decided[i])), d.id, outcomes[d.id][0], outcomes[d.id][1])
                 for i, d in enumerate(s.decisions) if outcomes[d.id][0] != "not_reached"]
    end = (as_aware(s.clock.end) - start).total_seconds() / 3600.0
    return TracedRun(times, series, {}, events, decisions,
                     {d: o for d, (o, _, _) in outcomes.items()}, start,
                     (local(0.0), local(end)))
