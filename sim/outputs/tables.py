"""Plain-text tables of an ensemble, as the command line prints them."""

from __future__ import annotations

import numpy as np


def outcome_table(scenario, tally) -> str:
    """Each decision's options: share with its 95% interval (of the runs that reached it), the
    median and interquartile range of hours before the deadline; then the share not reached."""
    lines = [f"{'decision':<26} {'outcome':<24} {'share':>7} {'95% CI':>17} "
             f"{'median h before':>16} {'IQR':>18}"]
    for decision in scenario.decisions:
        summary = tally.summary(decision.id)
        for option in summary.options:
            low, high = summary.interval(option)
            lines.append(f"{decision.id:<26} {option:<24} {summary.share(option):7.3f} "
                         f"{f'[{low:.3f}, {high:.3f}]':>17} {_timing(summary.hours_for(option))}")
        if summary.reached < summary.runs:
            lines.append(f"{decision.id:<26} {'(not reached)':<24} "
                         f"{(summary.runs - summary.reached) / summary.runs:7.3f}   share of all runs")
    return "\n".join(lines)


def _timing(hours: np.ndarray) -> str:
    if not hours.size:
        return f"{'-':>16} {'-':>18}"
    q25, q50, q75 = np.percentile(hours, [25, 50, 75])
    return f"{q50:16.1f} {f'[{q25:.1f}, {q75:.1f}]':>18}"
