"""Model 3 driven by Mesa agents: the readable reference, moment by moment.

One :class:`ActorAgent` per actor of the scenario and one :class:`BodyAgent` per body. Each
``DiplomacyModel.step()`` carries out one moment (docs/model3.md): the model fires events,
opens decisions and lets deadlines pass; the agent whose moment it is looks at its decision, or
the body votes. Every rule is the compiled kernel's (:mod:`sim.model.kernel`), so the agents
and the ensemble engine cannot drift; the story of the run is kept in words.
"""

from __future__ import annotations

from datetime import timedelta

import mesa
import numpy as np

from sim import validation
from sim.defaults import DEFAULT_SEED
from sim.formats.common import as_aware
from sim.model import kernel as K
from sim.model import philox
from sim.model.compiled import ensure_compiled
from sim.model.constants import Constants, kernel_constants
from sim.model.loading import ScenarioLike, load
from sim.model.loading import constants as resolve_constants
from sim.model.plan import build_plan, drawn_quantities
from sim.model.scenario import Scenario



def mesa_seed(seed: int, run: int) -> np.random.SeedSequence:
    """The seed of Mesa's own generator for one run (the rules never draw from it)."""
    return np.random.SeedSequence(seed, spawn_key=(run, 3))

class ActorAgent(mésa_agent := mesa.Agent):  # noqa: N801  (mesa.Agent, named for the reader)
    """An actor: it holds stakes; where it decides, it looks at its decisions."""

    def __init__(self, model: DiplomacyModel, actor_id: str):
        super().__init__(model)
        self.actor_id = actor_id
        self.name = model.scenario.actors[actor_id].name

    def look(self, i: int, t: float, event: int) -> None:
        model = self.model
        odds = self.odds(i, t)  # weighing draws nothing: the look below is unchanged
        K.look(i, t, event, model.member, model.plan, model.c)
        why = "looks after " + model.scenario.events[event].id if event >= 0 else "looks"
        model.tell(self.name, i, t, f"{why} [{odds}]")

    def odds(self, i: int, t: float) -> str:
        """The logit probability of each available option at this moment, in words (kept in
        ``model.last_odds`` too, as weighed before the look: a look may weigh other decisions)."""
        model = self.model
        n = K.weigh(i, t, model.member, model.plan, model.c)
        model.last_odds = tuple(float(model.member.probabilities[k]) if model.member.available[k]
                                else 0.0 for k in range(n))
        options = model.scenario.decisions[i].options
        return ", ".join(f"P({options[k].id}) {model.member.probabilities[k]:.2f}"
                         for k in range(n) if model.member.available[k])


class BodyAgent(mesa.Agent):
    """A body that votes on a decision's motion at its deadline."""

    def __init__(self, model: DiplomacyModel, decision: int):
        super().__init__(model)
        self.decision = decision

    def vote(self, t: float) -> None:
        model = self.model
        K.vote(self.decision, t, model.member, model.plan, model.c)
        model.tell("the body", self.decision, t, "votes")


