"""The global behavioural constants, as one typed record.

The model's rules live in :mod:`sim.kernel` (compiled, written once for the agents and the
engine); this module holds only the constants they are parameterised by, so loading,
calibrating and reporting them needs no compiler.
"""

from __future__ import annotations

from dataclasses import dataclass


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
