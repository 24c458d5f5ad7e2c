"""DiplomacyModel: the clock, the events, the pending decisions, and the agents' step order.

The model sees a scenario without its recorded outcome: it cannot read the record it is later
compared with. Its randomness is one table of uniform shocks (steps x channels) drawn at start
from the run's shock stream, which the agents read by channel; ``model.rng`` (Mesa's own
generator) is seeded from a third stream of the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import mesa
import numpy as np

from sim import decision as rules
from sim.agents import AGENT_CLASSES, STEP_ORDER, CountryAgent
from sim.clock import Clock, build_clock
from sim.decision import Constants
from sim.draws import draw_shocks, effect_key
from sim.scenario import Decision, Scenario

N_FIXED_CHANNELS = 3  # provocation; counterpart attention; counterpart choice


@dataclass
class DecisionState:
    """A decision as the run sees it: when it opens and closes, and how it was resolved."""

    spec: Decision
    index: int
    opens_h: float
    deadline_h: float
    status: str = "waiting"  # waiting | open | resolved | not_reached
    option_index: int | None = None
    decided_h: float | None = None
    by_default: bool = False
    cooperation: np.ndarray = field(init=False)
    is_default: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.option_ids = [o.id for o in self.spec.options]
        self.cooperation = np.array([o.cooperation for o in self.spec.options], dtype=float)
        self.default_index = self.option_ids.index(self.spec.default)
        self.is_default = np.arange(len(self.option_ids)) == self.default_index
        self.conditional_on = [o.conditional_on for o in self.spec.options]

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def attention_channel(self) -> int:
        return N_FIXED_CHANNELS + 2 * self.index

    @property
    def choice_channel(self) -> int:
        return N_FIXED_CHANNELS + 2 * self.index + 1

    def conceded(self, model: DiplomacyModel) -> np.ndarray:
        """Per option: 1 if it is conditional and its counterpart has conceded."""
        return np.array(
            [0.0 if actor is None else model.concession_of(actor) for actor in self.conditional_on]
        )

    def available(self, model: DiplomacyModel) -> np.ndarray:
        """Unconditional options are always open; conditional ones once the concession came."""
        return np.array(
            [actor is None or model.concession_of(actor) >= 1.0 for actor in self.conditional_on]
        )

    @property
    def outcome(self) -> str | None:
        return None if self.option_index is None else self.option_ids[self.option_index]


class DiplomacyModel(mesa.Model):
    """Country agents stepping through a scenario's clock toward its decisions."""

    def __init__(
        self,
        scenario: Scenario,
        constants: Constants,
        values: dict[str, float],
        shock_seed: np.random.SeedSequence,
        mesa_seed: np.random.SeedSequence | None = None,
        trace: bool = False,
    ):
        super().__init__(rng=np.random.default_rng(mesa_seed))
        self.scenario = scenario.without_record()
        self.constants = constants
        self.values = values
        self.clock: Clock = build_clock(self.scenario)
        self._starts = self.clock.step_starts.tolist()
        self._lengths = self.clock.step_lengths.tolist()
        self.step_index = 0
        self.decisions = [
            DecisionState(
                spec=d,
                index=i,
                opens_h=self.clock.hours(d.opens),
                deadline_h=self.clock.hours(d.deadline),
            )
            for i, d in enumerate(self.scenario.decisions)
        ]
        n_channels = N_FIXED_CHANNELS + 2 * len(self.decisions)
        self.shocks = draw_shocks(shock_seed, self.clock.n_steps, n_channels)
        self._shock_rows = self.shocks.tolist()
        self.lean_away = 0.0
        self.trace = trace
        self.story: list[tuple[float, str]] = []

        self.by_actor: dict[str, CountryAgent] = {}
        self.by_role: dict[str, CountryAgent] = {}
        for role in STEP_ORDER:
            actor_id = self.scenario.actor_by_role(role)
            if actor_id is None:
                continue
            actor = self.scenario.actors[actor_id]
            params = {
                name: values[f"{actor_id}.{name}"] for name in dict(actor.parameters)
            }
            agent = AGENT_CLASSES[role](self, actor_id, actor.name, params)
            self.by_actor[actor_id] = agent
            self.by_role[role] = agent
        self._ordered = [self.by_role[r] for r in STEP_ORDER if r in self.by_role]
        # Mesa keeps a class-level table of agent ids keyed by model: drop this model's entry
        # once its agents exist, or every model of an ensemble stays alive (memory grows).
        mesa.Agent._ids.pop(self, None)

        self._events = sorted(
            (self.clock.hours(e.time), i, e) for i, e in enumerate(self.scenario.events)
        )
        self._next_event = 0
        self._elections: dict[str, list[float]] = {}
        for election in self.scenario.elections:
            self._elections.setdefault(election.actor, []).append(self.clock.hours(election.date))
        if self.decider is not None:
            self.lean_away = self.decider.current_lean_away()

        self.datacollector = mesa.DataCollector(model_reporters=self._reporters()) if trace else None

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

    # -- time -----------------------------------------------------------------------------------
    @property
    def now_h(self) -> float:
        return self._starts[self.step_index]

    @property
    def step_hours(self) -> float:
        return self._lengths[self.step_index]

    def shock(self, channel: int) -> float:
        return self._shock_rows[self.step_index][channel]

    def hours_to(self, pending: DecisionState) -> float:
        return pending.deadline_h - self.now_h

    def election_proximity(self, actor_id: str) -> float:
        ahead = [h for h in self._elections.get(actor_id, ()) if h >= self.now_h]
        if not ahead:
            return 0.0
        days = (min(ahead) - self.now_h) / 24.0
        return float(rules.election_proximity(days, self.constants.election_horizon_days))

    # -- decisions ------------------------------------------------------------------------------
    def open_decisions(self) -> list[DecisionState]:
        return [d for d in self.decisions if d.status == "open"]

    def first_open_decision(self) -> DecisionState | None:
        for d in self.decisions:
            if d.status == "open":
                return d
        return None

    def last_resolved_decision(self) -> DecisionState | None:
        resolved = [d for d in self.decisions if d.status == "resolved"]
        return max(resolved, key=lambda d: d.decided_h) if resolved else None

    def concession_of(self, actor_id: str) -> float:
        agent = self.by_actor.get(actor_id)
        return float(getattr(agent, "concession", 0.0))

    def decision_awaiting_concession(self, actor_id: str) -> DecisionState | None:
        for d in self.open_decisions():
            if actor_id in d.conditional_on:
                return d
        return None

    def resolve(self, pending: DecisionState, option_index: int, by_default: bool) -> None:
        pending.status = "resolved"
        pending.option_index = option_index
        pending.by_default = by_default
        pending.decided_h = pending.deadline_h if by_default else self.now_h
        how = "by default at the deadline" if by_default else "decides"
        self.log(f"DECISION {pending.id}: {self.decider.name if self.decider else ''} {how}: "
                 f"{pending.outcome}")

    def _update_decisions(self) -> None:
        """Open decisions whose time has come; close those whose deadline has passed."""
        now = self.now_h if self.step_index < self.clock.n_steps else self.clock.boundaries[-1]
        for d in self.decisions:
            if d.status == "open" and d.deadline_h <= now:
                self.resolve(d, d.default_index, by_default=True)
        for d in self.decisions:
            if d.status != "waiting":
                continue
            after = d.spec.after
            if after is not None:
                earlier = next(x for x in self.decisions if x.id == after.decision)
                if earlier.status == "not_reached" or (
                    earlier.status == "resolved" and earlier.outcome != after.option
                ):
                    d.status = "not_reached"
                    continue
                if earlier.status != "resolved" or earlier.decided_h >= now:
                    continue
            if d.opens_h <= now < d.deadline_h:
                d.status = "open"
                self.log(f"decision {d.id} is open (deadline in {d.deadline_h - now:.0f} h)")
            elif now >= d.deadline_h:
                d.status = "not_reached"

    # -- events ---------------------------------------------------------------------------------
    def _fire_events(self) -> None:
        while self._next_event < len(self._events) and self._events[self._next_event][0] <= self.now_h:
            _, _, event = self._events[self._next_event]
            self._next_event += 1
            self.log(f"EVENT {event.id}: {event.description}")
            for index, effect in enumerate(event.effects):
                actor_id, variable = effect.target.split(".")
                agent = self.by_actor.get(actor_id)
                if agent is not None:
                    agent.apply_effect(variable, effect.op, self.values[effect_key(event.id, index)])

    def log(self, text: str) -> None:
        if self.trace:
            self.story.append((self.now_h if self.step_index < self.clock.n_steps
                               else float(self.clock.boundaries[-1]), text))

    # -- stepping -------------------------------------------------------------------------------
    def step(self) -> None:
        self._fire_events()
        self._update_decisions()
        for agent in self._ordered:
            agent.step()
        if self.datacollector is not None:
            self.datacollector.collect(self)
        self.step_index += 1
        if self.step_index >= self.clock.n_steps:
            self._update_decisions()
            self.running = False

    def run(self) -> list[DecisionState]:
        """Step to the end of the clock and return the decisions as resolved."""
        while self.running:
            self.step()
        return self.decisions

    # -- reporting ------------------------------------------------------------------------------
    def _reporters(self) -> dict[str, Any]:
        reporters: dict[str, Any] = {
            "time": lambda m: m.clock.moment(m.now_h).isoformat(),
            "lean_away": lambda m: m.lean_away,
        }
        for actor_id, agent in self.by_actor.items():
            for variable in agent.state():
                reporters[f"{actor_id}.{variable}"] = (
                    lambda m, a=agent, v=variable: float(getattr(a, v))
                )
        for d in self.decisions:
            for option in d.option_ids:
                reporters[f"utility.{d.id}.{option}"] = (
                    lambda m, d=d, o=option: (
                        m.decider.last_utilities.get(d.id, {}).get(o, np.nan)
                        if m.decider is not None else np.nan
                    )
                )
        return reporters

    def moment(self, hours: float) -> datetime:
        return self.clock.moment(hours)
