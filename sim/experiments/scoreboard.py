"""One line per forecaster over every recorded decision scored: the model against the naive
baselines, with bootstrap intervals.

For each forecaster (the model, "status quo", "uniform") the scoreboard gives the number of
decisions scored, the mean multi-category Brier score and the mean log score, each with a 95%
percentile-bootstrap interval over decisions (decisions resampled with replacement; the
resampling is seeded, so the same seed prints the same intervals). With a handful of decisions
the intervals are wide, and they say so: that width is the honest uncertainty of a score over
few recorded cases. A decision the model never reached is left out of the model's means (it
has no forecast there) and counted in ``unscored``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from sim.experiments.validate import DecisionScore

BOOTSTRAP_SAMPLES = 2000
FORECASTERS = (("model", "brier", "log_score"),
               ("status quo", "brier_status_quo", "log_score_status_quo"),
               ("uniform", "brier_uniform", "log_score_uniform"),
               ("veto players", "brier_veto_players", "log_score_veto_players"),
               ("w. median", "brier_weighted_median", "log_score_weighted_median"),
               ("w. mean", "brier_weighted_mean", "log_score_weighted_mean"))


@dataclass(frozen=True)
class ScoreLine:
    """One forecaster's mean scores over the decisions it forecast."""

    forecaster: str
    decisions: int
    unscored: int
    mean_brier: float
    brier_low: float
    brier_high: float
    mean_log: float
    log_low: float
    log_high: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _mean_interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap interval (non-finite values kept: a -inf log score
    makes the mean -inf, as it should)."""
    if values.size == 0:
        return (math.nan, math.nan, math.nan)
    with np.errstate(invalid="ignore"):
        means = values[rng.integers(0, values.size, size=(BOOTSTRAP_SAMPLES, values.size))].mean(axis=1)
        low, high = np.percentile(means, [2.5, 97.5]) if np.all(np.isfinite(means)) else (
            float(np.min(means)), float(np.max(means)))
    return float(values.mean()), float(low), float(high)


def scoreboard(scores: list[DecisionScore], seed: int) -> list[ScoreLine]:
    """The model and both baselines over ``scores``; the same decisions are resampled for
    every forecaster (paired), from a generator seeded by ``seed``."""
    lines = []
    for name, brier_field, log_field in FORECASTERS:
        rows = [s for s in scores if not math.isnan(getattr(s, brier_field))]
        if not rows and brier_field.endswith(("players", "median", "mean")):
            continue  # a reference forecaster Model 2's files cannot feed
        brier = np.array([getattr(s, brier_field) for s in rows], dtype=float)
        log = np.array([getattr(s, log_field) for s in rows], dtype=float)
        b = _mean_interval(brier, np.random.default_rng([seed, 1]))
        g = _mean_interval(log, np.random.default_rng([seed, 1]))
        lines.append(ScoreLine(name, len(rows), len(scores) - len(rows), *b, *g))
    return lines


def _number(value: float, digits: int = 3) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value:.{digits}f}"


def format_scoreboard(lines: list[ScoreLine]) -> str:
    """The scoreboard as the command prints it."""
    header = (f"{'scoreboard':<12} {'decisions':>9}  {'mean Brier [95% CI]':<26} "
              "mean log score [95% CI]")
    out = [header, "-" * len(header)]
    for line in lines:
        brier = f"{_number(line.mean_brier)} [{_number(line.brier_low)}, {_number(line.brier_high)}]"
        log = f"{_number(line.mean_log, 2)} [{_number(line.log_low, 2)}, {_number(line.log_high, 2)}]"
        count = f"{line.decisions}" + (f" (+{line.unscored} unreached)" if line.unscored else "")
        out.append(f"{line.forecaster:<12} {count:>9}  {brier:<26} {log}")
    out.append("")
    out.append(f"Means over the recorded decisions scored; intervals: 95% percentile bootstrap over "
               f"decisions ({BOOTSTRAP_SAMPLES} resamples, paired across forecasters). Lower Brier "
               "and higher log score are better.")
    return "\n".join(out)


def format_breakdown(scores: list[DecisionScore], kinds: dict[str, str]) -> str:
    """Mean Brier of the model and of each forecaster by kind of episode (``kinds``: scenario
    id -> kind), over the decisions the model reached."""
    groups: dict[str, list[DecisionScore]] = {}
    for s in scores:
        if not math.isnan(s.brier):
            groups.setdefault(kinds.get(s.scenario, "other"), []).append(s)
    names = [name for name, field, _ in FORECASTERS
             if any(not math.isnan(getattr(s, field)) for s in scores)]
    fields = [field for name, field, _ in FORECASTERS if name in names]
    header = f"{'by kind (mean Brier)':<22} {'decisions':>9} " + " ".join(f"{n:>12}" for n in names)
    out = [header, "-" * len(header)]
    for kind in sorted(groups):
        rows = groups[kind]
        means = [float(np.mean([getattr(s, f) for s in rows])) for f in fields]
        out.append(f"{kind:<22} {len(rows):>9} " + " ".join(f"{_number(m):>12}" for m in means))
    return "\n".join(out)