class DiplomacyModel(mesa.Model):
    """One run of a ``diplosim/3`` scenario; ``step()`` carries out one moment.

    Built by keywords as Mesa's tools build models (``mesa.batch_run``, SolaraViz):
    ``DiplomacyModel(scenario="gsomia_2019", seed=7, run=0)`` is run 0 of seed 7's ensemble,
    the scenario a library episode's name, a file or a loaded scenario, the constants an object,
    a file or (by default) the fitted ones. Its data collector keeps each decision's outcome."""

    def __init__(self, scenario: ScenarioLike, constants: Constants | str | None = None,
                 seed: int = DEFAULT_SEED, run: int = 0, values: np.ndarray | None = None):
        scenario, constants, seed, run = _arguments(scenario, constants, seed, run)
        super().__init__(rng=np.random.default_rng(mesa_seed(seed, run)))
        self.scenario = scenario.without_record()
        self.constants = constants
        self.plan = build_plan(self.scenario, constants)
        self.c = kernel_constants(constants)
        quantities = drawn_quantities(self.scenario)
        if values is None:
            lo = np.array([q.lo for q in quantities], dtype=float)
            hi = np.array([q.hi for q in quantities], dtype=float)
            values = lo + (hi - lo) * philox.uniforms(seed, [run], philox.PARAMETERS,
                                                      len(quantities))[0]
        ensure_compiled(self.plan, self.c, len(quantities), agents=True)
        self.member = K.new_member(self.plan, len(quantities))
        self.member.values[:] = values
        k0, k1 = philox.seed_key(seed)
        self.member.key[:] = np.array([k0, k1, run], dtype=np.uint64)
        self.actors = {a: ActorAgent(self, a) for a in self.scenario.actors}
        self.bodies = {i: BodyAgent(self, i) for i, d in enumerate(self.scenario.decisions)
                       if d.body is not None}
        # Mesa keeps a class-level table of agent ids keyed by model: drop this model's entry
        # once its agents exist, or every model of an ensemble stays alive (memory grows).
        mesa.Agent._ids.pop(self, None)
        self.story: list[str] = []
        self.last_odds: tuple[float, ...] = ()  # the last look's odds, weighed before it
        K.start(self.member, self.plan)
        self.running = True
        self.datacollector = mesa.DataCollector(model_reporters=_outcome_reporters(self.scenario))

    def moment(self, hours: float):
        return as_aware(self.scenario.clock.start) + timedelta(hours=float(hours))

    def tell(self, who: str, i: int, t: float, what: str) -> None:
        d = self.scenario.decisions[i]
        taken = int(self.member.last[3])
        outcome = f": {d.options[taken].id}" if taken >= 0 else ""
        self.story.append(f"{self.moment(t):%Y-%m-%d %H:%M} {who} {what} ({d.id}){outcome}")

    def step(self) -> None:
        """One moment, then the outcomes so far collected; past the last one, nothing."""
        if not self.running:
            return
        self._moment()
        self.datacollector.collect(self)

    def _moment(self) -> None:
        m, plan = self.member, self.plan
        kind, i, t = K.begin_moment(m, plan)
        if kind == K.NONE:
            K.finish(m)
            self.running = False
            return
        if kind in (K.LOOK, K.ADDRESSED):
            decider = self.scenario.decisions[i].decider
            self.actors[decider].look(i, t, int(m.pending[i]) if kind == K.ADDRESSED else -1)
            K.settle(m, plan)
        elif kind == K.EXPIRE and i in self.bodies:
            self.bodies[i].vote(t)
            K.settle(m, plan)
        else:
            K.carry_out(kind, i, t, m, plan, self.c)
            if kind == K.EVENT:
                self.story.append(f"{self.moment(t):%Y-%m-%d %H:%M} "
                                  f"{self.scenario.events[i].description}")
            elif kind == K.EXPIRE:
                self.tell("the deadline", i, t, "passes")

    def outcome(self, i: int) -> tuple[str, bool, float]:
        """Decision ``i``: (option or not_reached, by default, hours before its deadline)."""
        m, d = self.member, self.scenario.decisions[i]
        if m.status[i] == K.RESOLVED:
            return (d.options[m.option[i]].id, bool(m.by_default[i]),
                    float(m.window_deadline[i] - m.decided[i]))
        return ("not_reached", False, float("nan"))

    def outcomes(self) -> dict[str, tuple[str, bool, float]]:
        """Per decision: (option or not_reached, by default, hours before its deadline)."""
        return {d.id: self.outcome(i) for i, d in enumerate(self.scenario.decisions)}


def _arguments(scenario: ScenarioLike, constants: Constants | str | None, seed: int,
               run: int) -> tuple[Scenario, Constants, int, int]:
    """The constructor's arguments as the commands check theirs (a name or file loaded and
    validated; a seed or run number out of range refused in one sentence)."""
    if not isinstance(scenario, Scenario):
        scenario = load(scenario).scenario
    return (scenario, resolve_constants(constants), validation.seed(seed),
            validation.whole_number("run", run, 0, validation.MAX_RUNS - 1))


def _outcome_reporters(scenario: Scenario) -> dict[str, object]:
    """Per decision, what ``mesa.batch_run`` collects: ``<decision>`` (the option, or
    not_reached while it is undecided), ``<decision>.by_default`` and
    ``<decision>.hours_before_deadline``."""
    reporters: dict[str, object] = {}
    for i, d in enumerate(scenario.decisions):
        for part, name in enumerate(("", ".by_default", ".hours_before_deadline")):
            reporters[d.id + name] = lambda model, i=i, part=part: model.outcome(i)[part]
    return reporters
