"""DiplomacyModel: one member of the model, stepped by Mesa agents through a scenario's clock.

The model sees a scenario without its recorded outcome: it cannot read the record it is later
compared with. It owns one member of :mod:`sim.model.kernel` (drawn values, shock table, state,
decision book); each step it fires the due events and moves the decision windows with the
kernel's functions, then lets its agents act in :data:`sim.model.kernel.steps.STEP_ORDER`, each
calling its role's compiled step for this member. So the agents run exactly the code the
ensemble engine runs; what the model adds is Mesa's agents, its data collector and the story
of the run told in words. ``model.rng`` (Mesa's own generator) is seeded from the run's own
stream and not used by the rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import mesa
import numpy as np

from sim.model.agents import AGENT_CLASSES, CountryAgent
from sim.model.clock import Clock, build_clock
from sim.model.constants import Constants
from sim.model.construct import OutcomeCollector, ScenarioLike, model_inputs
from sim.model.draws import drawn_quantities, mesa_seed, shock_table, turnover_key
from sim.model.kernel import layout as L
from sim.model.kernel import member as kernel
from sim.model.kernel.plan import build_plan, compiled, kernel_constants
from sim.model.kernel.steps import STEP_ORDER, fire_events, update_decisions
from sim.model.roles import MULTI_ROLES
from sim.model.scenario import Decision, Scenario

STATUS_NAMES = {L.WAITING: "waiting", L.OPEN: "open", L.RESOLVED: "resolved",
                L.NOT_REACHED: "not_reached"}


class DecisionState:
    """A decision as the run sees it, read from the member's decision book."""

    def __init__(self, spec: Decision, index: int, member: kernel.Member,
                 cooperation: np.ndarray):
        self.spec = spec
        self.index = index
        self._member = member
        self.option_ids = [o.id for o in spec.options]
        self.cooperation = cooperation
        self.default_index = self.option_ids.index(spec.default)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def opens_h(self) -> float:
        """When the window opens in this run (a relative one: once it has opened)."""
        return float(self._member.window_opens[self.index])

    @property
    def deadline_h(self) -> float:
        """This run's deadline: the file's, or the window counted from an earlier decision."""
        return float(self._member.window_deadline[self.index])

    @property
    def status(self) -> str:
        """waiting | open | resolved | not_reached"""
        return STATUS_NAMES[int(self._member.status[self.index])]

    @property
    def option_index(self) -> int | None:
        return int(self._member.option[self.index]) if self.status == "resolved" else None

    @property
    def decided_h(self) -> float | None:
        return float(self._member.decided[self.index]) if self.status == "resolved" else None

    @property
    def by_default(self) -> bool:
        return bool(self._member.by_default[self.index])

    @property
    def outcome(self) -> str | None:
        index = self.option_index
        return None if index is None else self.option_ids[index]


