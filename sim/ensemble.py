"""The vectorised ensemble engine: M members at once, as NumPy arrays, same model as the agents.

Each member is a run of :class:`sim.model.DiplomacyModel` written as arrays of shape (M,) per
state variable: the same pure rules from :mod:`sim.decision`, the same clock, events, step
order and random inputs (each member's parameter draws and shock table come from its own
``SeedSequence``, drawn exactly as the agent model draws them). Equality with the agent engine
is checked by the test suite member by member; the agent model stays the readable reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from sim import decision as rules
from sim.clock import build_clock
from sim.decision import Constants
from sim.draws import draw_shocks, drawn_quantities, effect_key, run_seed_sequence, split
from sim.model import N_FIXED_CHANNELS
from sim.runner import NOT_REACHED, Ensemble, run_ensemble
from sim.scenario import Scenario

WAITING, OPEN, RESOLVED, NOT_REACHED_CODE = 0, 1, 2, 3
PROVOCATION, COUNTERPART_ATTENTION, COUNTERPART_CHOICE = 0, 1, 2


@dataclass(frozen=True)
class MemberInputs:
    """Every random input of a block of members: parameter values and shock tables."""

    runs: np.ndarray  # (M,) run numbers
    values: np.ndarray  # (M, n_quantities) in drawn_quantities order
    shocks: np.ndarray  # (M, n_steps, n_channels)


@dataclass
class MemberOutcomes:
    """How each member resolved each decision (decisions on the last axis)."""

    runs: np.ndarray
    status: np.ndarray  # (M, D) WAITING / OPEN / RESOLVED / NOT_REACHED_CODE
    option_index: np.ndarray  # (M, D), -1 where unresolved
    decided_h: np.ndarray  # (M, D), nan where unresolved
    by_default: np.ndarray  # (M, D) bool
    trajectories: dict[str, np.ndarray] | None = None  # name -> (M, n_steps)
    # decider's utility terms (M, D, terms, max options) at the probed steps; NaN elsewhere
    probed_terms: np.ndarray | None = None


class VectorEngine:
    """Runs blocks of ensemble members of one scenario with array operations."""

    def __init__(self, scenario: Scenario, constants: Constants):
        self.scenario = scenario.without_record()
        self.constants = constants
        self.clock = build_clock(self.scenario)
        self.quantities = drawn_quantities(self.scenario)
        self.column = {q.key: i for i, q in enumerate(self.quantities)}
        self.roles = {
            role: self.scenario.actor_by_role(role)
            for role in ("decider", "counterpart", "patron", "rival", "provocateur")
        }
        self.decisions = self.scenario.decisions
        self.n_channels = N_FIXED_CHANNELS + 2 * len(self.decisions)
        self._prepare_decisions()
        self._prepare_events()
        self._prepare_elections()

    # -- static structure -----------------------------------------------------------------------
    def _prepare_decisions(self) -> None:
        clock = self.clock
        self.opens_h = np.array([clock.hours(d.opens) for d in self.decisions])
        self.deadline_h = np.array([clock.hours(d.deadline) for d in self.decisions])
        self.option_ids = [[o.id for o in d.options] for d in self.decisions]
        self.cooperation = [np.array([o.cooperation for o in d.options]) for d in self.decisions]
        self.default_index = [ids.index(d.default) for ids, d in zip(self.option_ids, self.decisions)]
        self.is_default = [
            np.arange(len(ids)) == k for ids, k in zip(self.option_ids, self.default_index)
        ]
        counterpart = self.roles["counterpart"]
        # Options conditional on an actor other than the counterpart can never be conceded.
        self.conditional = [
            np.array([o.conditional_on is not None for o in d.options]) for d in self.decisions
        ]
        self.conditional_on_counterpart = [
            np.array([o.conditional_on is not None and o.conditional_on == counterpart
                      for o in d.options])
            for d in self.decisions
        ]
        self.awaits_counterpart = np.array(
            [bool(c.any()) for c in self.conditional_on_counterpart]
        )
        index = {d.id: i for i, d in enumerate(self.decisions)}
        self.after = [
            None if d.after is None
            else (index[d.after.decision], self.option_ids[index[d.after.decision]].index(d.after.option))
            for d in self.decisions
        ]

    def _prepare_events(self) -> None:
        events = sorted(
            (self.clock.hours(e.time), i, e) for i, e in enumerate(self.scenario.events)
        )
        self.events = [(hours, e) for hours, _, e in events]

    def _prepare_elections(self) -> None:
        decider = self.roles["decider"]
        starts = self.clock.step_starts
        dates = [self.clock.hours(e.date) for e in self.scenario.elections if e.actor == decider]
        proximity = np.zeros(len(starts))
        for k, now in enumerate(starts.tolist()):
            ahead = [h for h in dates if h >= now]
            if ahead:
                days = (min(ahead) - now) / 24.0
                proximity[k] = float(
                    rules.election_proximity(days, self.constants.election_horizon_days)
                )
        self.election_prox = proximity

    # -- inputs -----------------------------------------------------------------------------------
    def inputs(self, seed: int, runs: np.ndarray | range) -> MemberInputs:
        """Draw the members' inputs exactly as the agent engine draws them."""
        runs = np.asarray(list(runs), dtype=np.int64)
        lo = np.array([q.lo for q in self.quantities])
        hi = np.array([q.hi for q in self.quantities])
        uniforms = np.empty((len(runs), len(self.quantities)))
        shocks = np.empty((len(runs), self.clock.n_steps, self.n_channels))
        for m, run in enumerate(runs.tolist()):
            params_seq, shocks_seq, _ = split(run_seed_sequence(seed, run))
            uniforms[m] = np.random.default_rng(params_seq).random(len(self.quantities))
            shocks[m] = draw_shocks(shocks_seq, self.clock.n_steps, self.n_channels)
        return MemberInputs(runs=runs, values=lo + (hi - lo) * uniforms, shocks=shocks)

    def at_point(self, inputs: MemberInputs, names: list[str], point: np.ndarray) -> MemberInputs:
        """The same members with the quantities ``names`` fixed at ``point`` (common random
        numbers across points: only the fixed columns differ)."""
        values = inputs.values.copy()
        for name, value in zip(names, point):
            values[:, self.column[name]] = value
        return MemberInputs(runs=inputs.runs, values=values, shocks=inputs.shocks)

    def value(self, inputs: MemberInputs, actor: str | None, name: str, default: float = 0.0) -> np.ndarray:
        if actor is None:
            return np.full(len(inputs.runs), default)
        return inputs.values[:, self.column[f"{actor}.{name}"]]

    # -- the run ----------------------------------------------------------------------------------
    def run(
        self, inputs: MemberInputs, record: bool = False, probe: np.ndarray | None = None
    ) -> MemberOutcomes:
        """Run the members. ``record`` keeps state trajectories; ``probe`` (members x
        decisions step indices, -1 for none) records the decider's utility terms of each
        decision at that step, open or not (used to attribute counterfactual changes)."""
        c = self.constants
        M = len(inputs.runs)
        D = len(self.decisions)
        roles = self.roles
        sk, jp, us, cn, nk = (roles[r] for r in ("decider", "counterpart", "patron", "rival", "provocateur"))
        par = lambda actor, name: self.value(inputs, actor, name)  # noqa: E731

        # state
        state: dict[str, np.ndarray] = {}
        if sk is not None:
            state[f"{sk}.opposition"] = par(sk, "initial_opposition").copy()
            state[f"{sk}.salience"] = par(sk, "salience").copy()
            state[f"{sk}.threat"] = par(sk, "threat_perception").copy()
            state[f"{sk}.grievance"] = par(sk, "grievance").copy()
            state[f"{sk}.alliance_dependence"] = par(sk, "alliance_dependence").copy()
        if jp is not None:
            state[f"{jp}.coercion"] = par(jp, "initial_coercion").copy()
            state[f"{jp}.concession"] = np.zeros(M)
        if us is not None:
            state[f"{us}.pressure"] = par(us, "base_pressure").copy()
        if cn is not None:
            state[f"{cn}.pressure"] = np.zeros(M)
        zeros = np.zeros(M)

        def get(key: str) -> np.ndarray:
            return state.get(key, zeros)

        status = np.full((M, D), WAITING, dtype=np.int8)
        option = np.full((M, D), -1, dtype=np.int64)
        decided = np.full((M, D), np.nan)
        by_default = np.zeros((M, D), dtype=bool)
        lean = np.zeros(M)
        rows = np.arange(M)
        n_options = max(len(ids) for ids in self.option_ids)
        probed = (
            np.full((M, D, len(rules.UTILITY_TERMS), n_options), np.nan) if probe is not None else None
        )
        trajectories = {key: np.empty((M, self.clock.n_steps)) for key in state} if record else None
        if record:
            trajectories["lean_away"] = np.empty((M, self.clock.n_steps))

        next_event = 0
        starts = self.clock.step_starts.tolist()
        lengths = self.clock.step_lengths.tolist()
        end_h = float(self.clock.boundaries[-1])

        def update_decisions(now: float) -> None:
            for i in range(D):
                closing = (status[:, i] == OPEN) & (self.deadline_h[i] <= now)
                option[closing, i] = self.default_index[i]
                decided[closing, i] = self.deadline_h[i]
                by_default[closing, i] = True
                status[closing, i] = RESOLVED
            for i in range(D):
                waiting = status[:, i] == WAITING
                if not waiting.any():
                    continue
                eligible = waiting.copy()
                if self.after[i] is not None:
                    j, needed = self.after[i]
                    failed = waiting & (
                        (status[:, j] == NOT_REACHED_CODE)
                        | ((status[:, j] == RESOLVED) & (option[:, j] != needed))
                    )
                    status[failed, i] = NOT_REACHED_CODE
                    eligible = waiting & ~failed & (status[:, j] == RESOLVED) & (decided[:, j] < now)
                opening = eligible & (self.opens_h[i] <= now) & (now < self.deadline_h[i])
                status[opening, i] = OPEN
                late = eligible & ~opening & (now >= self.deadline_h[i])
                status[late, i] = NOT_REACHED_CODE

        def first_open() -> np.ndarray:
            """Index of each member's first open decision, -1 if none."""
            is_open = status == OPEN
            first = np.argmax(is_open, axis=1)
            return np.where(is_open.any(axis=1), first, -1)

        def hours_to_first_open(first: np.ndarray, now: float) -> np.ndarray:
            """Hours to the first open decision's deadline (0 where none is open; unused)."""
            return np.where(first >= 0, self.deadline_h[np.maximum(first, 0)] - now, 0.0)

        for k in range(self.clock.n_steps):
            now, dt = starts[k], lengths[k]
            shock = inputs.shocks[:, k, :]

            # events
            while next_event < len(self.events) and self.events[next_event][0] <= now:
                _, event = self.events[next_event]
                next_event += 1
                for index, effect in enumerate(event.effects):
                    key = effect.target
                    if key not in state:
                        continue
                    magnitude = inputs.values[:, self.column[effect_key(event.id, index)]]
                    value = state[key] + magnitude if effect.op == "add" else magnitude
                    state[key] = np.minimum(1.0, np.maximum(0.0, value))

            update_decisions(now)

            # provocateur
            if nk is not None:
                p = rules.provocation_probability(par(nk, "provocation_rate_per_day"), dt)
                hit = shock[:, PROVOCATION] < p
                if sk is not None:
                    jumped = rules.threat_after_provocation(state[f"{sk}.threat"], par(nk, "threat_jump"))
                    state[f"{sk}.threat"] = np.where(hit, jumped, state[f"{sk}.threat"])

            # counterpart
            if jp is not None:
                first = first_open()
                awaiting = np.zeros(M, dtype=bool)
                for i in range(D):
                    if self.awaits_counterpart[i]:
                        awaiting |= status[:, i] == OPEN
                talks_open = (state[f"{jp}.concession"] < 1.0) & awaiting
                coercion = state[f"{jp}.coercion"]
                active = (first >= 0) & (talks_open | (coercion > 0.0))
                if active.any():
                    attention = rules.attention_probability(
                        hours_to_first_open(first, now), dt, c.attention_rate, c.attention_floor_hours
                    )
                    pressure_on = (
                        get(f"{us}.pressure") * par(us, "counterpart_pressure") if us is not None else zeros
                    )
                    hold, talks, lift = rules.counterpart_move_utilities(
                        par(jp, "talks_willingness"),
                        par(jp, "hard_line"),
                        pressure_on,
                        par(jp, "pressure_responsiveness"),
                    )
                    utilities = np.stack([hold, talks, lift], axis=-1)
                    available = np.stack([np.ones(M, dtype=bool), talks_open, coercion > 0.0], axis=-1)
                    moves = rules.choose(
                        rules.logit_probabilities(utilities, c.temperature, available),
                        shock[:, COUNTERPART_CHOICE],
                    )
                    acts = active & (shock[:, COUNTERPART_ATTENTION] < attention)
                    conceding = acts & (moves >= 1)
                    state[f"{jp}.concession"] = np.where(conceding, 1.0, state[f"{jp}.concession"])
                    state[f"{jp}.coercion"] = np.where(acts & (moves == 2), 0.0, coercion)

            # patron
            if us is not None:
                first = first_open()
                proximity = np.where(
                    first >= 0,
                    rules.deadline_proximity(hours_to_first_open(first, now), c.deadline_horizon_days),
                    0.0,
                )
                target = rules.patron_target(par(us, "base_pressure"), par(us, "escalation"), lean, proximity)
                state[f"{us}.pressure"] = rules.relax(
                    state[f"{us}.pressure"], target, dt, c.pressure_adjustment_days
                )

            # rival
            if cn is not None:
                target = rules.rival_target(par(cn, "opposition"), par(cn, "trade_leverage"), lean)
                state[f"{cn}.pressure"] = rules.relax(
                    state[f"{cn}.pressure"], target, dt, c.pressure_adjustment_days
                )

            # decider
            if sk is not None:
                coercion = get(f"{jp}.coercion") if jp is not None else zeros
                excess = (
                    get(f"{us}.pressure") - par(us, "base_pressure") if us is not None else zeros
                )
                target = rules.opinion_target(
                    par(sk, "initial_opposition"),
                    par(sk, "coercion_sensitivity"),
                    coercion,
                    par(sk, "pressure_backlash"),
                    par(us, "publicity") if us is not None else zeros,
                    excess,
                )
                state[f"{sk}.opposition"] = rules.relax(
                    state[f"{sk}.opposition"], target, dt, c.opinion_adjustment_days
                )
                state[f"{sk}.threat"] = rules.relax(
                    state[f"{sk}.threat"], par(sk, "threat_perception"), dt, c.threat_decay_days
                )
                domestic = rules.domestic_cost(
                    state[f"{sk}.opposition"],
                    state[f"{sk}.salience"],
                    self.election_prox[k],
                    state[f"{sk}.grievance"],
                )
                drivers = {
                    "domestic": domestic,
                    "alliance_value": state[f"{sk}.alliance_dependence"] * get(f"{us}.pressure"),
                    "security_value": state[f"{sk}.threat"] * par(sk, "commitment_security_value"),
                    "rival_economy": par(sk, "rival_trade_exposure") * get(f"{cn}.pressure"),
                    "coercion": coercion,
                }
                conceded_by = get(f"{jp}.concession") if jp is not None else zeros
                open_at_start = status == OPEN
                expected_away = np.full((M, D), np.nan)
                for i in range(D):
                    is_open = open_at_start[:, i]
                    probing = probe[:, i] == k if probe is not None else None
                    if not is_open.any() and (probing is None or not probing.any()):
                        continue
                    conceded = self.conditional_on_counterpart[i][None, :] * conceded_by[:, None]
                    available = ~self.conditional[i][None, :] | (conceded >= 1.0)
                    terms = rules.option_terms(
                        self.cooperation[i],
                        conceded,
                        self.is_default[i],
                        concession_credit=par(sk, "concession_credit"),
                        constants=c,
                        **drivers,
                    )
                    if probing is not None and probing.any():
                        for t, name in enumerate(rules.UTILITY_TERMS):
                            width = len(self.option_ids[i])
                            probed[probing, i, t, :width] = np.broadcast_to(
                                terms[name], (M, width)
                            )[probing]
                    probabilities = rules.logit_probabilities(
                        rules.total_utility(terms), c.temperature, available
                    )
                    expected_away[:, i] = rules.expected_non_cooperation(
                        probabilities, self.cooperation[i]
                    )
                    attention = rules.attention_probability(
                        self.deadline_h[i] - now, dt, c.attention_rate, c.attention_floor_hours
                    )
                    look = is_open & (shock[:, N_FIXED_CHANNELS + 2 * i] < attention)
                    chosen = rules.choose(probabilities, shock[:, N_FIXED_CHANNELS + 2 * i + 1])
                    acting = look & (chosen != self.default_index[i])
                    option[acting, i] = chosen[acting]
                    decided[acting, i] = now
                    status[acting, i] = RESOLVED
                # lean away: first open decision's expectation, else the last resolved option
                first = first_open()
                has_open = first >= 0
                lean_open = expected_away[rows, np.maximum(first, 0)]
                resolved = status == RESOLVED
                last = np.argmax(np.where(resolved, decided, -np.inf), axis=1)
                last_coop = np.zeros(M)
                for i in range(D):
                    pick = resolved[:, i] & (last == i)
                    if pick.any():
                        last_coop[pick] = self.cooperation[i][option[pick, i]]
                lean = np.where(has_open, lean_open, np.where(resolved.any(axis=1), 1.0 - last_coop, 0.0))

            if record:
                for key in state:
                    trajectories[key][:, k] = state[key]
                trajectories["lean_away"][:, k] = lean

        update_decisions(end_h)
        return MemberOutcomes(
            runs=inputs.runs,
            status=status,
            option_index=option,
            decided_h=decided,
            by_default=by_default,
            trajectories=trajectories,
            probed_terms=probed,
        )

    # -- tidy rows, as the agent runner writes them ------------------------------------------------
    def rows(self, outcomes: MemberOutcomes) -> list[dict[str, object]]:
        out = []
        for m, run in enumerate(outcomes.runs.tolist()):
            for i, d in enumerate(self.decisions):
                reached = outcomes.status[m, i] == RESOLVED
                decided_h = float(outcomes.decided_h[m, i])
                out.append(
                    {
                        "run": run,
                        "decision": d.id,
                        "outcome": self.option_ids[i][outcomes.option_index[m, i]] if reached else NOT_REACHED,
                        "by_default": bool(outcomes.by_default[m, i]) if reached else False,
                        "decided_at": self.clock.moment(decided_h).isoformat() if reached else "",
                        "hours_before_deadline": (
                            float(self.deadline_h[i] - decided_h) if reached else math.nan
                        ),
                    }
                )
        return out


