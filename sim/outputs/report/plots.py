"""Every plot of the reports (and of the teaching page), drawn with matplotlib on the Agg
backend and returned as PNG bytes: outcome shares, decision timing, the traced run's
timeline, a sweep's heatmap, a counterfactual's comparison and a validation's reliability
diagram."""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any

import numpy as np

from sim.model.summary import DecisionSummary
from sim.outputs.report.heatmap import Heatmap
from sim.outputs.report.numbers import f1, f3
from sim.outputs.report.reliability import Reliability
from sim.outputs.report.replay import TracedRun


def _pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    _pyplot().close(fig)
    return buffer.getvalue()


def _errors(values: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Error bar lengths (below, above) of ``values`` for the interval [lows, highs]; 0 where
    an end is unknown."""
    return np.nan_to_num(np.abs(np.vstack([values - lows, highs - values])))


# -- outcomes and timing --------------------------------------------------------------------


def outcome_plot(summary: DecisionSummary, recorded: str | None, title: str) -> bytes:
    """Bar chart of option shares with 95% Wilson intervals; the recorded option hatched."""
    options = list(summary.options)
    return outcome_bars(options, [summary.share(o) for o in options],
                        [summary.interval(o) for o in options], recorded, title)


def outcome_bars(options: list[str], shares: list[float], bounds: list[tuple[float, float]],
                 recorded: str | None, title: str) -> bytes:
    """Bars of ``shares`` with their intervals ``bounds``; the recorded option hatched."""
    plt = _pyplot()
    shares = np.array(shares, dtype=float)
    bounds = np.array(bounds, dtype=float).reshape(-1, 2)
    errors = _errors(shares, bounds[:, 0], bounds[:, 1])
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 * len(options) + 2), 3.8))
    colours = ["#d95f02" if o == recorded else "#7570b3" for o in options]
    bars = ax.bar(range(len(options)), np.nan_to_num(shares), yerr=errors, capsize=5,
                  color=colours, edgecolor="black", linewidth=0.6)
    for bar, option, share, high in zip(bars, options, shares, bounds[:, 1]):
        if option == recorded:
            bar.set_hatch("//")
        label = f3(share) + ("\nrecorded" if option == recorded else "")
        top = high if not math.isnan(high) else bar.get_height()
        ax.annotate(label, (bar.get_x() + bar.get_width() / 2, top), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(options)), options, fontsize=8)
    ax.set_ylim(0, 1.18)
    ax.set_ylabel("share of runs reaching it")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def timing_plot(summary: DecisionSummary, recorded_hours: float | None, title: str) -> bytes:
    """Histogram of hours before the deadline, stacked by option; the recorded time marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    hours = summary.hours_before_deadline
    top = max(float(hours.max()) if hours.size else 0.0, recorded_hours or 0.0, 1.0)
    edges = np.linspace(0.0, top, 41)
    stacks = [summary.hours_for(o) for o in summary.options]
    ax.hist(stacks, bins=edges, stacked=True, label=list(summary.options))
    if recorded_hours is not None:
        ax.axvline(recorded_hours, color="black", linestyle="--", linewidth=1.2,
                   label=f"recorded: {f1(recorded_hours)} h before")
    ax.invert_xaxis()
    ax.set_xlabel("hours before the deadline (deadline at the right)")
    ax.set_ylabel("runs")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


# -- the traced run -------------------------------------------------------------------------


def _timeline_marks(axes: tuple[Any, Any], run: TracedRun,
                    recorded: list[tuple[datetime, str]]) -> None:
    """Events, the run's decisions and the recorded decisions as vertical lines, labelled."""
    top, bottom = axes
    for ax in axes:
        for moment, _, _ in run.events:
            ax.axvline(moment, color="grey", linestyle=":", linewidth=0.8)
        for moment, _, _, _ in run.decisions:
            ax.axvline(moment, color="red", linewidth=1.4)
        for moment, _ in recorded:
            ax.axvline(moment, color="black", linestyle="--", linewidth=1.0)
    for number, (moment, _, _) in enumerate(run.events, start=1):  # staggered: events crowd
        top.annotate(str(number), (moment, 1.0), xycoords=("data", "axes fraction"),
                     xytext=(2, -10 - 9 * ((number - 1) % 3)), textcoords="offset points",
                     fontsize=7, color="dimgrey")
    for moment, _, option, by_default in run.decisions:
        how = " (default)" if by_default else ""
        bottom.annotate(f"run: {option}{how}", (moment, 0.98), xycoords=("data", "axes fraction"),
                        rotation=90, fontsize=7, color="red", xytext=(-9, 0),
                        textcoords="offset points", va="top")
    for moment, option in recorded:
        bottom.annotate(f"recorded: {option}", (moment, 0.98), xycoords=("data", "axes fraction"),
                        rotation=90, fontsize=7, xytext=(3, 0), textcoords="offset points",
                        va="top")


def timeline_plot(run: TracedRun, recorded: list[tuple[datetime, str]], title: str) -> bytes:
    """Each option's chance at every look of the deciding actor, with events (numbered as in
    the events table), the run's decisions and the recorded decisions as vertical lines."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [4, 1]})
    for label, values in run.series.items():
        if np.isfinite(values).any():
            top.step(run.times, values, where="post", label=label)
    _timeline_marks((top, bottom), run, recorded)
    top.set_ylim(-0.02, 1.08)
    top.set_ylabel("chance at each look (0..1)")
    if top.get_legend_handles_labels()[0]:
        top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    top.set_title(title, fontsize=9)
    if run.span is not None:
        bottom.set_xlim(*run.span)
    bottom.set_yticks([])
    bottom.set_ylabel("decisions")
    bottom.set_xlabel(f"date ({run.timezone})" if run.timezone else "date")
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)


# -- sweeps ---------------------------------------------------------------------------------


def _heat_cells(fig: Any, ax: Any, h: Heatmap, points: dict[str, np.ndarray]) -> None:
    """Two parameters: cells coloured by mean share, values written in when few, and a sampled
    design's points dotted over them."""
    mesh = ax.pcolormesh(h.x_edges, h.y_edges, np.ma.masked_invalid(h.mean), cmap="viridis",
                         vmin=0.0, vmax=1.0)
    fig.colorbar(mesh, ax=ax, label="mean share")
    if h.mean.size <= 144:
        xc = (h.x_edges[1:] + h.x_edges[:-1]) / 2
        yc = (h.y_edges[1:] + h.y_edges[:-1]) / 2
        for a, yv in enumerate(yc):
            for b, xv in enumerate(xc):
                if not math.isnan(h.mean[a, b]):
                    ax.text(xv, yv, f"{h.mean[a, b]:.2f}", ha="center", va="center",
                            fontsize=7, color="white" if h.mean[a, b] < 0.6 else "black")
    if not h.grid:
        ax.scatter(points["x"], points["y"], s=4, color="white", alpha=0.5, linewidths=0)
    ax.set_ylabel(h.y)


def heatmap_plot(h: Heatmap, title: str, points: dict[str, np.ndarray]) -> bytes:
    """Cells coloured by mean share (values written in when few); a line for one parameter.
    A sampled design's points are dotted over the cells."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5.2) if h.y else (7, 3.8))
    ax.set_facecolor("#e6e6e6")  # cells without points
    if h.y is None:
        centres = (h.x_edges[1:] + h.x_edges[:-1]) / 2
        ax.plot(centres, h.mean[0], marker="o")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("mean share")
    else:
        _heat_cells(fig, ax, h, points)
    ax.set_xlabel(h.x)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


# -- counterfactuals ------------------------------------------------------------------------


def _side_by_side(ax: Any, entry: dict[str, Any], options: list[str], title: str) -> None:
    """Baseline and counterfactual shares of each option, with their 95% intervals."""
    xs = np.arange(len(options))
    for offset, key, label, colour in ((-0.2, "baseline", "baseline", "#7570b3"),
                                       (0.2, "counterfactual", "counterfactual", "#1b9e77")):
        shares = np.array([np.nan if entry[key][o] is None else entry[key][o] for o in options],
                          dtype=float)
        ci = entry.get(f"{key}_ci") or {}
        errors = None
        if ci:
            lows = np.array([ci[o][0] if ci[o][0] is not None else np.nan for o in options], float)
            highs = np.array([ci[o][1] if ci[o][1] is not None else np.nan for o in options], float)
            errors = _errors(shares, lows, highs)
        ax.bar(xs + offset, np.nan_to_num(shares), 0.4, yerr=errors, capsize=4, label=label,
               color=colour, edgecolor="black", linewidth=0.6)
    ax.set_xticks(xs, options, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of runs reaching it")
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)


def counterfactual_plot(entry: dict[str, Any], title: str) -> bytes:
    """Baseline against counterfactual shares (95% intervals) and their paired difference."""
    plt = _pyplot()
    options = entry.get("options") or list(entry["baseline"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8),
                                      gridspec_kw={"width_ratios": [3, 2]})
    _side_by_side(left, entry, options, title)
    xs = np.arange(len(options))
    diff = entry["difference"]
    means = np.array([diff[o]["mean"] for o in options], dtype=float)
    lows, highs = (np.array([np.nan if diff[o][k] is None else diff[o][k] for o in options])
                   for k in ("ci_low", "ci_high"))
    right.barh(xs, means, xerr=_errors(means, lows, highs),
               capsize=4, color=["#1b9e77" if m >= 0 else "#d95f02" for m in means])
    right.axvline(0.0, color="black", linewidth=0.8)
    right.set_yticks(xs, options, fontsize=8)
    right.invert_yaxis()
    right.set_xlabel("counterfactual - baseline (paired, 95% CI)")
    fig.tight_layout()
    return _png(fig)


# -- validation -----------------------------------------------------------------------------


def reliability_plot(r: Reliability, title: str) -> bytes:
    """Each non-empty bin's mean forecast against its observed share (95% Wilson interval),
    marked with its count; every single forecast as a tick (top: the recorded option, bottom:
    the others); the diagonal for reference."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 5.6))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1.0, label="reliable")
    for edge in r.edges[1:-1]:
        ax.axvline(edge, color="#dddddd", linewidth=0.6, zorder=0)
    full = [b for b in r.bins() if b["count"]]
    means = np.array([b["mean"] for b in full], dtype=float)
    observed = np.array([b["observed"] for b in full], dtype=float)
    lows, highs = (np.array([b["ci"][k] for b in full], dtype=float) for k in (0, 1))
    ax.errorbar(means, observed, yerr=_errors(observed, lows, highs), fmt="o", color="#d95f02",
                capsize=4, label="bin: mean forecast, observed share")
    for b, x, y in zip(full, means, observed):
        ax.annotate(f"n={b['count']}", (x, y), xytext=(6, -3), textcoords="offset points",
                    fontsize=8)
    hit = r.hits > 0
    ax.plot(r.forecasts[hit], np.full(hit.sum(), 1.06), "|", color="black", markersize=10,
            label="forecast of the recorded option (top)")
    ax.plot(r.forecasts[~hit], np.full((~hit).sum(), -0.06), "|", color="#7570b3",
            markersize=10, label="forecast of another option (bottom)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.12, 1.12)
    ax.set_xlabel("forecast probability of an option")
    ax.set_ylabel("share of those options that were the recorded one")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    fig.tight_layout()
    return _png(fig)
