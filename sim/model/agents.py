"""Country agents: one Mesa agent class per role, each acting once per step.

An agent is its role's compiled step (:mod:`sim.model.kernel.steps`) applied to the model's member:
it holds no copy of the rules, so the agents and the ensemble engine cannot drift apart. Its
parameters and state live in the member's arrays; the agent reads them by name for traces,
the data collector and the teaching page, and tells the story of what it did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, ClassVar

import mesa

from sim.model.kernel import layout as L
from sim.model.kernel import steps
from sim.model.roles import ROLES

if TYPE_CHECKING:
    from sim.model.model import DiplomacyModel


class CountryAgent(mesa.Agent):
    """An actor of the scenario in one role."""

    role: ClassVar[str] = ""
    rule: ClassVar[Callable[..., None]]
    model: DiplomacyModel

    def __init__(self, model: DiplomacyModel, actor_id: str, name: str):
        super().__init__(model)
        self.actor_id = actor_id
        self.name = name

    @property
    def params(self) -> dict[str, float]:
        """This actor's drawn parameters, by name."""
        values = self.model.values
        return {name: values[f"{self.actor_id}.{name}"] for name in ROLES[self.role].parameters
                if f"{self.actor_id}.{name}" in values}

    def state_slots(self) -> dict[str, int]:
        """The role's state variables and where they live in the member's state."""
        return {name: L.STATE_SLOTS[(self.role, name)] for name in ROLES[self.role].state}

    def state(self) -> dict[str, float]:
        """The state variables events may change (for traces and the data collector)."""
        return {name: float(self.model.member.state[slot]) for name, slot in self.state_slots().items()}

    def __getattr__(self, name: str) -> float:
        # A state variable by name (agent.opposition, agent.pressure): read from the member.
        if name.startswith("_") or name in ("model", "actor_id", "name", "player"):
            raise AttributeError(name)
        slots = self.state_slots()
        if name in slots:
            return float(self.model.member.state[slots[name]])
        raise AttributeError(name)

    def step(self) -> None:
        m = self.model
        type(self).rule(m.step_index, m.now_h, m.step_hours, m.record, m.compiled_plan,
                        m.kernel_constants)
        self.tell()

    def tell(self) -> None:
        """Say in the story what this step did (only traced runs keep it)."""


class ProvocateurAgent(CountryAgent):
    """Provokes at random (missile or nuclear tests); each provocation raises the decider's
    perceived threat."""

    role = "provocateur"
    rule = steps.provocateur_step

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.provocations = 0

    def tell(self) -> None:
        if self.model.member.report[steps.R_PROVOKED]:
            self.provocations += 1
            self.model.log(f"{self.name} provokes (test no. {self.provocations})")


class CounterpartAgent(CountryAgent):
    """The other party. Its coercion (e.g. export controls) is imposed by dated events; while
    the decider has a decision open it may climb down: offer talks (when an option of that
    decision is conditional on its concession), ease part of its coercion, or lift it."""

    role = "counterpart"
    rule = steps.counterpart_step

    def tell(self) -> None:
        move = int(self.model.member.report[steps.R_COUNTERPART_MOVE])
        if move == L.OFFER_TALKS:
            self.model.log(f"{self.name} concedes: offers talks")
        elif move == L.LIFT_COERCION:
            self.model.log(f"{self.name} concedes: lifts its coercive measures")
        elif move == L.EASE_COERCION:
            self.model.log(f"{self.name} eases part of its coercive measures")


class PatronAgent(CountryAgent):
    """Presses the decider to cooperate, harder as it leans away and a deadline nears; part of
    that pressure falls on the counterpart to concede."""

    role = "patron"
    rule = steps.patron_step


class RivalAgent(CountryAgent):
    """Applies counter-pressure through trade leverage as cooperation looks likely."""

    role = "rival"
    rule = steps.rival_step


class DeciderAgent(CountryAgent):
    """The government that decides: its public opinion moves with events, and at moments of
    attention it makes a noisy (logit) choice weighing domestic cost against alliance,
    security and economic value."""

    role = "decider"
    rule = steps.decider_step

    @property
    def last_utilities(self) -> dict[str, dict[str, float]]:
        """This step's utility of each option of every decision weighed (the open ones)."""
        out = {}
        for d in self.model.decisions:
            row = self.model.member.utilities[d.index, :len(d.option_ids)]
            if row.size and row[0] == row[0]:
                out[d.id] = {o: float(u) for o, u in zip(d.option_ids, row.tolist())}
        return out


class DomesticAgent(CountryAgent):
    """A player in the decider's own country (a party, an opposition, a legislature): its
    stance follows the public as its own election nears; events make it press or fall
    silent. It is the ``player``-th domestic actor of the scenario."""

    role = "domestic"

    def __init__(self, model: DiplomacyModel, actor_id: str, name: str, player: int = 0):
        super().__init__(model, actor_id, name)
        self.player = player

    def state_slots(self) -> dict[str, int]:
        return {name: L.player_state_slot(self.player, name) for name in ROLES[self.role].state}

    def step(self) -> None:
        m = self.model
        steps.domestic_step(m.step_index, m.now_h, m.step_hours, m.record, m.compiled_plan,
                            m.kernel_constants, self.player)
        self.tell()


AGENT_CLASSES: dict[str, type[CountryAgent]] = {
    cls.role: cls
    for cls in (DeciderAgent, CounterpartAgent, PatronAgent, RivalAgent, ProvocateurAgent,
                DomesticAgent)
}
