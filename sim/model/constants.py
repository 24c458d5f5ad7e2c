"""Model 3's six constants (``calibration/constants3.yaml``; docs/model3.md, M3.6)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, create_model

from sim.formats.common import parse_model, read_text_file
from sim.paths import CALIBRATION
from sim.validation import Number

DEFAULT_CONSTANTS = CALIBRATION / "constants3.yaml"

# The prior box of each constant (log-uniform), around its value as set (docs/model3.md, M3.6):
# chosen wide by hand, a factor of 2.5 or more either side of it, not from a source. The
# calibration's Sobol design, the sensitivity analysis and the EMA adapter all cover it.
PRIORS: dict[str, tuple[float, float]] = {
    "temperature_decider": (0.02, 0.5),
    "temperature_counterpart": (0.02, 0.5),
    "temperature_member": (0.02, 0.5),
    "attention_rate": (0.25, 4.0),
    "attention_floor_hours": (0.25, 24.0),
    "election_horizon_days": (60.0, 1460.0),
}


class Constant(BaseModel):
    """One constant of the file: its value, unit and the justification for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Number = Field(gt=0)
    unit: str
    justification: str = Field(min_length=1)


@dataclass(frozen=True)
class Constants:
    temperature_decider: float
    temperature_counterpart: float
    temperature_member: float
    attention_rate: float
    attention_floor_hours: float
    election_horizon_days: float


KernelConstants = NamedTuple(  # type: ignore[misc]
    "KernelConstants", [(f.name, float) for f in dataclasses.fields(Constants)])

_File = create_model(  # type: ignore[call-overload]
    "Constants3File", __config__=ConfigDict(extra="forbid"),
    **{f.name: (Constant, ...) for f in dataclasses.fields(Constants)})


def load_constants(path: str | Path | None = None) -> Constants:
    """Read and validate the constants file; raise ScenarioError on any problem."""
    path = Path(path) if path is not None else DEFAULT_CONSTANTS
    text, _ = read_text_file(path)
    parsed, _, _ = parse_model(text, str(path), _File)
    return Constants(**{f.name: getattr(parsed, f.name).value for f in dataclasses.fields(Constants)})


def kernel_constants(constants: Constants) -> KernelConstants:
    return KernelConstants(**{k: float(v) for k, v in dataclasses.asdict(constants).items()})
