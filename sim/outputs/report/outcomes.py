"""One decision's ensemble read back from a runs table: its shares with Wilson intervals and
its timing, and the table the report shows of them."""

from __future__ import annotations

import math

import numpy as np

from sim.model.summary import NOT_REACHED, DecisionSummary
from sim.model.scenario import Scenario
from sim.outputs.report.document import Table
from sim.outputs.report.numbers import f1, f3, interval1, interval3


def summarise(outcomes: list[str], hours: np.ndarray, decision: str,
              options: tuple[str, ...]) -> DecisionSummary:
    """The ensemble summary (shares, Wilson intervals, timing) of one decision's runs."""
    index = {o: i for i, o in enumerate(options)}
    codes = np.array([-1 if o == NOT_REACHED else index[o] for o in outcomes], dtype=np.int16)
    return DecisionSummary.from_codes(decision, options, codes, hours)


def options_of(decision: str, outcomes: list[str], scenario: Scenario | None) -> tuple[str, ...]:
    """The decision's options: the scenario's, else those seen in the runs (sorted)."""
    seen = sorted({o for o in outcomes if o != NOT_REACHED})
    if scenario is not None:
        try:
            options = tuple(o.id for o in scenario.decision(decision).options)
        except KeyError:
            return tuple(seen)
        if set(seen) <= set(options):
            return options
    return tuple(seen)


def _quartiles(hours: np.ndarray) -> tuple[float, float, float]:
    if hours.size == 0:
        return (math.nan, math.nan, math.nan)
    q25, q50, q75 = np.percentile(hours, [25, 50, 75])
    return float(q25), float(q50), float(q75)


def outcome_table(summary: DecisionSummary, recorded: str | None) -> Table:
    """Shares with 95% Wilson intervals and decision times, one row per option."""
    rows = []
    for option in summary.options:
        low, high = summary.interval(option)
        q25, q50, q75 = _quartiles(summary.hours_for(option))
        name = f"{option} (recorded)" if option == recorded else option
        rows.append([name, str(summary.counts[option]), f3(summary.share(option)),
                     interval3(low, high), f1(q50), interval1(q25, q75)])
    q25, q50, q75 = _quartiles(summary.hours_before_deadline)
    rows.append(["(all reached runs)", str(summary.reached), "", "", f1(q50), interval1(q25, q75)])
    if summary.reached < summary.runs:
        rows.append(["(not reached: share of all runs)", str(summary.runs - summary.reached),
                     f3((summary.runs - summary.reached) / summary.runs), "", "", ""])
    return Table(
        caption=f"{summary.decision}: outcomes among the {summary.reached} of {summary.runs} runs "
                "that reached it",
        header=["outcome", "runs", "share", "95% CI", "median h before", "IQR"],
        rows=rows,
    )
