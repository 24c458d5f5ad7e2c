"""The vocabulary of roles: which parameters and state variables each kind of actor has.

A scenario casts each actor in one role. Roles describe behaviour in an alliance crisis, not
particular countries, so the same vocabulary carries other crises: a *decider* weighing a
commitment under domestic constraint, a *counterpart* on the other side of the commitment, a
*patron* ally pressing for it, a *rival* power opposing it, and a *provocateur* whose actions
raise threat. Both the scenario loader (validation) and the agents (behaviour) read this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import inf


@dataclass(frozen=True)
class ParameterSpec:
    """One actor parameter: its meaning and the bounds any value or range must respect."""

    description: str
    lo: float = 0.0
    hi: float = 1.0
    optional: bool = False  # a scenario may leave it out: its mechanism is then off (0)


@dataclass(frozen=True)
class RoleSpec:
    """A role: what it does, its parameters, and the state variables events may change."""

    description: str
    parameters: dict[str, ParameterSpec]
    state: dict[str, str]


ROLES: dict[str, RoleSpec] = {
    "decider": RoleSpec(
        description="Government choosing among a decision's options (a two-level game: "
        "domestic cost against alliance, security and economic value).",
        parameters={
            "initial_opposition": ParameterSpec(
                "Share of the public opposed to cooperating (the pact) at the start of the clock."
            ),
            "salience": ParameterSpec(
                "How visible the issue is to the public at the start (0 hidden, 1 front page); "
                "scales domestic cost."
            ),
            "grievance": ParameterSpec(
                "Historical grievance toward the counterpart; amplifies domestic cost."
            ),
            "alliance_dependence": ParameterSpec(
                "How much the government values the patron's approval; scales patron pressure."
            ),
            "threat_perception": ParameterSpec(
                "Baseline perceived threat from the provocateur; security value of cooperating."
            ),
            "commitment_security_value": ParameterSpec(
                "How much the commitment itself adds to security against the threat "
                "(its marginal intelligence value); scales the security term."
            ),
            "rival_trade_exposure": ParameterSpec(
                "Exposure of the economy to the rival power (trade share); scales rival pressure."
            ),
            "coercion_sensitivity": ParameterSpec(
                "Rise in public opposition per unit of the counterpart's coercion "
                "(e.g. export controls)."
            ),
            "pressure_backlash": ParameterSpec(
                "Rise in public opposition per unit of public patron pressure "
                "(being seen to cave)."
            ),
            "concession_credit": ParameterSpec(
                "Share of domestic cost and lost leverage that a counterpart concession offsets "
                "for a conditional option."
            ),
            "public_accountability": ParameterSpec(
                "How much the executive answers to the public directly (re-election "
                "eligibility, term, approval); 1/2 is Model 1's fixed share."
            ),
            "leader_preference": ParameterSpec(
                "The leader's own preference for cooperating, apart from opinion (-1 wants out, "
                "+1 wants in).", -1.0, 1.0
            ),
        },
        state={
            "opposition": "public opposition to cooperating, 0..1",
            "salience": "visibility of the issue, 0..1",
            "threat": "perceived threat, 0..1",
            "grievance": "historical grievance, 0..1",
            "alliance_dependence": "value placed on the patron's approval, 0..1",
            "coercion_answered": "share of the counterpart's coercion answered through another "
            "channel (a trade complaint, counter-measures), 0..1; starts at 0",
            "demand": "how publicly it has tied its cooperation to the counterpart's move (a "
            "demand in return), 0..1; starts at 0; backing down from it costs at home",
        },
    ),
    "counterpart": RoleSpec(
        description="The other party to the commitment: its coercion (e.g. export controls) is "
        "imposed by dated events; while a decision is open it may climb down, offering talks "
        "(when an option awaits its concession), easing part of its coercion or lifting it.",
        parameters={
            "hard_line": ParameterSpec("Domestic hard line against conceding."),
            "talks_willingness": ParameterSpec("Baseline willingness to offer talks."),
            "initial_coercion": ParameterSpec(
                "Coercion in force at the start (0 none, 1 maximal measures)."
            ),
            "pressure_responsiveness": ParameterSpec(
                "How far patron pressure on the counterpart moves it toward conceding."
            ),
            "easing_share": ParameterSpec(
                "Share of its coercion one partial easing lifts (a licence granted, one item "
                "freed); optional: without it the counterpart does not ease piecemeal.",
                optional=True,
            ),
        },
        state={
            "coercion": "coercive measures in force against the decider, 0..1",
            "concession": "1 once the counterpart has conceded (offered talks or lifted its "
            "coercion), else 0",
        },
    ),
    "patron": RoleSpec(
        description="Ally of both parties pressing the decider to cooperate and, near a "
        "deadline, the counterpart to concede; it may also offer inducements.",
        parameters={
            "base_pressure": ParameterSpec("Pressure on the decider before any escalation."),
            "escalation": ParameterSpec(
                "Extra pressure when the decider leans away as a deadline nears."
            ),
            "counterpart_pressure": ParameterSpec(
                "Share of its pressure the patron also applies to the counterpart."
            ),
            "publicity": ParameterSpec(
                "How public the pressure is (public statements feed backlash)."
            ),
            "inducement": ParameterSpec(
                "What it offers the decider for cooperating (aid, arms, donations, visits), "
                "apart from pressure: no backlash at home; optional.",
                optional=True,
            ),
        },
        state={"pressure": "pressure on the decider to cooperate, 0..1",
               "inducement": "what it has on the table for cooperating, 0..1; starts at its "
               "`inducement` (0 if not given)"},
    ),
    "rival": RoleSpec(
        description="Power opposing the commitment, applying counter-pressure through trade "
        "leverage as cooperation looks likely, and perhaps offering inducements to stay out.",
        parameters={
            "opposition": ParameterSpec("How strongly the rival opposes the commitment."),
            "trade_leverage": ParameterSpec("Leverage the rival holds over the decider's trade."),
            "inducement": ParameterSpec(
                "What it offers the decider for not cooperating (investment, aid, loans): a "
                "rival that induces as well as threatens; optional.",
                optional=True,
            ),
        },
        state={"pressure": "counter-pressure on the decider, 0..1",
               "inducement": "what it has on the table for not cooperating, 0..1; starts at "
               "its `inducement` (0 if not given)"},
    ),
    "provocateur": RoleSpec(
        description="Actor whose stochastic provocations (missile or nuclear tests) raise the "
        "decider's threat perception.",
        parameters={
            "provocation_rate_per_day": ParameterSpec(
                "Expected provocations per day (Poisson rate).", 0.0, inf
            ),
            "threat_jump": ParameterSpec(
                "Share of the remaining distance to maximal threat closed by one provocation."
            ),
        },
        state={},
    ),
}

ROLES["domestic"] = RoleSpec(
    description="A player in the decider's own country (a ruling party, an opposition, a "
    "faction, a legislature): its stance follows the public as its own election nears, and "
    "the executive weighs the cost it can impose while it presses; with a veto, its consent is "
    "needed for any step more cooperative than the default.",
    parameters={
        "opposition": ParameterSpec("Its own stance against cooperating, 0..1."),
        "leverage": ParameterSpec(
            "What defying it costs the executive, on the scale where a fully visible, fully "
            "opposed, fully aggrieved public costs 1."
        ),
        "initial_pressing": ParameterSpec(
            "How actively it presses at the start (0 silent, 1 a public demand)."
        ),
    },
    state={
        "pressing": "how actively it presses the executive, 0..1",
        "stance": "its effective stance against cooperating, 0..1 (follows the public as its "
        "election nears)",
    },
)

ROLE_NAMES: tuple[str, ...] = tuple(ROLES)
MULTI_ROLES: tuple[str, ...] = ("domestic",)
"""Roles that may be cast more than once (every other role at most once)."""
SINGLE_ROLES: tuple[str, ...] = tuple(r for r in ROLE_NAMES if r not in MULTI_ROLES)
