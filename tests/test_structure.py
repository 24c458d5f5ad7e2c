"""The code's shape the developers' guide asks for: no function in sim/ over 60 lines, a
command line that only dispatches, and faces that call the one orchestrator."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

SIM = ROOT / "sim"
FACES = ("cli.py", "api.py", "app.py")


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def test_no_function_in_sim_is_over_sixty_lines():
    long = [f"{p.relative_to(ROOT)}:{line} {name} ({n} lines)" for p in sorted(SIM.rglob("*.py"))
            for name, line, n in _functions(p) if n > 60]
    assert long == []


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_command_line_is_a_dispatcher_over_one_module_per_command():
    from sim.commands import COMMANDS

    cli = SIM / "cli.py"
    assert not {m for m in _imports(cli) if m.startswith(("sim.experiments", "sim.model"))} - {
        "sim.formats.common", "sim.formats.yamlmap"}  # errors and their printing only
    for name in COMMANDS:
        module = SIM / "commands" / f"{name}.py"
        tree = ast.parse(module.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert {"add_arguments", "main"} <= defined, name


def test_no_face_runs_an_engine_of_its_own():
    """The engine is chosen in sim/orchestrator.py alone: no face imports the engine."""
    for face in FACES:
        assert not {m for m in _imports(SIM / face) if m.startswith("sim.model.engine")}, face
    for path in (SIM / "commands").glob("*.py"):
        assert "sim.model.engine" not in _imports(path), path.name


def test_the_faces_call_the_orchestrator_not_the_experiments():
    """Commands, API and page reach experiments through sim.orchestrator (the page's own
    computations live in sim.teaching, which calls the orchestrator)."""
    allowed = {"sim.experiments.counterfactual", "sim.experiments.sensitivity",
               "sim.experiments.discover", "sim.experiments.trace", "sim.experiments.whatif",
               "sim.experiments.ema"}  # their result types, checks and writers, not their runs
    for path in [SIM / "api.py", SIM / "app.py", SIM / "teaching.py",
                 *(SIM / "commands").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in allowed:
                names = {a.name for a in node.names}
                assert not names & {"counterfactual", "sensitivity", "discover", "sweep",
                                    "compare"}, (path.name, node.module, names)


def test_data_flows_one_way_nothing_below_the_orchestrator_calls_up_into_it():
    """The model, the file formats, the experiments and the outputs never import the
    orchestrator or a face (CLI, API, page, commands), not even inside a function."""
    above = ("sim.orchestrator", "sim.cli", "sim.api", "sim.app", "sim.teaching", "sim.serve",
             "sim.commands")
    upward = []
    for layer in ("model", "formats", "experiments", "outputs"):
        for path in sorted((SIM / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "sim":
                    names = [f"sim.{a.name}" for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                upward += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                           if n.startswith(above)]
    assert upward == []
