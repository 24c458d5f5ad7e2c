"""One module per kind of results folder, each exposing the same function,
``document(folder, manifest, request) -> Document``, registered here by the manifest's kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from sim.outputs.report.document import Document
from sim.outputs.report.kinds import counterfactual, run, sweep, validation
from sim.outputs.report.request import ReportRequest

DocumentOf = Callable[[Path, dict[str, Any], ReportRequest], Document]

DOCUMENTS: dict[str, DocumentOf] = {
    "run": run.document,
    "sweep": sweep.document,
    "validation": validation.document,
    "counterfactual": counterfactual.document,
}
