"""The example notebook runs from top to bottom (executed from a temporary copy, so the
repository's file is never written) and is kept without outputs."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOK = ROOT / "examples" / "gsomia_2019.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)


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
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [NOTEBOOK.name]  # wrote nothing else
