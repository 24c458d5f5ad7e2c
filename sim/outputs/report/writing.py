"""Writing a report into its results folder: report.html, report.md and plots/, staged in a
hidden folder and renamed into place, so a failed report leaves the previous one (or none),
never half of one."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from sim.outputs.report.document import Document
from sim.outputs.report.errors import ReportError
from sim.outputs.report.render import render_html, render_markdown

SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")  # a plot's file name


def write_document(folder: Path, doc: Document) -> list[str]:
    """Write report.html, report.md and plots/ into ``folder``: staged, then renamed."""
    from sim.outputs.results import _swap_into_place

    for plot in doc.plots():  # names come from ids in the folder's files: never a path
        if not SAFE_NAME.fullmatch(plot.name):
            raise ReportError(folder, f"cannot name a plot {plot.name!r}: expected ids made of "
                                      "letters, digits and _ in the folder's files")
    staging = Path(tempfile.mkdtemp(prefix=".report.", dir=folder))
    try:
        plots = staging / "plots"
        plots.mkdir()
        for plot in doc.plots():
            (plots / f"{plot.name}.png").write_bytes(plot.png)
        (staging / "report.md").write_text(render_markdown(doc), encoding="utf-8")
        (staging / "report.html").write_text(render_html(doc), encoding="utf-8")
        _swap_into_place(plots, folder / "plots")
        os.replace(staging / "report.md", folder / "report.md")
        os.replace(staging / "report.html", folder / "report.html")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ["report.html", "report.md", *[f"plots/{p.name}.png" for p in doc.plots()]]


def describe_files(files: list[str]) -> str:
    """The files written, with the plots counted rather than listed."""
    plots = [f for f in files if f.startswith("plots/")]
    named = [f for f in files if not f.startswith("plots/")]
    counted = f"{len(plots)} plot{'s' if len(plots) != 1 else ''} (plots/*.png)"
    return ", ".join(named) + (f" and {counted}" if plots else "")
