"""Country agents: one Mesa agent class per role, each acting once per step.

An agent holds its drawn parameters and its state; it observes the others through the model
and acts through the pure rules in :mod:`sim.decision`. Random numbers are never drawn here:
each agent reads its own column of the model's pre-drawn shock table for the current step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from sim import decision as rules

if TYPE_CHECKING:
    from sim.model import DecisionState, DiplomacyModel


class CountryAgent(mesa.Agent):
    """An actor of the scenario in one role."""

    role: ClassVar[str] = ""
    model: DiplomacyModel

    def __init__(self, model: DiplomacyModel, actor_id: str, name: str, params: dict[str, float]):
        super().__init__(model)
        self.actor_id = actor_id
        self.name = name
        self.params = params

    def apply_effect(self, variable: str, op: str, magnitude: float) -> None:
        """Apply an event's declared effect to one state variable (kept within 0..1)."""
        current = getattr(self, variable)
        value = current + magnitude if op == "add" else magnitude
        setattr(self, variable, min(1.0, max(0.0, value)))

    def state(self) -> dict[str, float]:
        """The state variables events may change (for traces and the data collector)."""
        from sim.roles import ROLES

        return {name: float(getattr(self, name)) for name in ROLES[self.role].state}


class ProvocateurAgent(CountryAgent):
    """Provokes at random (missile or nuclear tests); each provocation raises the decider's
    perceived threat."""

    role = "provocateur"
    CHANNEL = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.provocations = 0

    def step(self) -> None:
        m = self.model
        p = rules.provocation_probability(self.params["provocation_rate_per_day"], m.step_hours)
        if m.shock(self.CHANNEL) < p:
            self.provocations += 1
            decider = m.decider
            if decider is not None:
                decider.threat = float(
                    rules.threat_after_provocation(decider.threat, self.params["threat_jump"])
                )
            m.log(f"{self.name} provokes (test no. {self.provocations})")


class CounterpartAgent(CountryAgent):
    """The other party. Its coercion (e.g. export controls) is imposed by dated events; while
    the decider has a decision open it may climb down: offer talks (when an option of that
    decision is conditional on its concession) or lift its coercion altogether."""

    role = "counterpart"
    ATTENTION, CHOICE = 1, 2
    MOVES = ("hold", "offer_talks", "lift_coercion")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.coercion = self.params["initial_coercion"]
        self.concession = 0.0

    def pressure_on_me(self) -> float:
        patron = self.model.patron
        if patron is None:
            return 0.0
        return patron.pressure * patron.params["counterpart_pressure"]

    def move_probabilities(self, talks_open: bool) -> np.ndarray:
        """Logit over (hold, offer talks, lift coercion) given what is open right now."""
        utilities = np.asarray(
            rules.counterpart_move_utilities(
                self.params["talks_willingness"],
                self.params["hard_line"],
                self.pressure_on_me(),
                self.params["pressure_responsiveness"],
            )
        )
        available = np.array([True, talks_open, self.coercion > 0.0])
        return rules.logit_probabilities(utilities, self.model.constants.temperature, available)

    def step(self) -> None:
        m = self.model
        pending = m.first_open_decision()
        if pending is None:
            return
        talks_open = self.concession < 1.0 and m.decision_awaiting_concession(self.actor_id) is not None
        if not talks_open and self.coercion <= 0.0:
            return
        c = m.constants
        attention = rules.attention_probability(
            m.hours_to(pending), m.step_hours, c.attention_rate, c.attention_floor_hours
        )
        if m.shock(self.ATTENTION) >= attention:
            return
        move = self.MOVES[int(rules.choose(self.move_probabilities(talks_open), m.shock(self.CHOICE)))]
        if move == "offer_talks":
            self.concession = 1.0
            m.log(f"{self.name} concedes: offers talks")
        elif move == "lift_coercion":
            self.concession = 1.0
            self.coercion = 0.0
            m.log(f"{self.name} concedes: lifts its coercive measures")


class PatronAgent(CountryAgent):
    """Presses the decider to cooperate, harder as it leans away and a deadline nears; part of
    that pressure falls on the counterpart to concede."""

    role = "patron"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pressure = self.params["base_pressure"]

    def step(self) -> None:
        m = self.model
        pending = m.first_open_decision()
        proximity = (
            0.0
            if pending is None
            else rules.deadline_proximity(m.hours_to(pending), m.constants.deadline_horizon_days)
        )
        target = rules.patron_target(
            self.params["base_pressure"], self.params["escalation"], m.lean_away, proximity
        )
        self.pressure = float(
            rules.relax(self.pressure, target, m.step_hours, m.constants.pressure_adjustment_days)
        )


class RivalAgent(CountryAgent):
    """Applies counter-pressure through trade leverage as cooperation looks likely."""

    role = "rival"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pressure = 0.0

    def step(self) -> None:
        m = self.model
        target = rules.rival_target(
            self.params["opposition"], self.params["trade_leverage"], m.lean_away
        )
        self.pressure = float(
            rules.relax(self.pressure, target, m.step_hours, m.constants.pressure_adjustment_days)
        )


