"""The ensemble engine: every member run through the model's one compiled definition.

This is a driver, not a second model: it draws a block's inputs in bulk, hands them to
:func:`sim.engine.block.run_block`, which runs each member through the same compiled role
steps the Mesa agents call, and turns the decision books into tidy rows. Equality with the
agents is checked member by member by the test suite. A large block is split across threads
(the compiled code releases the GIL); every member's inputs depend on (seed, run) alone, so
the split changes no number. The threads are the engine's own, and the calling thread waits
for them in short intervals, so Ctrl-C and SIGTERM take effect within a fraction of a second
however long the compiled code runs; blocks are sized by their work (members x steps x
decisions), and an interrupted block's threads stop after the member they are running.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from sim.model.clock import build_clock
from sim.model.constants import Constants
from sim.model.draws import drawn_quantities, member_values
from sim.model.kernel import layout as L

from sim.engine.runner import NOT_REACHED, Ensemble, run_ensemble
from sim.model.scenario import Scenario

WAITING, OPEN, RESOLVED, NOT_REACHED_CODE = L.WAITING, L.OPEN, L.RESOLVED, L.NOT_REACHED
MIN_MEMBERS_PER_THREAD = 2000
BLOCK_WORK = 10**7  # members x steps x decisions per block: about 3 s of one core
WAIT_S = 0.1  # how often the calling thread looks up from waiting (signals are handled then)


def default_threads() -> int:
    """Threads for a block: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class MemberInputs:
    """Every random input of a block of members: their drawn values, and the seed their shock
    tables come from (a member's shocks are a function of (seed, run))."""

    runs: np.ndarray  # (M,) run numbers
    values: np.ndarray  # (M, n_quantities) in drawn_quantities order
    seed: int


@dataclass
class MemberOutcomes:
    """How each member resolved each decision (decisions on the last axis)."""

    runs: np.ndarray
    status: np.ndarray  # (M, D) WAITING / OPEN / RESOLVED / NOT_REACHED_CODE
    option_index: np.ndarray  # (M, D), -1 where unresolved
    decided_h: np.ndarray  # (M, D), nan where unresolved
    by_default: np.ndarray  # (M, D) bool
    # (M, D) each run's own deadline: the file's, or a window counted from an earlier decision
    deadline_h: np.ndarray
    trajectories: dict[str, np.ndarray] | None = None  # name -> (M, n_steps)
    # decider's utility terms (M, D, terms, max options) at the probed steps; NaN elsewhere
    probed_terms: np.ndarray | None = None

    def hours_before_deadline(self, i: int) -> np.ndarray:
        """(M,) hours between each run's decision ``i`` and its deadline in that run (NaN
        where unresolved)."""
        return self.deadline_h[:, i] - self.decided_h[:, i]


