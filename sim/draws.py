"""Random inputs of one run, all from one seed: parameter draws and per-step shocks.

Run ``i`` of seed ``s`` owns ``SeedSequence(s, spawn_key=(i,))`` (what ``SeedSequence(s)
.spawn(n)[i]`` gives), so a run's inputs do not depend on how many runs there are, how they
are chunked or which process runs them. That sequence splits in two: one stream for the
parameter draws, one for the per-step shocks the agents consume, and one handed to Mesa as
``model.rng`` for anything Mesa itself randomises (the model does not use it for its rules, so
the shock table does not depend on what Mesa draws internally).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import Scenario


@dataclass(frozen=True)
class DrawnQuantity:
    """A sourced number that varies between runs: its key and its [lo, hi]."""

    key: str
    lo: float
    hi: float


def drawn_quantities(scenario: Scenario) -> list[DrawnQuantity]:
    """Every actor parameter and event-effect magnitude, in a fixed order."""
    out: list[DrawnQuantity] = []
    for actor_id, actor in scenario.actors.items():
        for name, param in dict(actor.parameters).items():
            lo, hi = param.bounds
            out.append(DrawnQuantity(f"{actor_id}.{name}", lo, hi))
    for event in scenario.events:
        for index, effect in enumerate(event.effects):
            lo, hi = effect.bounds
            out.append(DrawnQuantity(effect_key(event.id, index), lo, hi))
    return out


def varying_actor_parameters(scenario: Scenario) -> list[DrawnQuantity]:
    """Actor parameters drawn from a range (not fixed values, not event magnitudes): the
    dimensions that sensitivity analysis and scenario discovery explore."""
    return [q for q in drawn_quantities(scenario) if not q.key.startswith("event.") and q.hi > q.lo]


def effect_key(event_id: str, index: int) -> str:
    return f"event.{event_id}.{index}"


def run_seed_sequence(seed: int, run: int) -> np.random.SeedSequence:
    """The seed sequence that owns all randomness of run ``run``."""
    return np.random.SeedSequence(seed, spawn_key=(run,))


def split(
    sequence: np.random.SeedSequence,
) -> tuple[np.random.SeedSequence, np.random.SeedSequence, np.random.SeedSequence]:
    """(parameter stream, shock stream, Mesa stream) of one run."""
    params, shocks, mesa = sequence.spawn(3)
    return params, shocks, mesa


def draw_shocks(sequence: np.random.SeedSequence, n_steps: int, n_channels: int) -> np.ndarray:
    """The run's table of uniform shocks, steps x channels."""
    return np.random.default_rng(sequence).random((n_steps, n_channels))


def draw_values(quantities: list[DrawnQuantity], sequence: np.random.SeedSequence) -> dict[str, float]:
    """Uniform draws within each quantity's range (a fixed value draws itself)."""
    uniforms = np.random.default_rng(sequence).random(len(quantities))
    return {
        q.key: float(q.lo + (q.hi - q.lo) * u) for q, u in zip(quantities, uniforms, strict=True)
    }
