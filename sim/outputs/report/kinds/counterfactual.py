"""The report of a ``diplosim counterfactual --out`` folder: per decision, baseline against
counterfactual shares with their paired difference, timing, a plot and the attribution of the
change to utility terms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.outputs.report.document import Block, Document, Plot, Section, Table
from sim.outputs.report.errors import ReportError
from sim.outputs.report.folders import inside, read_json
from sim.outputs.report.numbers import f1, f3, interval3, missing, signed3
from sim.outputs.report.plots import counterfactual_plot
from sim.outputs.report.request import ReportRequest
from sim.outputs.report.schemas import Comparison, checked


def read_comparisons(folder: Path) -> list[dict[str, Any]]:
    """The decisions of the folder's comparison.json, checked."""
    path = inside(folder, "comparison.json")
    comparisons = read_json(path)
    if not isinstance(comparisons, list):
        raise ReportError(path, "expected the JSON list that `diplosim counterfactual --json` "
                                "prints")
    checked(path, comparisons, list[Comparison])
    return comparisons


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
    return Table(f"{entry['decision']}: shares among the runs that reached it (95% Wilson "
                 "intervals) and the paired difference over all runs",
                 ["option", "baseline", "95% CI", "counterfactual", "95% CI",
                  "difference [95% CI]"], rows)


def _timing(entry: dict[str, Any]) -> str:
    base_h, cf_h = entry.get("baseline_median_hours"), entry.get("counterfactual_median_hours")
    return (f"Median decision time, hours before the deadline: baseline {f1(base_h)}, "
            f"counterfactual {f1(cf_h)}"
            + ("" if missing(base_h) or missing(cf_h) else f" (shift {cf_h - base_h:+.1f})") + ".")


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
    if entry.get("attribution"):
        blocks.append(attribution_table(decision, entry["attribution"]))
    return Section(f"Decision {decision}", blocks)


def document(folder: Path, manifest: dict[str, Any], request: ReportRequest) -> Document:
    """Baseline against counterfactual per decision: table, plot, timing and attribution."""
    sections = [decision_section(entry, manifest.get("overlay_id"))
                for entry in read_comparisons(folder)]
    summary = [
        f"Counterfactual {manifest.get('overlay_id')} ({manifest.get('overlay_file')}) on "
        f"{manifest.get('base_scenario_id')} ({manifest.get('base_scenario_file')}): "
        f"{manifest.get('runs')} runs on common random numbers, seed {manifest.get('seed')}, "
        f"diplosim {manifest.get('version', '?')}.",
        f"Question: {str(manifest.get('question', '')).strip()}",
        "Differences are per run (paired), over all runs: a run that does not reach a decision "
        "counts as not choosing any of its options.",
    ]
    return Document(f"diplosim counterfactual: {manifest.get('overlay_id')}", summary, sections)
