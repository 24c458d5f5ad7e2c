"""The report of a ``diplosim counterfactual --out`` folder: the overlay's question and what
to look for, then per decision baseline against counterfactual shares with their paired
difference, timing, a plot and the attribution of the change by actor (Model 3; a folder
Model 2 wrote, a bare list of decisions with utility terms, still reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.outputs.report.document import Block, Document, Plot, Section, Table
from sim.outputs.report.errors import ReportError
from sim.outputs.report.folders import inside, read_json
from sim.outputs.report.numbers import f1, f3, interval3, missing, signed3
from sim.outputs.report.plots import counterfactual_plot
from sim.outputs.report.request import ReportRequest
from sim.outputs.report.schemas import Comparison, CounterfactualFile, checked


def read_comparison(folder: Path) -> dict[str, Any]:
    """The folder's comparison.json, checked: the object ``diplosim counterfactual --json``
    prints (a Model 2 folder's bare list of decisions is read as its decisions)."""
    path = inside(folder, "comparison.json")
    data = read_json(path)
    if isinstance(data, list):
        checked(path, data, list[Comparison])
        return {"decisions": data}
    if not isinstance(data, dict):
        raise ReportError(path, "expected the JSON object that `diplosim counterfactual "
                                "--json` prints")
    checked(path, data, CounterfactualFile)
    return data


def read_comparisons(folder: Path) -> list[dict[str, Any]]:
    """The decisions of the folder's comparison.json, checked."""
    return read_comparison(folder)["decisions"]


def shares_table(entry: dict[str, Any]) -> Table:
    """Each option's share on both sides, with intervals, and the paired difference."""
    options = entry.get("options") or list(entry["baseline"])
    base_ci = entry.get("baseline_ci") or {}
    cf_ci = entry.get("counterfactual_ci") or {}
    rows = []
    for o in options:
        d = entry["difference"][o]
        rows.append([
            o, f3(entry["baseline"][o]), interval3(*base_ci.get(o, (None, None))),
            f3(entry["counterfactual"][o]), interval3(*cf_ci.get(o, (None, None))),
            signed3(d["mean"], d["ci_low"], d["ci_high"]),
        ])
    over = ("over all runs (not_reached: the run never got to the decision)"
             if "not_reached" in options else "among the runs that reached it")
    return Table(f"{entry['decision']}: shares {over} (95% Wilson intervals) and the paired "
                 "difference over all runs",
                 ["option", "baseline", "95% CI", "counterfactual", "95% CI",
                  "difference [95% CI]"], rows)


def _timing(entry: dict[str, Any]) -> str:
    base_h, cf_h = entry.get("baseline_median_hours"), entry.get("counterfactual_median_hours")
    return (f"Median decision time, hours before the deadline: baseline {f1(base_h)}, "
            f"counterfactual {f1(cf_h)}"
            + ("" if missing(base_h) or missing(cf_h) else f" (shift {cf_h - base_h:+.1f})") + ".")


def actor_table(decision: str, attribution: dict[str, Any]) -> Table:
    """Each actor's pull toward the most cooperative option on both sides, and its change."""
    most, least = attribution["most"], attribution["least"]
    return Table(
        f"{decision}: each actor's term in U({most}) - U({least}) at the baseline's decision "
        "moment (mean over the runs that reached it; positive pulls toward "
        f"{most})",
        ["actor", "baseline", "counterfactual", "change"],
        [[a["actor"], signed3(a["baseline"]), signed3(a["counterfactual"]),
          signed3(None if missing(a["baseline"]) or missing(a["counterfactual"])
                  else a["counterfactual"] - a["baseline"])] for a in attribution["actors"]])


def attribution_table(decision: str, terms: list[dict[str, Any]]) -> Table:
    """Each utility term's contribution on both sides and its change."""
    return Table(
        f"{decision}: mean contribution of each utility term to the gap between the most "
        "and the least cooperative option, at the baseline's decision moment",
        ["term", "baseline", "counterfactual", "change"],
        [[t["term"], signed3(t["baseline"]), signed3(t["counterfactual"]),
          signed3(None if missing(t["baseline"]) or missing(t["counterfactual"])
                  else t["counterfactual"] - t["baseline"])] for t in terms])


def decision_section(entry: dict[str, Any], overlay_id: Any) -> Section:
    """One decision: reach, shares, timing, the plot and (when given) the attribution."""
    decision = entry["decision"]
    blocks: list[Block] = []
    if entry.get("baseline_reached") is not None:
        blocks.append(f"Reached: baseline {entry['baseline_reached']:.1%}, counterfactual "
                      f"{entry['counterfactual_reached']:.1%} of runs.")
    blocks.append(shares_table(entry))
    blocks.append(_timing(entry))
    blocks.append(Plot(f"counterfactual_{decision}", f"{decision}: baseline against "
                       "counterfactual, and the difference",
                       counterfactual_plot(entry, f"{overlay_id}: {decision}")))
    attribution = entry.get("attribution")
    if isinstance(attribution, dict):
        blocks.append(actor_table(decision, attribution))
    elif attribution:
        blocks.append(attribution_table(decision, attribution))
    return Section(f"Decision {decision}", blocks)


def document(folder: Path, manifest: dict[str, Any], request: ReportRequest) -> Document:
    """Baseline against counterfactual per decision: table, plot, timing and attribution."""
    comparison = read_comparison(folder)
    sections = [decision_section(entry, manifest.get("overlay_id"))
                for entry in comparison["decisions"]]
    look = comparison.get("what_to_look_for")
    summary = [
        f"Counterfactual {manifest.get('overlay_id')} ({manifest.get('overlay_file')}) on "
        f"{manifest.get('base_scenario_id')} ({manifest.get('base_scenario_file')}): "
        f"{manifest.get('runs')} runs on common random numbers, seed {manifest.get('seed')}, "
        f"diplosim {manifest.get('version', '?')}.",
        f"Question: {' '.join(str(manifest.get('question', '')).split())}",
        *([f"What to look for: {' '.join(str(look).split())}"] if look else []),
        "Differences are per run (paired), over all runs: a run that does not reach a decision "
        "counts as not choosing any of its options.",
    ]
    return Document(f"diplosim counterfactual: {manifest.get('overlay_id')}", summary, sections)
