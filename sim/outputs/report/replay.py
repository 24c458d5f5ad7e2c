"""One run replayed by the Mesa agents, read back for the report's timeline: the state it plots,
the deciding actor's utilities, the events and the run's decisions (:func:`trace_run`, Model 3;
:func:`traced`, a Model 2 model's data collector, which the teaching page reads)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from sim.model.scenario import Scenario, as_aware

ROLE_SERIES = (  # (role, state variable, label) plotted on the traced run's timeline
    ("decider", "opposition", "public opposition"),
    ("patron", "pressure", "pressure"),
    ("decider", "threat", "perceived threat"),
)


@dataclass(frozen=True)
class TracedRun:
    """Run 0 replayed by the Mesa agents with the data collector on."""

    times: list[datetime]
    series: dict[str, np.ndarray]  # label -> state after each step
    utilities: dict[str, np.ndarray]  # "decision: option" -> decider's utility
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


def trace_run(scenario: Any, constants_values: dict[str, float], seed: int) -> TracedRun:
    """Replay run 0 of ``seed`` with Model 3's Mesa agents (DiplomacyModel3), moment by moment:
    each stake's salience in the first decision, the deciding actor's utility of each option at
    its latest look, the events that fired and the decisions taken."""
    from sim.model3 import kernel as K
    from sim.model3.agents import DiplomacyModel3
    from sim.model3.constants import Constants

    model = DiplomacyModel3(scenario, Constants(**constants_values), seed, 0)
    m, sc = model.member, model.scenario
    first = sc.decisions[0]
    rows = range(int(model.plan.stake_first[0]), int(model.plan.stake_first[1]))
    salience = {f"{sc.actors[a].name.split(' (')[0]}: salience in {first.id}": row
                for a, row in zip(first.stakes, rows)}
    latest = {f"{d.id}: {o.id}": math.nan for d in sc.decisions for o in d.options}
    times: list[datetime] = []
    series: dict[str, list[float]] = {label: [] for label in salience}
    utilities: dict[str, list[float]] = {key: [] for key in latest}
    events: list[tuple[datetime, str, str]] = []

    def local(hours: float) -> datetime:
        return model.moment(hours).replace(tzinfo=None)

    while True:
        model.step()
        if not model.running:
            break
        kind, i, t = int(m.last[0]), int(m.last[1]), float(m.last[2])
        if kind in (K.LOOK, K.ADDRESSED):
            for k, option in enumerate(sc.decisions[i].options):
                latest[f"{sc.decisions[i].id}: {option.id}"] = float(m.utilities[k])
        elif kind == K.EVENT:
            events.append((local(t), sc.events[i].id, sc.events[i].description))
        times.append(local(t))
        for label, row in salience.items():
            series[label].append(float(m.stake[row, 1]))
        for key, value in latest.items():
            utilities[key].append(value)
    decisions = [(local(float(m.decided[i])), d.id, *model.outcome(i)[:2])
                 for i, d in enumerate(sc.decisions) if m.status[i] == K.RESOLVED]
    start = as_aware(sc.clock.start)
    return TracedRun(times=times, series={k: np.array(v) for k, v in series.items()},
                     utilities={k: np.array(v) for k, v in utilities.items()}, events=events,
                     decisions=decisions, outcomes={d: o for d, (o, _, _) in model.outcomes().items()},
                     start=start, span=(local(0.0), local(model.plan.end_h)))


def _role_series(model: Any, data: Any) -> dict[str, np.ndarray]:
    """The collected state variables of ROLE_SERIES, and each domestic player's pressing,
    labelled by actor and role."""
    series = {}
    for role, variable, label in ROLE_SERIES:
        agent = model.by_role.get(role)
        column = f"{agent.actor_id}.{variable}" if agent is not None else None
        if column in data.columns:
            series[f"{agent.name} ({role}): {label}"] = data[column].to_numpy(dtype=float)
    for agent in model.agents:  # each domestic player: how hard it presses the executive
        column = f"{agent.actor_id}.pressing"
        if agent.role == "domestic" and column in data.columns:
            short = agent.name.split(" (")[0]  # the name without its gloss, for the legend
            series[f"{short} (domestic): pressing"] = data[column].to_numpy(dtype=float)
    return series


def collected_so_far(collector: Any) -> Any:
    """The data collector's model variables as a table of the steps every column holds. The
    teaching page draws while a run plays in another thread, so a step may be half collected
    (one column a row longer than another): that step is left out until it is whole."""
    import pandas as pd

    columns = {name: list(values) for name, values in collector.model_vars.items()}
    rows = min((len(values) for values in columns.values()), default=0)
    return pd.DataFrame({name: values[:rows] for name, values in columns.items()})


def traced(model: Any) -> TracedRun:
    """What a traced model's data collector holds so far (a finished run, or one part way
    through, as the teaching page shows it), by role."""
    from sim.engine.runner import run_rows

    scenario = model.scenario
    data = collected_so_far(model.datacollector)

    def local(hours: float) -> datetime:
        return model.moment(hours).replace(tzinfo=None)

    utilities = {
        f"{key.split('.', 2)[1]}: {key.split('.', 2)[2]}": data[key].to_numpy(dtype=float)
        for key in data.columns if key.startswith("utility.")
    }
    end = float(model.clock.boundaries[-1])
    events = [
        (local(model.clock.hours(e.time)), e.id, e.description)
        for e in sorted(scenario.events, key=lambda e: as_aware(e.time))
        if 0.0 <= model.clock.hours(e.time) <= end
    ]
    decisions = [(local(d.decided_h), d.id, d.outcome, d.by_default)
                 for d in model.decisions if d.status == "resolved"]
    return TracedRun(
        times=[local(h) for h in model.clock.step_starts.tolist()[: len(data)]],
        series=_role_series(model, data),
        utilities=utilities,
        events=events,
        decisions=decisions,
        outcomes={str(r["decision"]): str(r["outcome"]) for r in run_rows(model, 0)},
        start=model.clock.start,
        span=(local(0.0), local(end)),
    )
