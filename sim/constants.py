"""Loading the global behavioural constants from ``calibration/constants.yaml``.

Each constant is a ``value`` with a ``justification``; the file is validated like a scenario
(located errors, unknown or missing keys rejected).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from sim.decision import Constants
from sim.scenario import ScenarioError, located_validation_error
from sim.yamlmap import YamlError, load_with_lines

DEFAULT_CONSTANTS = Path(__file__).resolve().parent.parent / "calibration" / "constants.yaml"


class Constant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float = Field(gt=0)
    unit: str
    justification: str = Field(min_length=1)


_ConstantsFile = create_model(  # type: ignore[call-overload]
    "ConstantsFile",
    __config__=ConfigDict(extra="forbid"),
    **{f.name: (Constant, ...) for f in dataclasses.fields(Constants)},
)


def load_constants(path: str | Path | None = None) -> Constants:
    """Read and validate the constants file; raise :class:`ScenarioError` on any problem."""
    path = Path(path) if path is not None else DEFAULT_CONSTANTS
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(name, (), None, f"cannot read the file: {exc.strerror}") from None
    try:
        data, lines = load_with_lines(text)
    except YamlError as exc:
        raise ScenarioError(name, exc.path, exc.line, exc.message) from None
    try:
        parsed = _ConstantsFile.model_validate(data)
    except ValidationError as exc:
        raise located_validation_error(name, exc, data, lines) from None
    return Constants(**{f.name: getattr(parsed, f.name).value for f in dataclasses.fields(Constants)})
