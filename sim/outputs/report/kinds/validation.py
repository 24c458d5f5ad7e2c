"""The report of a ``diplosim validate --report`` folder: the validation table, the
reliability diagram of the model's forecasts over every recorded decision scored, then each
scored scenario's runs as a run report shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.outputs.report.document import Document, Plot, Section, Table
from sim.outputs.report.errors import ReportError
from sim.outputs.report.folders import folder_kind, inside, read_json
from sim.outputs.report.kinds.run import run_sections
from sim.outputs.report.locate import locate_scenario
from sim.outputs.report.numbers import f1, f3, interval1, interval3, missing
from sim.outputs.report.plots import reliability_plot
from sim.outputs.report.reliability import caption, reliability, reliability_table
from sim.outputs.report.request import ReportRequest
from sim.outputs.report.schemas import ScoreRow, checked


def validation_table(scores: list[dict[str, Any]]) -> Table:
    """The rows of ``diplosim validate``, formatted as its table formats them."""
    rows = []
    for s in scores:
        rows.append([
            str(s["scenario"]),
            str(s["decision"]) + (" (forced)" if s.get("path") == "forced" else ""),
            str(s["recorded_outcome"]),
            f3(s["p_recorded"]), interval3(s["ci_low"], s["ci_high"]),
            f"{s['modal_outcome']} ({f3(s.get('p_modal'))})",
            f1(s["recorded_hours_before_deadline"]), f1(s["median_hours_before_deadline"]),
            interval1(s.get("q25_hours_before_deadline"), s.get("q75_hours_before_deadline")),
            f1(s.get("median_hours_if_recorded_option")),
            f3(s["brier"]), f3(s["brier_status_quo"]), f3(s["brier_uniform"]),
            f"{s['p_reached']:.1%}" if not missing(s.get("p_reached")) else "-",
        ])
    return Table(
        "Simulated against recorded decisions. Brier: multi-category, 0 best, 2 worst; SQ: all "
        "weight on the option that happens by inaction; unif: equal weight on every option. "
        "Hours are before the decision's deadline; rec-opt: median over the runs that chose the "
        "recorded option.",
        ["scenario", "decision", "recorded", "P(recorded)", "95% CI", "modal (share)",
         "rec h", "sim median h", "IQR", "rec-opt h", "Brier", "SQ", "unif", "reached"],
        rows,
    )


def read_scores(folder: Path) -> list[dict[str, Any]]:
    """The score rows of the folder's validation.json, checked."""
    path = inside(folder, "validation.json")
    scores = read_json(path)
    if not isinstance(scores, list):
        raise ReportError(path, "expected a JSON list of score rows")
    checked(path, scores, list[ScoreRow])
    return scores


def reliability_section(scores: list[dict[str, Any]]) -> Section:
    """The reliability diagram and its bins, or a line saying why there is none."""
    section = Section("Reliability of the forecasts")
    r = reliability(scores)
    if not r.decisions:
        section.blocks.append("No reliability diagram: no recorded decision has the model's "
                              "option shares in validation.json (never reached, or written by "
                              "an older diplosim).")
        return section
    section.blocks.append(
        "Over every recorded decision scored, each option's forecast probability (its share "
        "among the runs reaching the decision) against whether it was the option recorded.")
    section.blocks.append(Plot("reliability", caption(r), reliability_plot(
        r, f"Reliability over {r.decisions} recorded decisions ({len(r.forecasts)} forecasts)")))
    section.blocks.append(reliability_table(r))
    return section


def _scenario_sections(folder: Path, manifest: dict[str, Any]) -> tuple[list[Section], list[str]]:
    """(sections, notes on where each scenario file was found) of the scored scenarios' runs."""
    sections, notes = [], []
    for number, entry in enumerate(manifest.get("scenarios") or []):
        sub = inside(folder, entry["folder"])
        kind, sub_manifest = folder_kind(sub)
        if kind != "run":
            raise ReportError(sub / "manifest.json", "expected the manifest of a run folder")
        located = locate_scenario(sub, sub_manifest)
        notes.append(f"{sub_manifest.get('scenario_id')}: {located.note}")
        prefix = f"{sub_manifest.get('scenario_id') or f'scenario{number}'}_"
        sections += run_sections(sub, sub_manifest, located, prefix=prefix)
    return sections, notes


def document(folder: Path, manifest: dict[str, Any], request: ReportRequest) -> Document:
    """The validation table, then every scenario's runs as in a run report."""
    scores = read_scores(folder)
    sections = [Section("Validation", [validation_table(scores)]), reliability_section(scores)]
    runs, notes = _scenario_sections(folder, manifest)
    summary = [f"{manifest.get('runs')} runs per scenario, seed {manifest.get('seed')}, "
               f"{manifest.get('engine', '?')} engine, diplosim {manifest.get('version', '?')}.",
               *notes]
    return Document("diplosim validation", summary, sections + runs)
