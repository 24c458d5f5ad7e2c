"""The report of a ``diplosim run --out`` folder: per decision, outcome shares and timing
against the record; then run 0 replayed step by step. Validation reports reuse its sections
for each scenario they score."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sim.formats.common import as_aware
from sim.model.scenario import Scenario
from sim.outputs.report.document import Block, Document, Plot, Section, Table
from sim.outputs.report.folders import inside
from sim.outputs.report.locate import Located, locate_scenario
from sim.outputs.report.numbers import f1
from sim.outputs.report.outcomes import options_of, outcome_table, summarise
from sim.outputs.report.plots import outcome_plot, timeline_plot, timing_plot
from sim.outputs.report.replay import trace_run
from sim.outputs.report.request import ReportRequest
from sim.outputs.report.tables import RunsTable, check_run_tables, read_runs


def _hours_before(scenario: Scenario, decision: str, moment: datetime) -> float:
    deadline = as_aware(scenario.decision(decision).deadline)
    return (deadline - as_aware(moment)).total_seconds() / 3600.0


def _decision_order(runs: RunsTable, scenario: Scenario | None) -> list[str]:
    """The decisions of the runs: the scenario's order first, then any others as found."""
    order = [d.id for d in scenario.decisions if d.id in runs.outcomes] if scenario else []
    return order + [d for d in runs.outcomes if d not in order]


def decision_section(runs: RunsTable, decision: str, scenario: Scenario | None,
                     prefix: str = "") -> Section:
    """One decision: its question, the record, the outcome table and the two plots."""
    outcomes, hours = runs.outcomes[decision], runs.hours[decision]
    summary = summarise(outcomes, hours, decision, options_of(decision, outcomes, scenario))
    rec = scenario.recorded_outcome.get(decision) if scenario is not None else None
    recorded = rec.option if rec is not None else None
    rec_hours = (_hours_before(scenario, decision, rec.time)
                 if rec is not None and getattr(rec, "time", None) else None)
    title = f"{prefix.rstrip('_') + ': ' if prefix else ''}{decision}"
    blocks: list[Block] = []
    if scenario is not None and decision in [d.id for d in scenario.decisions]:
        blocks += [q for q in [scenario.decision(decision).question] if q]
    if rec is not None:
        blocks.append(f"Recorded: {rec.option}, {f1(rec_hours)} h before the deadline "
                      f"({as_aware(rec.time).isoformat()}).")
    elif scenario is None:
        blocks.append("Recorded outcome unknown (scenario file not found).")
    blocks.append(outcome_table(summary, recorded))
    blocks.append(Plot(f"{prefix}outcomes_{decision}",
                       f"{title}: share of each outcome with 95% Wilson intervals"
                       + ("; hatched: recorded" if recorded else ""),
                       outcome_plot(summary, recorded, f"{title} ({summary.reached} runs)")))
    blocks.append(Plot(f"{prefix}timing_{decision}",
                       f"{title}: decision time, hours before the deadline"
                       + ("; dashed: recorded" if rec_hours is not None else ""),
                       timing_plot(summary, rec_hours, title)))
    return Section(f"Decision {title}", blocks)


def run_sections(folder: Path, manifest: dict[str, Any], located: Located,
                 prefix: str = "") -> list[Section]:
    """Outcome shares, timing and one traced run of a ``diplosim run --out`` folder."""
    scenario = located.scenario
    runs = read_runs(inside(folder, "runs.csv"), manifest["runs"], manifest.get("rows"))
    check_run_tables(folder, manifest, runs)
    sections = [decision_section(runs, decision, scenario, prefix)
                for decision in _decision_order(runs, scenario)]
    sections.append(trace_section(manifest, located, runs, prefix))
    return sections


def _events_table(run: Any) -> Table:
    """The traced run's events (numbered as on the timeline) and its decisions."""
    rows = [[str(i), t.strftime("%Y-%m-%d %H:%M"), event_id, description]
            for i, (t, event_id, description) in enumerate(run.events, start=1)]
    rows += [["", t.strftime("%Y-%m-%d %H:%M"), f"decision {d}",
              f"run 0: {o}" + (" (by default at the deadline)" if by_default else "")]
             for t, d, o, by_default in run.decisions]
    return Table("Events and decisions of the traced run", ["#", "time", "id", "what"], rows)


def trace_section(manifest: dict[str, Any], located: Located, runs: RunsTable,
                  prefix: str = "") -> Section:
    """The timeline of run 0, replayed by the agents from the manifest's seed and constants."""
    title = f"{prefix.rstrip('_') + ': ' if prefix else ''}run 0, step by step"
    section = Section(f"Timeline of {title}")
    scenario = located.scenario
    if scenario is None:
        section.blocks.append("Not traced: the scenario file was not found.")
        return section
    try:
        run = trace_run(scenario, manifest["constants"], int(manifest["seed"]))
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        section.blocks.append(f"Not traced: the manifest lacks what a replay needs ({exc}).")
        return section
    section.blocks.append(
        f"Run 0 of seed {manifest['seed']} replayed with the Mesa agents: the deciding actor's "
        "chance of each option at every look it took. Grey dotted lines: events (numbered as "
        "below); red: the run's decisions; black dashed: the recorded decisions."
    )
    if any(runs.run0.get(d) not in (None, o) for d, o in run.outcomes.items()):
        section.blocks.append("NOTE: the replay's outcomes differ from run 0 in runs.csv "
                              f"(replay {run.outcomes}, table {runs.run0}).")
    recorded = [(run.local(r.time), r.option) for r in scenario.recorded_outcome.values()]
    image = timeline_plot(run, recorded, f"{scenario.id}: run 0, step by step")
    section.blocks.append(Plot(f"{prefix}timeline_run0",
                               f"{title}: chances at each look, events and decisions", image))
    section.blocks.append(_events_table(run))
    return section


def document(folder: Path, manifest: dict[str, Any], request: ReportRequest) -> Document:
    """The report of one ``diplosim run --out`` folder."""
    located = locate_scenario(folder, manifest, request.scenario)
    summary = [
        f"Scenario {manifest.get('scenario_id')}: {manifest.get('runs')} runs, seed "
        f"{manifest.get('seed')}, {manifest.get('engine', '?')} engine, diplosim "
        f"{manifest.get('version', '?')}.",
        located.note,
    ]
    return Document(f"diplosim run: {manifest.get('scenario_id')}", summary,
                    run_sections(folder, manifest, located))
