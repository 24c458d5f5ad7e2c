"""Model 3's compiled ensemble: every member of a block through :func:`kernel.run_block`.

A driver, not a second model: it draws a block's stakes in bulk (stream 0), hands them to the
compiled member run, and keeps each decision's outcome per member. A large block is split over
threads (the compiled run releases the GIL); a member's numbers depend on (seed, run) alone, so
the split changes nothing.

Cost is bounded before any work starts: :func:`run_ensemble`, :func:`ensemble_chunks` and
:func:`run_agents` refuse an ensemble whose estimate (:mod:`sim.model.cost`) exceeds the
validation layer's limit unless ``allow_large=True``, so every command, the API and the page
inherit the bound. Ctrl-C and SIGTERM take effect at once: the compiled blocks run on the
engine's own threads while the calling thread waits in tenths of a second (Model 2's
:func:`sim.model.threads.run_interruptibly`), and a stop flag ends each block before its next
member; a cold first compile runs in a child process that a signal ends at once
(:mod:`sim.model.compiled`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sim import validation
from sim.model.threads import default_threads, run_interruptibly
from sim.model.summary import NOT_REACHED, DecisionSummary
from sim.model import philox
from sim.model import kernel as K
from sim.model.compiled import ensure_compiled
from sim.model.constants import Constants, kernel_constants
from sim.model.cost import block_members, check_cost, member_work
from sim.model.plan import build_plan, drawn_quantities
from sim.model.scenario import Scenario

MIN_MEMBERS_PER_THREAD = 5000
BLOCK_WORK = 10**8  # units of work (sim.model.cost) per block of an ensemble: about a second
# the draws of stream 0 do not depend on the constants: any will do to recompute them
_NO_CONSTANTS = Constants(1.0, 1.0, 1.0, 1.0, 1.0, 365.0)


@dataclass
class Outcomes:
    """How each member resolved each decision (members on the first axis)."""

    runs: np.ndarray
    status: np.ndarray  # (M, D)
    option: np.ndarray  # (M, D) -1 where unresolved
    decided_h: np.ndarray  # (M, D)
    by_default: np.ndarray  # (M, D)
    deadline_h: np.ndarray  # (M, D) each run's own deadline

    @classmethod
    def empty(cls, runs: np.ndarray, d: int) -> Outcomes:
        m = len(runs)
        return cls(runs, np.zeros((m, d), np.int64), np.full((m, d), -1, np.int64),
                   np.full((m, d), np.nan), np.zeros((m, d), np.bool_), np.zeros((m, d)))

    @classmethod
    def concatenate(cls, parts: list[Outcomes]) -> Outcomes:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("runs", "status", "option", "decided_h", "by_default", "deadline_h")))


class Engine:
    """Runs blocks of members of one scenario through the compiled Model 3."""

    def __init__(self, scenario: Scenario, constants: Constants, threads: int | None = None):
        self.scenario = scenario.without_record()
        self.quantities = drawn_quantities(self.scenario)
        self.plan = build_plan(self.scenario, constants)
        self.constants = constants
        self.c = kernel_constants(constants)
        self.threads = threads or default_threads()

    def values(self, seed: int, runs) -> np.ndarray:
        lo = np.array([q.lo for q in self.quantities], dtype=float)
        hi = np.array([q.hi for q in self.quantities], dtype=float)
        return lo + (hi - lo) * philox.uniforms(seed, runs, philox.PARAMETERS, len(lo))

    def run(self, seed: int, runs, values: np.ndarray | None = None) -> Outcomes:
        """The members ``runs`` (their drawn ``values``, or stream 0's), on the engine's
        threads; Ctrl-C or SIGTERM ends them after the member each is running."""
        runs = np.ascontiguousarray(np.asarray(runs, dtype=np.int64).reshape(-1))
        values = self.values(seed, runs) if values is None else values
        values = np.ascontiguousarray(values, dtype=float).reshape(len(runs), len(self.quantities))
        out = Outcomes.empty(runs, len(self.scenario.decisions))
        k0, k1 = philox.seed_key(seed)
        n = max(1, min(self.threads, len(runs) // MIN_MEMBERS_PER_THREAD))
        bounds = np.linspace(0, len(runs), n + 1).astype(int)
        slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        stop = np.zeros(1, dtype=np.bool_)

        def work(s: slice) -> None:
            m = K.new_member(self.plan, len(self.quantities))
            m.key[0], m.key[1] = np.uint64(k0), np.uint64(k1)
            K.run_block(runs[s], values[s], m, self.plan, self.c, out.status[s], out.option[s],
                        out.decided_h[s], out.by_default[s], out.deadline_h[s], stop)

        ensure_compiled(self.plan, self.c, len(self.quantities))  # here, not on a worker
        run_interruptibly(work, slices, stop)
        return out

    def member_work(self, engine: str = "vector") -> float:
        """One member's units of work on ``engine`` (:mod:`sim.model.cost`)."""
        return member_work(self.plan, self.constants, engine)


class Ensemble:
    """The runs of one scenario under Model 3, summarised as the shared scoring reads them."""

    def __init__(self, scenario: Scenario, seed: int, outcomes: Outcomes,
                 values: np.ndarray | None = None):
        self.scenario, self.seed, self.outcomes = scenario, seed, outcomes
        self.runs = len(outcomes.runs)
        self.draw_keys = [q.key for q in drawn_quantities(scenario)]
        self.run_ids = outcomes.runs.tolist()
        self._values = values

    @property
    def draws(self) -> np.ndarray:
        """(runs, quantities): each run's drawn stakes and magnitudes (stream 0, recomputed)."""
        if self._values is None:
            self._values = Engine(self.scenario, _NO_CONSTANTS).values(self.seed, self.outcomes.runs) \
                if self.draw_keys else np.zeros((self.runs, 0))
        return self._values

    def summary(self, decision_id: str) -> DecisionSummary:
        i = [d.id for d in self.scenario.decisions].index(decision_id)
        options = tuple(o.id for o in self.scenario.decisions[i].options)
        o = self.outcomes
        codes = np.where(o.status[:, i] == K.RESOLVED, o.option[:, i], -1)
        hours = o.deadline_h[:, i] - o.decided_h[:, i]
        return DecisionSummary.from_codes(decision_id, options, codes, hours)

    @property
    def rows(self) -> list[dict[str, object]]:
        """Tidy rows, one per run and decision (as Model 2's runners give them)."""
        from sim.model.plan import hours  # noqa: F401  (the clock's origin)
        from datetime import timedelta
        from sim.formats.common import as_aware

        start = as_aware(self.scenario.clock.start)
        o, rows = self.outcomes, []
        for r, run in enumerate(o.runs.tolist()):
            for i, d in enumerate(self.scenario.decisions):
                reached = o.status[r, i] == K.RESOLVED
                rows.append({
                    "run": run, "decision": d.id,
                    "outcome": d.options[o.option[r, i]].id if reached else NOT_REACHED,
                    "by_default": bool(o.by_default[r, i]) if reached else False,
                    "decided_at": (start + timedelta(hours=float(o.decided_h[r, i]))).isoformat()
                    if reached else "",
                    "hours_before_deadline": float(o.deadline_h[r, i] - o.decided_h[r, i])
                    if reached else math.nan,
                })
        return rows


def run_ensemble(scenario: Scenario, constants: Constants, seed: int, runs: int,
                 chunk: int = 100_000, progress: Callable[[int], None] | None = None,
                 engine: str = "vector", allow_large: bool = False) -> Ensemble:
    """``runs`` members (0 .. runs - 1) on the compiled engine (``vector``) in blocks of at
    most ``chunk``, or one Mesa model per run (``agents``); refused before any run when its
    estimated work exceeds the limit, unless ``allow_large``."""
    _check(scenario, constants, seed, runs, engine, allow_large)
    if engine == "agents":
        return Ensemble(scenario, seed, run_agents(scenario, constants, seed, runs, progress,
                                                   allow_large=True))
    compiled = Engine(scenario, constants)
    chunk = min(chunk, block_members(compiled.member_work(), BLOCK_WORK))
    parts = []
    for first in range(0, runs, chunk):
        block = np.arange(first, min(first + chunk, runs))
        parts.append(compiled.run(seed, block))
        if progress is not None:
            progress(len(block))
    return Ensemble(scenario, seed, Outcomes.concatenate(parts))


def _check(scenario: Scenario, constants: Constants, seed: int, runs: int, engine: str,
           allow_large: bool) -> None:
    """The validation layer's checks of an ensemble's arguments, and its cost."""
    validation.seed(seed)
    validation.count("runs", runs, validation.MAX_RUNS)
    validation.engine(engine)
    check_cost("this run", scenario, constants, runs, allow_large, engine)


def run_agents(scenario: Scenario, constants: Constants, seed: int, runs: int,
               progress: Callable[[int], None] | None = None, first: int = 0,
               allow_large: bool = False) -> Outcomes:
    """The same members, each as one Mesa model stepped moment by moment (refused, as
    :func:`run_ensemble`, above the cost limit unless ``allow_large``)."""
    from sim.model.agents import DiplomacyModel

    _check(scenario, constants, seed, runs, "agents", allow_large)
    out = Outcomes.empty(np.arange(first, first + runs), len(scenario.decisions))
    for run in range(runs):
        model = DiplomacyModel(scenario, constants, seed, first + run)
        while model.running:
            model.step()
        m = model.member
        out.status[run], out.option[run], out.decided_h[run] = m.status, m.option, m.decided
        out.by_default[run], out.deadline_h[run] = m.by_default, m.window_deadline
        if progress is not None:
            progress(1)
    return out


def ensemble_chunks(scenario: Scenario, constants: Constants, seed: int, runs: int,
                    engine: str = "vector", chunk: int = 20_000, allow_large: bool = False):
    """Yield (tidy rows, run ids, drawn values) for consecutive blocks of members, so ``diplosim run``
    streams an ensemble of any size. The
    arguments and the cost are checked here, before the first block is asked for."""
    _check(scenario, constants, seed, runs, engine, allow_large)
    return _chunks(scenario, constants, seed, runs, engine, chunk)


def _chunks(scenario: Scenario, constants: Constants, seed: int, runs: int, engine: str,
            chunk: int):
    compiled = Engine(scenario, constants)
    chunk = min(chunk, 1000) if engine == "agents" else chunk
    chunk = min(chunk, block_members(compiled.member_work(engine), BLOCK_WORK))
    for first in range(0, runs, chunk):
        block = np.arange(first, min(first + chunk, runs))
        values = compiled.values(seed, block)
        if engine == "agents":
            part = run_agents(scenario, constants, seed, len(block), first=first,
                              allow_large=True)
        else:
            part = compiled.run(seed, block, values)
        yield Ensemble(scenario, seed, part).rows, block.tolist(), values


def story(scenario: Scenario, constants: Constants, seed: int, run: int = 0) -> list[str]:
    """One run told moment by moment (the Mesa agents' story)."""
    from sim.model.agents import DiplomacyModel

    model = DiplomacyModel(scenario, constants, seed, run)
    while model.running:
        model.step()
    outcomes = [f"{d}: {o}{' (by default)' if by_default else ''}"
                for d, (o, by_default, _) in model.outcomes().items()]
    return model.story + ["", "outcome: " + "; ".join(outcomes)]
