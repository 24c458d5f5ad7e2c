"""Loading the global behavioural constants from ``calibration/constants.yaml``.

Each constant is a ``value`` with a ``justification``; the file is validated like a scenario
(located errors, unknown or missing keys rejected).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, create_model

from sim.model.scenario import parse_model, read_text_file
from sim.paths import CALIBRATION
from sim.validation import Number


@dataclass(frozen=True)
class Constants:
    """Global behavioural constants (``calibration/constants.yaml``), shared by all actors."""

    temperature: float
    w_domestic: float
    w_alliance: float
    w_security: float
    w_economy: float
    action_cost: float
    attention_rate: float
    attention_floor_hours: float
    deadline_horizon_days: float
    election_horizon_days: float
    opinion_adjustment_days: float
    pressure_adjustment_days: float
    threat_decay_days: float


DEFAULT_CONSTANTS = CALIBRATION / "constants.yaml"


class Constant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Number = Field(gt=0)
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
    text, _ = read_text_file(path)
    parsed, _, _ = parse_model(text, str(path), _ConstantsFile, kind="constants")
    return Constants(**{f.name: getattr(parsed, f.name).value for f in dataclasses.fields(Constants)})