class VectorEngine:
    """Runs blocks of ensemble members of one scenario through the compiled model."""

    def __init__(self, scenario: Scenario, constants: Constants, threads: int | None = None):
        from sim.model.kernel.plan import build_plan, compiled, kernel_constants

        self.scenario = scenario.without_record()
        self.constants = constants
        self.threads = threads or default_threads()
        self.clock = build_clock(self.scenario)
        self.quantities = drawn_quantities(self.scenario)
        self.column = {q.key: i for i, q in enumerate(self.quantities)}
        self.decisions = self.scenario.decisions
        self.plan = build_plan(self.scenario, constants)
        self._compiled_plan = compiled(self.plan)
        self._constants = kernel_constants(constants)
        self.deadline_h = self.plan.deadline_h
        self.option_ids = [[o.id for o in d.options] for d in self.decisions]
        self.cooperation = [self.plan.cooperation[i, :len(ids)] for i, ids in enumerate(self.option_ids)]
        self.roles = {role: self.scenario.actor_by_role(role) for role in L.ROLE_INDEX
                      if role != "domestic"}
        self._compiled_here = False

    # -- inputs -----------------------------------------------------------------------------------
    def inputs(self, seed: int, runs: np.ndarray | range) -> MemberInputs:
        """The members' drawn values, in bulk (the same numbers the agents draw one by one)."""
        runs = np.asarray(list(runs) if isinstance(runs, range) else runs, dtype=np.int64)
        return MemberInputs(runs=runs, values=member_values(self.quantities, seed, runs), seed=seed)

    def at_point(self, inputs: MemberInputs, names: list[str], point: np.ndarray) -> MemberInputs:
        """The same members with the quantities ``names`` fixed at ``point`` (common random
        numbers across points: only the fixed columns differ)."""
        values = inputs.values.copy()
        for name, value in zip(names, point):
            values[:, self.column[name]] = value
        return MemberInputs(runs=inputs.runs, values=values, seed=inputs.seed)

    def value(self, inputs: MemberInputs, actor: str | None, name: str, default: float = 0.0) -> np.ndarray:
        if actor is None:
            return np.full(len(inputs.runs), default)
        return inputs.values[:, self.column[f"{actor}.{name}"]]

    # -- the run ----------------------------------------------------------------------------------
    def run(self, inputs: MemberInputs, record: bool = False,
            probe: np.ndarray | None = None) -> MemberOutcomes:
        """Run the members. ``record`` keeps state trajectories; ``probe`` (members x
        decisions step indices, -1 for none) keeps the decider's utility terms of each
        decision at that step, open or not (used to attribute counterfactual changes)."""
        M, D = len(inputs.runs), len(self.decisions)
        width = self.plan.cooperation.shape[1]
        out = MemberOutcomes(
            runs=inputs.runs,
            status=np.zeros((M, D), dtype=np.int64),
            option_index=np.full((M, D), -1, dtype=np.int64),
            decided_h=np.full((M, D), np.nan),
            by_default=np.zeros((M, D), dtype=np.bool_),
            deadline_h=np.tile(self.plan.deadline_h, (M, 1)),
            probed_terms=np.full((M, D, L.N_TERMS, width), np.nan) if probe is not None else None,
        )
        trajectories = np.zeros((M if record else 0, self.clock.n_steps, self.plan.n_state))
        probe_array = (np.ascontiguousarray(probe, dtype=np.int64) if probe is not None
                       else np.zeros((M, 0), dtype=np.int64))
        terms = out.probed_terms if probe is not None else np.zeros((M, 0, L.N_TERMS, width))
        parts = max(1, min(self.threads, M // MIN_MEMBERS_PER_THREAD))
        bounds = np.linspace(0, M, parts + 1).astype(int)
        blocks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        stop = np.zeros(1, dtype=np.bool_)
        run = lambda s: self._run_slice(inputs, s, out, probe_array, terms, trajectories, stop)  # noqa: E731
        if not self._compiled_here:  # compile or load the block on this thread, not a worker's
            run(slice(0, 0))
            self._compiled_here = True
        run_interruptibly(run, blocks, stop)
        if record:
            out.trajectories = self._trajectories(trajectories)
        return out

    def block_members(self) -> int:
        """Members per block of an ensemble: BLOCK_WORK's worth, at least one."""
        per_member = max(1, self.clock.n_steps * len(self.decisions))
        return max(1, BLOCK_WORK // per_member)

    def _run_slice(self, inputs: MemberInputs, s: slice, out: MemberOutcomes,
                   probe: np.ndarray, terms: np.ndarray, trajectories: np.ndarray,
                   stop: np.ndarray) -> None:
        from sim.model.kernel import member, philox
        from sim.engine.block import run_block

        record = member.compiled(member.member_for(self.plan, len(self.quantities)))
        k0, k1 = philox.seed_key(inputs.seed)
        run_block(np.uint64(k0), np.uint64(k1), inputs.runs[s], np.ascontiguousarray(inputs.values[s]),
                  self._thread_plan(), self._constants, record, out.status[s],
                  out.option_index[s], out.decided_h[s], out.by_default[s], out.deadline_h[s], probe[s], terms[s],
                  trajectories[s] if trajectories.shape[0] else trajectories, stop)

    def _thread_plan(self):
        """A private copy of the compiled plan for one thread: compiled code counts references
        to the arrays it reads, and two threads counting on the same arrays slow each other."""
        from sim.model.kernel.plan import Plan, compiled

        return compiled(Plan(*[a.copy() if isinstance(a, np.ndarray) else a for a in self.plan]))

    def _trajectories(self, table: np.ndarray) -> dict[str, np.ndarray]:
        """Per state variable of every cast actor (and the decider's lean), (members, steps)."""
        out = {}
        for (role, variable), slot in L.STATE_SLOTS.items():
            actor = self.roles.get(role)
            if actor is not None:
                out[f"{actor}.{variable}"] = table[:, :, slot]
        for player, actor in enumerate(self.scenario.actors_in_role("domestic")):
            for variable in L.PLAYER_STATE:
                out[f"{actor}.{variable}"] = table[:, :, L.player_state_slot(player, variable)]
        out["lean_away"] = table[:, :, L.LEAN]
        return out

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
                            float(outcomes.deadline_h[m, i] - decided_h) if reached else math.nan
                        ),
                    }
                )
        return out


def run_interruptibly(run: Callable[[slice], None], blocks: list[slice], stop: np.ndarray) -> None:
    """``run`` each block in a thread of its own while the calling thread waits in intervals
    of WAIT_S: on the main thread a signal's handler (Ctrl-C, SIGTERM) then runs at once, even
    while compiled code holds a block for minutes. Whatever interrupts the wait sets ``stop``,
    which the compiled block reads before each member: the threads (daemons, writing only
    their own arrays) end after the member they are running."""
    errors: list[BaseException] = []

    def guarded(block: slice) -> None:
        try:
            run(block)
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(b,), daemon=True) for b in blocks]
    for thread in threads:
        thread.start()
    from sim.outputs.output_folder import raise_pending

    try:
        raise_pending()  # a signal swallowed while the block was being compiled
        for thread in threads:
            while thread.is_alive():
                thread.join(WAIT_S)
                raise_pending()
    except BaseException:
        stop[0] = True
        raise
    if errors:
        raise errors[0]


def ensemble_chunks(
    scenario: Scenario,
    constants: Constants,
    seed: int,
    runs: int,
    engine: str = "vector",
    chunk: int = 20000,
) -> Iterator[tuple[list[dict[str, object]], list[int], np.ndarray]]:
    """Yield (tidy rows, run ids, parameter draws) for consecutive blocks of members, so an
    ensemble of any size runs in bounded memory. ``engine`` is "vector" or "agents"."""
    if engine == "agents":
        chunk = min(chunk, 1000)
    vector = VectorEngine(scenario, constants) if engine == "vector" else None
    if vector is not None:
        chunk = min(chunk, vector.block_members())
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
    chunk: int = 20000,
    progress: Callable[[int], None] | None = None,
) -> Ensemble:
    """Run ``runs`` members with the compiled engine and keep every row (for moderate
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
