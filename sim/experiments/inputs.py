"""Model 3 as a function of its inputs: what ``sensitivity``, ``discover`` and the EMA adapter
vary, and how a point of those inputs is run.

The inputs are every drawn quantity of a ``diplosim/3`` scenario that has a range
(:func:`sim.model.plan.drawn_quantities`: each stake's position, salience and clout, each
effect's magnitude, bounded by its sourced range; a quantity given as one value cannot vary and
keeps it) and, when asked, the six constants of :mod:`sim.model.constants`, each log-uniform
on the prior box of the calibration (:data:`sim.model.constants.PRIORS`, the box its Sobol
``design`` covers).

A point fixes those inputs for every member: the members are runs 0 .. members - 1 of the seed
at every point (common random numbers, so the point's shares are a deterministic function of
the inputs), or with ``common=False`` runs of its own (point p: runs p x members ..
(p + 1) x members - 1, so all points together are that many distinct runs); each quantity not
set by the point keeps its own draw, and the point's
share of an option is over all members (a member that never reaches the decision counts in
``not_reached``), as :mod:`sim.experiments.whatif` counts. A run's numbers depend on (seed,
run) alone, so the points are batched freely.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sim.model import cost
from sim.model import kernel as K
from sim.model.constants import PRIORS
from sim.model.constants import Constants
from sim.model.cost import block_members
from sim.model.engine import BLOCK_WORK, Engine
from sim.signals import raise_pending
from sim.model.plan import drawn_quantities
from sim.model.scenario import Scenario

CONSTANT = "constant."
BATCH_RUNS = 20_000  # member runs per engine call at most (the engine stops within a member
# on Ctrl-C or SIGTERM; the batch bounds memory and the progress bar's steps)


@dataclass(frozen=True)
class Input:
    """One input: its key (a drawn quantity's, or ``constant.<name>``), its range, whether it
    is sampled log-uniform, and the words that name it."""

    key: str
    lo: float
    hi: float
    log: bool
    actor: str  # the actor whose number it is; "(constant)" for a constant
    field: str  # position, salience, clout, or the constant's name
    where: str  # "stake in signing", "set by event ruling_party_request", ...

    @property
    def label(self) -> str:
        return f"{self.actor} {self.field}, {self.where}"

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Values of this input at points of [0, 1]."""
        if self.log:
            return np.exp(math.log(self.lo) + (math.log(self.hi) - math.log(self.lo)) * unit)
        return self.lo + (self.hi - self.lo) * unit


def model_inputs(scenario: Scenario, include_constants: bool = False) -> list[Input]:
    """The inputs that vary: every ranged drawn quantity, then (if asked) the six constants."""
    effects = _effect_words(scenario)
    out = []
    for q in drawn_quantities(scenario.without_record()):
        if q.hi <= q.lo:
            continue
        if q.key.startswith(("event.", "option.")):
            actor, field, where = effects[q.key]
        else:
            decision, actor, field = q.key.split(".")
            where = f"stake in {decision}"
        out.append(Input(q.key, q.lo, q.hi, False, actor, field, where))
    if include_constants:
        for f in dataclasses.fields(Constants):
            lo, hi = PRIORS[f.name]
            out.append(Input(CONSTANT + f.name, lo, hi, True, "(constant)", f.name,
                             "log-uniform on the calibration prior"))
    return out


def _effect_words(scenario: Scenario) -> dict[str, tuple[str, str, str]]:
    """(actor, field, where) of every effect magnitude, by its quantity key."""
    words = {}

    def add(prefix: str, effects, cause: str) -> None:
        for n, effect in enumerate(effects):
            parts = effect.target.split(".")
            within = f" in {parts[0]}" if len(parts) == 3 else ""
            verb = "set by" if effect.op == "set" else "added by"
            words[f"{prefix}.{n}"] = (parts[-2], parts[-1], f"{verb} {cause}{within}")

    for e in scenario.events:
        add(f"event.{e.id}", e.effects, f"event {e.id}")
    for d in scenario.decisions:
        for o in d.options:
            add(f"option.{d.id}.{o.id}", o.effects, f"{d.id} = {o.id}")
    return words


def unit_to_values(inputs: list[Input], unit: np.ndarray) -> np.ndarray:
    """Points of the unit cube (points, inputs) as input values."""
    return np.column_stack([i.scale(unit[:, j]) for j, i in enumerate(inputs)]) if inputs \
        else np.zeros((len(unit), 0))


def outputs_of(scenario: Scenario, decision: str | None = None,
               option: str | None = None) -> list[tuple[str, str, bool]]:
    """(decision, option, recorded) to report: per decision its recorded option when the
    scenario records one, else each of its options; ``decision`` and ``option`` narrow it."""
    from sim.validation import InvalidArgument

    ids = [d.id for d in scenario.decisions]
    if decision is not None and decision not in ids:
        raise InvalidArgument(f"decision: unknown decision {decision!r} of {scenario.id}; "
                              f"expected one of {ids}")
    out = []
    for d in scenario.decisions:
        if decision is not None and d.id != decision:
            continue
        options = [o.id for o in d.options]
        record = scenario.recorded_outcome.get(d.id)
        if option is not None:
            if option not in options:
                raise InvalidArgument(f"option: unknown option {option!r} of {d.id}; expected "
                                      f"one of {options}")
            out.append((d.id, option, bool(record and record.option == option)))
        elif record is not None:
            out.append((d.id, record.option, True))
        else:
            out += [(d.id, o, False) for o in options]
    return out


class PointRunner:
    """Runs points of the inputs, ``members`` members each, on the compiled engine."""

    def __init__(self, scenario: Scenario, constants: Constants, inputs: list[Input],
                 members: int, seed: int, common: bool = True):
        self.scenario = scenario.without_record()
        self.constants, self.members, self.seed = constants, members, seed
        self.common = common
        self.inputs = inputs
        self.engine = Engine(self.scenario, constants)
        column = {q.key: j for j, q in enumerate(self.engine.quantities)}
        self.quantity = [(j, column[i.key]) for j, i in enumerate(inputs) if i.key in column]
        self.constant = [(j, i.key[len(CONSTANT):]) for j, i in enumerate(inputs)
                         if i.key.startswith(CONSTANT)]
        self.widths = [len(d.options) + 1 for d in self.scenario.decisions]
        self.batch = min(BATCH_RUNS, block_members(self.engine.member_work(), BLOCK_WORK))

    def shares(self, points: np.ndarray,
               progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
        """Per decision, (points, options + 1): each option's share of the members at each
        point, the last column ``not_reached``."""
        counts = [np.zeros((len(points), k)) for k in self.widths]
        per_call = max(1, self.batch // self.members)
        for engine, rows in self._groups(points):
            for first in range(0, len(rows), per_call):
                batch = rows[first:first + per_call]
                for lo in range(0, self.members, self.batch):
                    members = np.arange(lo, min(lo + self.batch, self.members))
                    self._run(engine, points[batch], batch, members, counts)
                if progress is not None:
                    progress(len(batch))
        return [c / self.members for c in counts]

    def _groups(self, points: np.ndarray):
        """(engine, row indices) per distinct setting of the constants, in first-seen order."""
        if not self.constant:
            yield self.engine, np.arange(len(points))
            return
        groups: dict[tuple, list[int]] = {}
        for r, row in enumerate(points):
            groups.setdefault(tuple(row[j] for j, _ in self.constant), []).append(r)
        for setting, rows in groups.items():
            changed = dataclasses.replace(self.constants, **{
                name: float(v) for (_, name), v in zip(self.constant, setting)})
            yield Engine(self.scenario, changed), np.array(rows)

    def _run(self, engine: Engine, points: np.ndarray, rows: np.ndarray, members: np.ndarray,
             counts: list[np.ndarray]) -> None:
        """Add the outcomes of ``members`` at each of the points (rows ``rows``) to ``counts``."""
        n, m = len(points), len(members)
        runs = (np.tile(members, n) if self.common
                else (rows[:, None] * self.members + members).ravel())
        raise_pending()  # a signal held while the kernel was being compiled
        values = self.engine.values(self.seed, runs)
        for j, col in self.quantity:
            values[:, col] = np.repeat(points[:, j], m)
        result = engine.run(self.seed, runs, values)
        point = np.repeat(np.arange(n), m)
        for i, k in enumerate(self.widths):
            codes = np.where(result.status[:, i] == K.RESOLVED, result.option[:, i], k - 1)
            here = np.zeros((n, k))
            np.add.at(here, (point, codes), 1.0)
            counts[i][rows] += here


def check_cost(what: str, scenario: Scenario, constants: Constants, runs: int,
               include_constants: bool, allow_large: bool, how: str, runs_text: str) -> float:
    """Refuse ``runs`` member runs above the cost limit (:mod:`sim.model.cost`) unless
    ``allow_large``. With the constants varied the estimate takes the prior box's most looks
    (the highest attention rate, the lowest floor), an upper bound over every point."""
    if include_constants:
        constants = dataclasses.replace(
            constants, attention_rate=PRIORS["attention_rate"][1],
            attention_floor_hours=PRIORS["attention_floor_hours"][0])
    return cost.check_cost(what, scenario.without_record(), constants, runs, allow_large,
                           runs_text=runs_text, how=how)
