"""The report's HTML comes from the package's Jinja2 templates with autoescape on, so no text of
a results folder (or of the scenario it names) can become markup; and the report package stays
split by idea: small modules, short functions, one module per result kind with one signature."""

from __future__ import annotations

import ast
import importlib.resources
import inspect
import re
from html.parser import HTMLParser
from pathlib import Path

from sim.cli import main
from tests.conftest import ROOT, SCENARIO_2012, with_episode_sources

HOSTILE = "<script>alert('q')</script> Sign & \"postpone\"?"
PACKAGE = ROOT / "sim" / "outputs" / "report"
MODULE_LINES = 400  # a module longer than this holds more than one idea
FUNCTION_LINES = 60  # a screen


class _Text(HTMLParser):
    """The tags of a page and its text as a browser shows it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data):
        self.text.append(data)


def _hostile_scenario(folder: Path) -> Path:
    """The 2012 scenario with a decision question that is HTML, with quotes and an ampersand."""
    quoted = "'" + HOSTILE.replace("'", "''") + "'"  # a YAML single-quoted string
    text = SCENARIO_2012.read_text(encoding="utf-8")
    text, found = re.subn(r"(?m)^(    question:).*$", lambda m: f"{m.group(1)} {quoted}", text,
                          count=1)  # the decision's question (the report shows it)
    assert found == 1
    path = with_episode_sources(folder, SCENARIO_2012) / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_report_html_shows_the_scenario_text_as_text_never_as_markup(tmp_path, capsys):
    out = tmp_path / "run"
    scenario = _hostile_scenario(tmp_path)
    assert main(["run", str(scenario), "--runs", "20", "--quiet", "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "&lt;script&gt;" in html
    page = _Text()
    page.feed(html)
    assert "script" not in page.tags
    assert HOSTILE in "".join(page.text)  # shown as written, once decoded


def test_html_attributes_and_titles_are_escaped():
    from sim.outputs.report import Document, Plot, Section, Table, render_html

    caption = 'x" onerror="alert(1)'
    doc = Document("<b>title</b>", ["<i>summary</i>"], [Section("<h1>section</h1>", [
        "<p>paragraph</p>", Table("<u>caption</u>", ["<th>"], [["<td>1</td>"]]),
        Plot("plot", caption, b"\x89PNG"),
    ])])
    html = render_html(doc)
    page = _Text()
    page.feed(html)
    assert page.tags == {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p",
                         "table", "caption", "thead", "tr", "th", "tbody", "td", "figure",
                         "img", "figcaption"}
    assert "onerror" not in page.attributes
    assert html.count("<h1>") == 1 and "&lt;b&gt;title&lt;/b&gt;" in html


def test_html_is_rendered_from_the_shipped_templates_with_autoescape():
    from sim.outputs.report.render import environment

    templates = importlib.resources.files("sim.outputs.report").joinpath("templates")
    assert templates.joinpath("report.html.j2").is_file()
    env = environment()
    assert env.autoescape is True  # whatever a template's file name
    page = env.get_template("report.html.j2")
    assert page.filename is not None and Path(page.filename).parent.name == "templates"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_each_report_module_is_short_and_each_function_fits_a_screen():
    modules = _modules()
    assert len(modules) >= 8, "sim/outputs/report/ is a package of modules, one idea each"
    long_modules = {p.relative_to(ROOT).as_posix(): n for p in modules
                    if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert not long_modules
    long_functions = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    long_functions.append(f"{path.name}:{node.name} ({length} lines)")
    assert not long_functions


def test_every_result_kind_has_a_module_with_the_same_document_function():
    from sim.outputs.report.kinds import DOCUMENTS

    assert set(DOCUMENTS) == {"run", "sweep", "validation", "counterfactual"}
    signatures = set()
    for kind, document in DOCUMENTS.items():
        assert document.__module__ == f"sim.outputs.report.kinds.{kind}"
        signatures.add(tuple(inspect.signature(document).parameters))
    assert signatures == {("folder", "manifest", "request")}
