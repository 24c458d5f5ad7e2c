"""Reports: a results folder becomes ``report.html`` (self-contained) and ``report.md`` with PNG
plots in ``plots/``, so a result can be read, shared and archived without re-running anything.

The kind of folder is told from its manifest:

- run: ``diplosim run --out`` (``manifest.json`` with ``scenario_file`` and ``runs``, ``runs.csv``);
- sweep: ``diplosim sweep`` (``sweep.json`` beside ``manifest.json``, ``dataset.parquet``);
- validation: ``diplosim validate --report`` (manifest ``kind: validation``, ``validation.json``
  and one run folder per scenario under ``runs/``);
- counterfactual: ``diplosim counterfactual --out`` (manifest ``kind: counterfactual``,
  ``comparison.json``).

Everything shown comes from those files and from the scenario they name (for the recorded
outcome, the decisions' questions and the traced run); nothing here knows any particular
scenario. One module per idea:

==================  ==========================================================================
``document``        the document model: sections of paragraphs, tables and plots
``numbers``         the command line's number formats (shares to 3 decimals, hours to 1)
``errors``          ReportError: a folder or flag the report cannot use, located
``schemas``         what a folder's manifest and JSON files may hold, type-checked
``folders``         a folder's kind, its JSON files, paths kept inside it, SHA-256 checks
``tables``          runs.csv and a sweep's dataset, read and checked against the manifest
``locate``          finding the scenario a result was run from
``outcomes``        one decision's shares and timing, from a runs table
``replay``          run 0 replayed by the Mesa agents, read back by role
``heatmap``         a sweep's mean share per cell of one or two parameters
``reliability``     forecasts against the record over all scored decisions, binned
``plots``           every matplotlib plot, as PNG bytes
``kinds/``          one module per folder kind, each ``document(folder, manifest, request)``
``render``          HTML (Jinja2 templates in ``templates/``, autoescaped) and Markdown
``writing``         a report staged and renamed into its folder
``build``           ``diplosim report``: kind, document, writing
``result_folders``  the validation and counterfactual folders written to be reported
==================  ==========================================================================

The names below are the package's public interface (the command line and the teaching page
import them from here).
"""

from __future__ import annotations

from sim.outputs.report.build import build_report
from sim.outputs.report.document import Block, Document, Plot, Section, Table
from sim.outputs.report.errors import KINDS_EXPECTED, ReportError
from sim.outputs.report.folders import folder_kind, inside, read_json, verify_hashes
from sim.outputs.report.heatmap import Heatmap, bins_for, heatmap_table, sweep_heatmap
from sim.outputs.report.locate import Located, locate_scenario
from sim.outputs.report.numbers import f1, f3, interval1, interval3, signed3
from sim.outputs.report.outcomes import outcome_table, summarise
from sim.outputs.report.plots import (
    counterfactual_plot, heatmap_plot, outcome_bars, outcome_plot, timeline_plot, timing_plot,
)
from sim.outputs.report.render import render_html, render_markdown
from sim.outputs.report.replay import TracedRun, trace_run, traced
from sim.outputs.report.request import ReportRequest
from sim.outputs.report.result_folders import (
    ValidatedScenario, check_output_folder, json_safe, write_counterfactual,
    write_validation_report,
)
from sim.outputs.report.tables import RunsTable, read_dataset, read_runs
from sim.outputs.report.writing import describe_files, write_document

__all__ = [
    "KINDS_EXPECTED", "Block", "Document", "Heatmap", "Located", "Plot", "ReportError",
    "ReportRequest", "RunsTable", "Section", "Table", "TracedRun", "ValidatedScenario",
    "bins_for", "build_report", "check_output_folder", "counterfactual_plot", "describe_files",
    "f1", "f3", "folder_kind", "heatmap_plot", "heatmap_table", "inside", "interval1",
    "interval3", "json_safe", "locate_scenario", "outcome_bars", "outcome_plot",
    "outcome_table", "read_dataset", "read_json", "read_runs", "render_html", "render_markdown",
    "signed3", "summarise", "sweep_heatmap", "timeline_plot", "timing_plot", "trace_run",
    "traced", "verify_hashes", "write_counterfactual", "write_document",
    "write_validation_report",
]
