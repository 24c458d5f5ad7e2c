"""The example notebook is committed executed, with its outputs (a reader sees the figures
and tables on the forge), and runs from top to bottom again today (executed from a temporary
copy, so the repository's file is never written), with the same printed numbers."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOK = ROOT / "examples" / "gsomia_2019.ipynb"


def test_notebook_is_committed_executed_with_its_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert all(c.outputs for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    figures = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 5


def _printed(notebook) -> list[str]:
    """What the cells print that does not change from run to run (progress bars aside)."""
    return [o.text for c in notebook.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "stream" and o.name == "stdout"]


def test_notebook_executes(tmp_path: Path):
    before = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    notebook = nbformat.read(copy, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first cell that fails
    assert time.perf_counter() - started < 120
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert _printed(notebook) == _printed(nbformat.read(NOTEBOOK, as_version=4))  # not stale
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [NOTEBOOK.name]  # wrote nothing else