class DiplomacyModel(mesa.Model):
    """Country agents stepping one member of the model through a scenario's clock."""

    def __init__(
        self,
        scenario: ScenarioLike,
        constants: Constants | str | None = None,
        values: dict[str, float] | None = None,
        seed: int = 0,
        run: int = 0,
        trace: bool = False,
        overrides: dict[str, float] | None = None,
    ):
        """Run ``run`` of ``seed``. Mesa-style, every argument may be a keyword: ``scenario``
        a Scenario, a file or a shipped name; ``constants`` an object or a constants file
        (default: the shipped ones); ``values`` default to the run's draws with
        ``overrides`` ("actor.parameter" -> value) fixed (:mod:`sim.model.construct`)."""
        inputs = model_inputs(scenario, constants, values, seed, run, overrides)
        scenario, constants, values = inputs.scenario, inputs.constants, inputs.values
        super().__init__(rng=np.random.default_rng(mesa_seed(seed, run)))
        self.scenario = scenario
        self.constants = constants
        self.values = values
        self.seed, self.run_number = seed, run
        self.clock: Clock = build_clock(self.scenario)
        self.plan = build_plan(self.scenario, constants)
        self.compiled_plan = compiled(self.plan)
        self.kernel_constants = kernel_constants(constants)
        quantities = drawn_quantities(self.scenario)
        self.member = kernel.member_for(self.plan, len(quantities))
        self.member.values[:] = [values[q.key] for q in quantities]
        self.member.shocks[:] = shock_table(seed, run, self.clock.n_steps, self.plan.n_channels)
        self.record = kernel.compiled(self.member)
        kernel.start(self.record, self.compiled_plan)
        self.step_index = 0
        self.decisions = [
            DecisionState(d, i, self.member, self.plan.cooperation[i, :len(d.options)])
            for i, d in enumerate(self.scenario.decisions)
        ]
        self.trace = trace
        self.story: list[tuple[float, str]] = []
        self._event_steps = self._events_by_step()
        self._turnover_steps = self._turnovers_by_step()

        self.by_actor: dict[str, CountryAgent] = {}
        self.by_role: dict[str, CountryAgent] = {}
        self._ordered: list[CountryAgent] = []
        for role in STEP_ORDER:
            for player, actor_id in enumerate(self.scenario.actors_in_role(role)):
                name = self.scenario.actors[actor_id].name
                agent = (AGENT_CLASSES[role](self, actor_id, name, player) if role in MULTI_ROLES
                         else AGENT_CLASSES[role](self, actor_id, name))
                self.by_actor.setdefault(actor_id, agent)  # an actor in two roles: its first
                self.by_role.setdefault(role, agent)
                self._ordered.append(agent)
        # Mesa keeps a class-level table of agent ids keyed by model: drop this model's entry
        # once its agents exist, or every model of an ensemble stays alive (memory grows).
        mesa.Agent._ids.pop(self, None)
        self.datacollector = (  # built from keywords: each decision's outcome too (batch_run)
            OutcomeCollector(self, self._reporters() if trace else {}) if inputs.drawn
            else mesa.DataCollector(model_reporters=self._reporters()) if trace else None)

    # -- roles --------------------------------------------------------------------------------
    @property
    def decider(self) -> Any:
        return self.by_role.get("decider")

    @property
    def counterpart(self) -> Any:
        return self.by_role.get("counterpart")

    @property
    def patron(self) -> Any:
        return self.by_role.get("patron")

    @property
    def rival(self) -> Any:
        return self.by_role.get("rival")

    @property
    def lean_away(self) -> float:
        return float(self.member.state[L.LEAN])

    # -- time -----------------------------------------------------------------------------------
    @property
    def now_h(self) -> float:
        return float(self.plan.step_starts[self.step_index])

    @property
    def step_hours(self) -> float:
        return float(self.plan.step_lengths[self.step_index])

    def moment(self, hours: float) -> datetime:
        return self.clock.moment(hours)

    # -- stepping -------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one step of the clock; past the clock's end, do nothing (``running`` stays
        False): the compiled steps must never be called with a step the clock does not have."""
        if self.step_index >= self.clock.n_steps:
            self.running = False
            return
        k, m, plan = self.step_index, self.record, self.compiled_plan
        fire_events(k, m, plan)
        for event in self._event_steps.get(k, ()):
            self.log(f"EVENT {event.id}: {event.description}")
        for election in self._turnover_steps.get(k, ()):
            self.log(f"TURNOVER in {election.actor}: a new government after {election.description}")
        before = self.member.status.copy()
        update_decisions(self.now_h, m, plan)
        self._log_decisions(before)
        for agent in self._ordered:
            before = self.member.status.copy()
            agent.step()
            self._log_decisions(before)
        if self.datacollector is not None:
            self.datacollector.collect(self)
        self.step_index += 1
        if self.step_index >= self.clock.n_steps:
            before = self.member.status.copy()
            kernel.finish(m, plan)
            self._log_decisions(before, at_end=True)
            self.running = False
            if isinstance(self.datacollector, OutcomeCollector):
                self.datacollector.close(self)

    def run(self) -> list[DecisionState]:
        """Step to the end of the clock and return the decisions as resolved."""
        while self.running:
            self.step()
        return self.decisions

    # -- the story, in words ------------------------------------------------------------------
    def log(self, text: str, at_end: bool = False) -> None:
        if self.trace:
            hours = float(self.clock.boundaries[-1]) if at_end else self.now_h
            self.story.append((hours, text))

    def _events_by_step(self) -> dict[int, list[Any]]:
        starts = self.plan.step_starts
        by_step: dict[int, list[Any]] = {}
        for hours, _, event in sorted((self.clock.hours(e.time), i, e)
                                      for i, e in enumerate(self.scenario.events)):
            k = int(np.searchsorted(starts, hours, side="left"))
            if k < len(starts):
                by_step.setdefault(k, []).append(event)
        return by_step

    def _turnovers_by_step(self) -> dict[int, list[Any]]:
        """The elections whose turnover happens in this run, by the step it applies."""
        starts = self.plan.step_starts
        by_step: dict[int, list[Any]] = {}
        for index, election in enumerate(self.scenario.elections):
            turnover = election.turnover
            if turnover is None or (self.values[turnover_key(index, "draw")]
                                    >= self.values[turnover_key(index, "chance")]):
                continue
            when = turnover.takes_office or election.date
            k = int(np.searchsorted(starts, self.clock.hours(when), side="left"))
            if k < len(starts):
                by_step.setdefault(k, []).append(election)
        return by_step

    def _log_decisions(self, before: np.ndarray, at_end: bool = False) -> None:
        if not self.trace:
            return
        for d in self.decisions:
            was, now = int(before[d.index]), int(self.member.status[d.index])
            if was == now:
                continue
            if now == L.OPEN:
                self.log(f"decision {d.id} is open (deadline in {d.deadline_h - self.now_h:.0f} h)")
            elif now == L.RESOLVED:
                how = "by default at the deadline" if d.by_default else "decides"
                name = self.decider.name if self.decider else ""
                self.log(f"DECISION {d.id}: {name} {how}: {d.outcome}", at_end=at_end)

    # -- reporting ------------------------------------------------------------------------------
    def _reporters(self) -> dict[str, Any]:
        reporters: dict[str, Any] = {
            "time": lambda m: m.clock.moment(m.now_h).isoformat(),
            "lean_away": lambda m: m.lean_away,
        }
        for agent in self._ordered:  # every role of every actor
            for variable, slot in agent.state_slots().items():
                reporters[f"{agent.actor_id}.{variable}"] = (
                    lambda m, s=slot: float(m.member.state[s])
                )
        for d in self.decisions:
            for k, option in enumerate(d.option_ids):
                reporters[f"utility.{d.id}.{option}"] = (
                    lambda m, i=d.index, k=k: (
                        float(m.member.utilities[i, k]) if m.decider is not None else np.nan
                    )
                )
        return reporters
