"""The one error a report raises: a results folder (or a flag) it cannot use."""

from __future__ import annotations

import os

from sim.formats.common import ScenarioError

KINDS_EXPECTED = (
    "a results folder written by `diplosim run --out`, `diplosim sweep`, "
    "`diplosim validate --report` or `diplosim counterfactual --out`"
)


class ReportError(ScenarioError):
    """A results folder (or a flag) the report cannot use: names the path and what was expected.
    A ScenarioError, so the command line reports it like any other input error (exit 2)."""

    def __init__(self, path: str | os.PathLike[str], message: str,
                 key: tuple[str | int, ...] = (), line: int | None = None):
        if key or line:  # located inside the file: FILE:LINE: key.path: message
            ScenarioError.__init__(self, str(path), key, line, message)
            return
        self.file, self.path, self.line, self.message = str(path), (), None, message
        Exception.__init__(self, f"{path}: {message}")
