"""Writing a report into its results folder: report.html, report.md, plots/ and report.sha256
(the SHA-256 of each), staged in a hidden folder and renamed into place, so a failed report
leaves the previous one (or none), never half of one. An earlier report is replaced only when
report.sha256 still vouches for each of its files: a report file added or edited since stops
the report, naming it, and nothing is written."""

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


REPORT_FILES = ("report.html", "report.md", "plots")


def write_document(folder: Path, doc: Document) -> list[str]:
    """Write report.html, report.md, plots/ and report.sha256 into ``folder``: staged, then
    renamed."""
    from sim.outputs.output_folder import REPORT_LISTING, report_listing
    from sim.outputs.results import _swap_into_place

    _refuse_changed_report(folder)
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
        listing = report_listing(staging, ["report.html", "report.md", "plots/"])
        (staging / REPORT_LISTING).write_text(listing, encoding="utf-8")
        _swap_into_place(plots, folder / "plots")
        os.replace(staging / "report.md", folder / "report.md")
        os.replace(staging / "report.html", folder / "report.html")
        os.replace(staging / REPORT_LISTING, folder / REPORT_LISTING)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ["report.html", "report.md", *[f"plots/{p.name}.png" for p in doc.plots()]]


def _refuse_changed_report(folder: Path) -> None:
    """A ReportError naming the report files in ``folder`` added or edited since diplosim
    wrote them (the report would replace them)."""
    from sim.outputs.output_folder import NAMED_AT_MOST, changed_files

    changed = [(name, how) for name, how in changed_files(folder)
               if name.split("/")[0] in REPORT_FILES]
    if not changed:
        return
    named = ", ".join(f"{name} ({how})" for name, how in changed[:NAMED_AT_MOST])
    more = f" and {len(changed) - NAMED_AT_MOST} more" if len(changed) > NAMED_AT_MOST else ""
    raise ReportError(folder, f"holds report files diplosim did not write or that changed since "
                              f"it wrote them: {named}{more}; nothing was replaced or written; move "
                              "them out of the folder to write a new report")


def describe_files(files: list[str]) -> str:
    """The files written, with the plots counted rather than listed."""
    plots = [f for f in files if f.startswith("plots/")]
    named = [f for f in files if not f.startswith("plots/")]
    counted = f"{len(plots)} plot{'s' if len(plots) != 1 else ''} (plots/*.png)"
    return ", ".join(named) + (f" and {counted}" if plots else "")