class DeciderAgent(CountryAgent):
    """The government that decides: its public opinion moves with events, and at moments of
    attention it makes a noisy (logit) choice weighing domestic cost against alliance,
    security and economic value."""

    role = "decider"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.params
        self.opposition = p["initial_opposition"]
        self.salience = p["salience"]
        self.threat = p["threat_perception"]
        self.grievance = p["grievance"]
        self.alliance_dependence = p["alliance_dependence"]
        self.last_utilities: dict[str, dict[str, float]] = {}
        self._probabilities: dict[str, np.ndarray] = {}  # this step's, per open decision

    # -- what it observes -------------------------------------------------------------------
    def drivers(self) -> dict[str, float]:
        """The current inputs of the decision rule, each 0..1."""
        m = self.model
        patron, rival, counterpart = m.patron, m.rival, m.counterpart
        return {
            "domestic": float(
                rules.domestic_cost(
                    self.opposition, self.salience, m.election_proximity(self.actor_id), self.grievance
                )
            ),
            "alliance_value": self.alliance_dependence * (patron.pressure if patron else 0.0),
            "security_value": self.threat * self.params["commitment_security_value"],
            "rival_economy": self.params["rival_trade_exposure"] * (rival.pressure if rival else 0.0),
            "coercion": counterpart.coercion if counterpart else 0.0,
        }

    def utility_terms(self, pending: DecisionState) -> dict[str, np.ndarray]:
        return rules.option_terms(
            pending.cooperation,
            pending.conceded(self.model),
            pending.is_default,
            concession_credit=self.params["concession_credit"],
            constants=self.model.constants,
            **self.drivers(),
        )

    def choice_probabilities(self, pending: DecisionState) -> tuple[np.ndarray, np.ndarray]:
        """(utilities, probabilities) over the decision's options right now."""
        utilities = rules.total_utility(self.utility_terms(pending))
        available = pending.available(self.model)
        return utilities, rules.logit_probabilities(
            utilities, self.model.constants.temperature, available
        )

    # -- how it acts --------------------------------------------------------------------------
    def update_opinion(self) -> None:
        m, p, c = self.model, self.params, self.model.constants
        patron, counterpart = m.patron, m.counterpart
        target = rules.opinion_target(
            p["initial_opposition"],
            p["coercion_sensitivity"],
            counterpart.coercion if counterpart else 0.0,
            p["pressure_backlash"],
            patron.params["publicity"] if patron else 0.0,
            (patron.pressure - patron.params["base_pressure"]) if patron else 0.0,
        )
        self.opposition = float(rules.relax(self.opposition, target, m.step_hours, c.opinion_adjustment_days))
        self.threat = float(
            rules.relax(self.threat, p["threat_perception"], m.step_hours, c.threat_decay_days)
        )

    def step(self) -> None:
        m, c = self.model, self.model.constants
        self.update_opinion()
        self.last_utilities = {}
        self._probabilities = {}
        for pending in m.open_decisions():
            utilities, probabilities = self.choice_probabilities(pending)
            self._probabilities[pending.id] = probabilities
            self.last_utilities[pending.id] = {
                option: float(u) for option, u in zip(pending.option_ids, utilities, strict=True)
            }
            attention = rules.attention_probability(
                m.hours_to(pending), m.step_hours, c.attention_rate, c.attention_floor_hours
            )
            if m.shock(pending.attention_channel) >= attention:
                continue
            chosen = int(rules.choose(probabilities, m.shock(pending.choice_channel)))
            if chosen != pending.default_index:
                m.resolve(pending, chosen, by_default=False)
        m.lean_away = self.current_lean_away()

    def current_lean_away(self) -> float:
        """How far the decider publicly leans away from cooperating: the expected
        non-cooperation of the first open decision, else of the last one resolved."""
        m = self.model
        pending = m.first_open_decision()
        if pending is not None:
            probabilities = self._probabilities.get(pending.id)
            if probabilities is None:
                _, probabilities = self.choice_probabilities(pending)
            return float(rules.expected_non_cooperation(probabilities, pending.cooperation))
        resolved = m.last_resolved_decision()
        if resolved is not None:
            return float(1.0 - resolved.cooperation[resolved.option_index])
        return 0.0


AGENT_CLASSES: dict[str, type[CountryAgent]] = {
    cls.role: cls
    for cls in (DeciderAgent, CounterpartAgent, PatronAgent, RivalAgent, ProvocateurAgent)
}
# Each step the actors move in this order: the provocateur's tests and the counterpart's move
# come first, the patron and rival then respond to where the decider leaned at the last step,
# and the decider weighs everything last.
STEP_ORDER: tuple[str, ...] = ("provocateur", "counterpart", "patron", "rival", "decider")
