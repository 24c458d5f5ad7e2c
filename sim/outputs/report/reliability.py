"""Reliability of the model's forecasts over the recorded decisions: every option's forecast
probability (its share among the runs reaching the decision) against whether it was the
recorded option, in equal bins of probability. A reliable forecaster's options given 0.3 are
the recorded one about 3 times in 10: its bins lie on the diagonal. With a handful of recorded
decisions the bins hold a few forecasts each, and the intervals say so."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.summary import wilson_interval
from sim.outputs.report.document import Table
from sim.outputs.report.numbers import f3, interval3, missing

BINS = 5  # equal bins of width 0.2: a few recorded decisions fill no more


@dataclass(frozen=True)
class Reliability:
    """The forecasts of every scored decision and their bins."""

    forecasts: np.ndarray  # each option's forecast probability, decision by decision
    hits: np.ndarray  # 1 where that option was the recorded one, else 0
    decisions: int  # recorded decisions with a forecast
    unscored: int  # recorded decisions without one (never reached in the runs)
    edges: np.ndarray  # bin edges over [0, 1]

    def bin_of(self) -> np.ndarray:
        """Each forecast's bin (a forecast of exactly 1 falls in the last)."""
        bins = len(self.edges) - 1
        return np.clip(np.searchsorted(self.edges, self.forecasts, side="right") - 1, 0, bins - 1)

    def bins(self) -> list[dict[str, Any]]:
        """Per bin: its bounds, forecasts, hits, mean forecast, observed share and its 95%
        Wilson interval (NaN where the bin is empty)."""
        index, out = self.bin_of(), []
        for b, (low, high) in enumerate(zip(self.edges[:-1], self.edges[1:])):
            inside = index == b
            count, hits = int(inside.sum()), int(self.hits[inside].sum())
            mean = float(self.forecasts[inside].mean()) if count else math.nan
            observed = hits / count if count else math.nan
            ci = wilson_interval(hits, count) if count else (math.nan, math.nan)
            out.append({"low": float(low), "high": float(high), "count": count, "hits": hits,
                        "mean": mean, "observed": observed, "ci": ci})
        return out


def _forecast(row: dict[str, Any]) -> dict[str, float] | None:
    """A score row's option shares, or None where the model gave no forecast (not reached,
    or a validation.json written before the shares were kept)."""
    shares = row.get("shares")
    if missing(row.get("brier")) or not shares or any(missing(p) for p in shares.values()):
        return None
    return shares


def reliability(scores: list[dict[str, Any]], bins: int = BINS) -> Reliability:
    """The reliability of the forecasts in ``scores`` (rows of validation.json). Rows scored
    again along the recorded path (``path: forced``) are left out, as in the scoreboard: each
    decision counts once, as the model forecast it running freely."""
    scores = [row for row in scores if row.get("path") in (None, "reached")]
    forecasts, hits, decisions = [], [], 0
    for row in scores:
        shares = _forecast(row)
        if shares is None:
            continue
        decisions += 1
        for option, p in shares.items():
            forecasts.append(float(p))
            hits.append(1.0 if option == row["recorded_outcome"] else 0.0)
    return Reliability(np.array(forecasts, dtype=float), np.array(hits, dtype=float), decisions,
                       len(scores) - decisions, np.linspace(0.0, 1.0, bins + 1))


def reliability_table(r: Reliability) -> Table:
    """The bins as numbers: forecasts, how many were the recorded option, mean forecast and
    observed share with its 95% Wilson interval."""
    rows = [[f"{b['low']:.1f}-{b['high']:.1f}", str(b["count"]), str(b["hits"]), f3(b["mean"]),
             f3(b["observed"]), interval3(*b["ci"])] for b in r.bins()]
    return Table(f"Reliability: the {len(r.forecasts)} option forecasts of {r.decisions} recorded "
                 "decisions, binned by forecast probability",
                 ["forecast bin", "forecasts", "recorded", "mean forecast", "observed share",
                  "95% CI"], rows)


def caption(r: Reliability) -> str:
    """The plot's caption: what is drawn, and how few decisions it rests on."""
    few = r.decisions < 30
    unscored = f"; {r.unscored} more never reached in the runs" if r.unscored else ""
    return (f"Reliability diagram over {'only ' if few else ''}{r.decisions} recorded decision"
            f"{'s' if r.decisions != 1 else ''} ({len(r.forecasts)} option forecasts{unscored}): "
            "each bin's mean forecast against the share of its options that were the recorded "
            "one; n: forecasts in the bin; bars: 95% Wilson intervals; dashed: the diagonal a "
            "reliable forecaster follows."
            + (" Too few decisions to judge calibration: read it as where the forecasts sit."
               if few else ""))
