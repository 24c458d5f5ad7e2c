"""``diplosim report``: tell a results folder's kind from its manifest, build that kind's
document and write it into the folder."""

from __future__ import annotations

import os
from pathlib import Path

from sim.outputs.report.errors import ReportError
from sim.outputs.report.folders import folder_kind
from sim.outputs.report.kinds import DOCUMENTS
from sim.outputs.report.request import ReportRequest
from sim.outputs.report.writing import write_document


def build_report(folder: str | os.PathLike[str], x: str | None = None, y: str | None = None,
                 decision: str | None = None, option: str | None = None,
                 scenario: str | None = None) -> tuple[str, list[str]]:
    """Report a results folder; returns (its kind, the files written, relative to it)."""
    folder = Path(folder)
    kind, manifest = folder_kind(folder)
    request = ReportRequest(x, y, decision, option, scenario)
    if kind != "sweep":
        for flag, value in request.sweep_flags().items():
            if value is not None:
                raise ReportError(folder, f"{flag} applies to sweep folders only; this is a "
                                          f"{kind} folder")
    return kind, write_document(folder, DOCUMENTS[kind](folder, manifest, request))