def ensemble_chunks(
    scenario: Scenario,
    constants: Constants,
    seed: int,
    runs: int,
    engine: str = "vector",
    chunk: int = 5000,
) -> Iterator[tuple[list[dict[str, object]], list[int], np.ndarray]]:
    """Yield (tidy rows, run ids, parameter draws) for consecutive blocks of members, so an
    ensemble of any size runs in bounded memory. ``engine`` is "vector" or "agents"."""
    if engine == "agents":
        chunk = min(chunk, 1000)
    vector = VectorEngine(scenario, constants) if engine == "vector" else None
    for start in range(0, runs, chunk):
        block = range(start, min(start + chunk, runs))
        if vector is not None:
            inputs = vector.inputs(seed, block)
            yield vector.rows(vector.run(inputs)), list(block), inputs.values
        else:
            part = run_ensemble(scenario, constants, seed, len(block), first_run=start)
            yield part.rows, part.run_ids, np.asarray(part.draws, dtype=float)


def run_vector_ensemble(
    scenario: Scenario,
    constants: Constants,
    seed: int,
    runs: int,
    chunk: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> Ensemble:
    """Run ``runs`` members with the vectorised engine and keep every row (for moderate
    sizes; stream :func:`ensemble_chunks` for large ones)."""
    ensemble = Ensemble(scenario=scenario, seed=seed, runs=runs)
    ensemble.draw_keys = [q.key for q in drawn_quantities(scenario)]
    for rows, run_ids, draws in ensemble_chunks(scenario, constants, seed, runs, "vector", chunk):
        ensemble.rows.extend(rows)
        ensemble.run_ids.extend(run_ids)
        ensemble.draws.extend(draws.tolist())
        if progress is not None:
            progress(len(run_ids))
    return ensemble
