"""A document rendered two ways: a self-contained HTML page (Jinja2 templates in
``templates/``, autoescaped, images embedded) and Markdown with the same tables, its plots
referred to as ``plots/<name>.png``."""

from __future__ import annotations

import base64
from functools import cache

import jinja2

from sim.outputs.report.document import Document, Plot, Table


def is_number(text: str) -> bool:
    """A cell that reads as a number (a share, an interval, a percentage): right-aligned."""
    try:
        float(text.strip("[]%+").split(",")[0].split(" ")[0])
        return True
    except ValueError:
        return False


@cache
def environment() -> jinja2.Environment:
    """The templates shipped with the package, autoescaped whatever their file names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.outputs.report", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.tests.update(paragraph=lambda b: isinstance(b, str), table=lambda b: isinstance(b, Table),
                     plot=lambda b: isinstance(b, Plot), numeric=is_number)
    env.filters["base64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env


def render_html(doc: Document) -> str:
    """One self-contained HTML page: inline CSS, images as base64 data URIs, no links."""
    return environment().get_template("report.html.j2").render(doc=doc)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    return [f"*{_md_cell(table.caption)}*", "",
            "| " + " | ".join(_md_cell(h) for h in table.header) + " |",
            "|" + "---|" * len(table.header),
            *["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows], ""]


def render_markdown(doc: Document) -> str:
    """Markdown with the same tables; plots referred to as ``plots/<name>.png``."""
    out = [f"# {doc.title}", ""]
    for line in doc.summary:
        if line.strip():
            out += [line.strip(), ""]
    for section in doc.sections:
        out += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, str):
                out += [block.strip(), ""]
            elif isinstance(block, Table):
                out += _md_table(block)
            else:
                out += [f"![{_md_cell(block.caption)}](plots/{block.name}.png)", ""]
    return "\n".join(out)
