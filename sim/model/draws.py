"""Random inputs of one run, all from one seed: parameter draws and per-step shocks.

Every uniform number is addressed by (seed, run, stream, index) through the counter-based
generator of :mod:`sim.model.kernel.philox` (NumPy's Philox-4x64-10): stream 0 holds a run's
parameter draws (one per drawn quantity, in :func:`drawn_quantities` order), stream 1 its
table of per-step shocks (steps x channels, row by row), stream 2 the draws only a
counterfactual has. A run's inputs therefore do not depend on how many runs there are, how
they are chunked, which process draws them, or whether a whole block is drawn at once. Mesa's
own ``model.rng`` (unused by the rules) is seeded from ``SeedSequence(seed, spawn_key=(run,
3))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.scenario import Scenario


@dataclass(frozen=True)
class DrawnQuantity:
    """A sourced number that varies between runs: its key and its [lo, hi]."""

    key: str
    lo: float
    hi: float


def drawn_quantities(scenario: Scenario) -> list[DrawnQuantity]:
    """Every actor parameter and event-effect magnitude, in a fixed order (quantities added
    to the format since are drawn after the older ones, so a scenario that does not use them
    draws what it drew before)."""
    out: list[DrawnQuantity] = []
    for actor_id, actor in scenario.actors.items():
        for name, param in actor.all_parameters().items():
            if not actor.parameter_spec(name).optional:
                lo, hi = param.bounds
                out.append(DrawnQuantity(f"{actor_id}.{name}", lo, hi))
    for event in scenario.events:
        for index, effect in enumerate(event.effects):
            lo, hi = effect.bounds
            out.append(DrawnQuantity(effect_key(event.id, index), lo, hi))
    for decision in scenario.decisions:  # after every other quantity: earlier draws unchanged
        for option in decision.options:
            for index, effect in enumerate(option.effects):
                lo, hi = effect.bounds
                out.append(DrawnQuantity(option_effect_key(decision.id, option.id, index), lo, hi))
    for index, election in enumerate(scenario.elections):  # last: earlier draws unchanged
        if election.voters_hard_line is not None:
            lo, hi = election.voters_hard_line.bounds
            out.append(DrawnQuantity(voters_key(index), lo, hi))
    for actor_id, actor in scenario.actors.items():  # optional parameters given: last of all
        for name, param in actor.all_parameters().items():
            if actor.parameter_spec(name).optional:
                lo, hi = param.bounds
                out.append(DrawnQuantity(f"{actor_id}.{name}", lo, hi))
    for index, election in enumerate(scenario.elections):  # turnovers: last of all
        if election.turnover is not None:
            lo, hi = election.turnover.chance.bounds
            out.append(DrawnQuantity(turnover_key(index, "chance"), lo, hi))
            out.append(DrawnQuantity(turnover_key(index, "draw"), 0.0, 1.0))
            for e_index, effect in enumerate(election.turnover.effects):
                lo, hi = effect.bounds
                out.append(DrawnQuantity(turnover_key(index, str(e_index)), lo, hi))
    return out


def varying_actor_parameters(scenario: Scenario) -> list[DrawnQuantity]:
    """Actor parameters drawn from a range (not fixed values, not event magnitudes): the
    dimensions that sensitivity analysis and scenario discovery explore."""
    return [q for q in drawn_quantities(scenario)
            if not q.key.startswith(("event.", "election.")) and q.hi > q.lo]


def effect_key(event_id: str, index: int) -> str:
    return f"event.{event_id}.{index}"


def voters_key(election_index: int) -> str:
    return f"election.{election_index}.voters_hard_line"


def turnover_key(election_index: int, part: str) -> str:
    """A turnover's drawn quantities: its ``chance``, the uniform ``draw`` that decides it in
    a run, and each effect's magnitude (by index)."""
    return f"election.{election_index}.turnover.{part}"


def option_effect_key(decision_id: str, option_id: str, index: int) -> str:
    return f"event.{decision_id}.{option_id}.{index}"


def member_values(quantities: list[DrawnQuantity], seed: int, runs, stream: int | None = None) -> np.ndarray:
    """(runs, quantities): every run's draw of every quantity, uniform within its range (a
    fixed value draws itself), for a whole block in one call."""
    from sim.model.kernel import philox

    stream = philox.PARAMETERS if stream is None else stream
    lo = np.array([q.lo for q in quantities], dtype=float)
    hi = np.array([q.hi for q in quantities], dtype=float)
    return lo + (hi - lo) * philox.uniforms(seed, runs, stream, len(quantities))


def draw_values(quantities: list[DrawnQuantity], seed: int, run: int) -> dict[str, float]:
    """One run's draws, by quantity key."""
    row = member_values(quantities, seed, [run])[0]
    return {q.key: float(v) for q, v in zip(quantities, row.tolist(), strict=True)}


def shock_table(seed: int, run: int, n_steps: int, n_channels: int) -> np.ndarray:
    """One run's table of uniform shocks, steps x channels."""
    from sim.model.kernel import philox

    return philox.uniforms(seed, [run], philox.SHOCKS, n_steps * n_channels).reshape(n_steps, n_channels)


def mesa_seed(seed: int, run: int) -> np.random.SeedSequence:
    """The seed of Mesa's own generator for one run (the rules never draw from it)."""
    return np.random.SeedSequence(seed, spawn_key=(run, 3))
