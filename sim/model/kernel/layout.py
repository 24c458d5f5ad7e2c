"""Where each role's parameters and state live in a member's flat arrays.

A member is two float arrays: ``values`` (every drawn quantity, in ``drawn_quantities``
order) and ``state`` (every role's state variables, plus the decider's public lean). The
tables below are built from :data:`sim.model.roles.ROLES`, so a role's vocabulary is declared once;
the step rules read slots by these constant names, which Numba folds in at compile time.
"""

from __future__ import annotations

from sim.model.roles import ROLE_NAMES, ROLES, SINGLE_ROLES

ROLE_INDEX: dict[str, int] = {role: i for i, role in enumerate(ROLE_NAMES)}
DECIDER, COUNTERPART, PATRON, RIVAL, PROVOCATEUR, DOMESTIC = (
    ROLE_INDEX[r] for r in ("decider", "counterpart", "patron", "rival", "provocateur",
                            "domestic")
)

# Roles cast at most once have fixed slots; the players of a role cast many times (domestic)
# have theirs after the fixed state, player by player (see player_state_slot).
PARAMETER_SLOTS: dict[tuple[str, str], int] = {}
for _role in SINGLE_ROLES:
    for _name in ROLES[_role].parameters:
        PARAMETER_SLOTS[(_role, _name)] = len(PARAMETER_SLOTS)

STATE_SLOTS: dict[tuple[str, str], int] = {}
for _role in SINGLE_ROLES:
    for _name in ROLES[_role].state:
        STATE_SLOTS[(_role, _name)] = len(STATE_SLOTS)
LEAN = len(STATE_SLOTS)  # how far the decider publicly leans away from cooperating
N_STATE = LEAN + 1  # the fixed state; a member's state adds N_PLAYER_STATE per domestic player
N_PARAMETERS = len(PARAMETER_SLOTS)

# A domestic player's parameters (columns of plan.player_column) and state (offsets).
PLAYER_PARAMETERS: tuple[str, ...] = tuple(ROLES["domestic"].parameters)
PLAYER_STATE: tuple[str, ...] = tuple(ROLES["domestic"].state)
PP_OPPOSITION, PP_LEVERAGE, PP_INITIAL_PRESSING = (
    PLAYER_PARAMETERS.index(n) for n in ("opposition", "leverage", "initial_pressing"))
PS_PRESSING, PS_STANCE = (PLAYER_STATE.index(n) for n in ("pressing", "stance"))
N_PLAYER_STATE = len(PLAYER_STATE)


def player_state_slot(player: int, variable: str) -> int:
    """Where domestic player number ``player`` keeps state ``variable``."""
    return N_STATE + N_PLAYER_STATE * player + PLAYER_STATE.index(variable)


def _p(role: str, name: str) -> int:
    return PARAMETER_SLOTS[(role, name)]


def _s(role: str, name: str) -> int:
    return STATE_SLOTS[(role, name)]


# decider
P_INITIAL_OPPOSITION = _p("decider", "initial_opposition")
P_SALIENCE = _p("decider", "salience")
P_GRIEVANCE = _p("decider", "grievance")
P_ALLIANCE_DEPENDENCE = _p("decider", "alliance_dependence")
P_THREAT_PERCEPTION = _p("decider", "threat_perception")
P_SECURITY_VALUE = _p("decider", "commitment_security_value")
P_RIVAL_EXPOSURE = _p("decider", "rival_trade_exposure")
P_COERCION_SENSITIVITY = _p("decider", "coercion_sensitivity")
P_PRESSURE_BACKLASH = _p("decider", "pressure_backlash")
P_CONCESSION_CREDIT = _p("decider", "concession_credit")
P_ACCOUNTABILITY = _p("decider", "public_accountability")
P_LEADER_PREFERENCE = _p("decider", "leader_preference")
S_OPPOSITION = _s("decider", "opposition")
S_SALIENCE = _s("decider", "salience")
S_THREAT = _s("decider", "threat")
S_GRIEVANCE = _s("decider", "grievance")
S_ALLIANCE_DEPENDENCE = _s("decider", "alliance_dependence")
S_COERCION_ANSWERED = _s("decider", "coercion_answered")
S_DEMAND = _s("decider", "demand")
# counterpart
P_HARD_LINE = _p("counterpart", "hard_line")
P_TALKS_WILLINGNESS = _p("counterpart", "talks_willingness")
P_INITIAL_COERCION = _p("counterpart", "initial_coercion")
P_RESPONSIVENESS = _p("counterpart", "pressure_responsiveness")
P_EASING_SHARE = _p("counterpart", "easing_share")
S_COERCION = _s("counterpart", "coercion")
S_CONCESSION = _s("counterpart", "concession")
# patron
P_BASE_PRESSURE = _p("patron", "base_pressure")
P_ESCALATION = _p("patron", "escalation")
P_COUNTERPART_PRESSURE = _p("patron", "counterpart_pressure")
P_PUBLICITY = _p("patron", "publicity")
P_PATRON_INDUCEMENT = _p("patron", "inducement")
S_PATRON_PRESSURE = _s("patron", "pressure")
S_PATRON_INDUCEMENT = _s("patron", "inducement")
# rival
P_RIVAL_OPPOSITION = _p("rival", "opposition")
P_TRADE_LEVERAGE = _p("rival", "trade_leverage")
P_RIVAL_INDUCEMENT = _p("rival", "inducement")
S_RIVAL_PRESSURE = _s("rival", "pressure")
S_RIVAL_INDUCEMENT = _s("rival", "inducement")
# provocateur
P_PROVOCATION_RATE = _p("provocateur", "provocation_rate_per_day")
P_THREAT_JUMP = _p("provocateur", "threat_jump")

# Initial state: each state variable starts from a parameter of its role, or from 0.
INITIAL_STATE: dict[int, int] = {
    S_OPPOSITION: P_INITIAL_OPPOSITION,
    S_SALIENCE: P_SALIENCE,
    S_THREAT: P_THREAT_PERCEPTION,
    S_GRIEVANCE: P_GRIEVANCE,
    S_ALLIANCE_DEPENDENCE: P_ALLIANCE_DEPENDENCE,
    S_COERCION: P_INITIAL_COERCION,
    S_PATRON_PRESSURE: P_BASE_PRESSURE,
    S_PATRON_INDUCEMENT: P_PATRON_INDUCEMENT,
    S_RIVAL_INDUCEMENT: P_RIVAL_INDUCEMENT,
}

# Shock channels of a step: three fixed ones, then (attention, choice) per decision.
CH_PROVOCATION, CH_COUNTERPART_ATTENTION, CH_COUNTERPART_CHOICE = 0, 1, 2
N_FIXED_CHANNELS = 3

# Decision status codes.
WAITING, OPEN, RESOLVED, NOT_REACHED = 0, 1, 2, 3

# The counterpart's moves (easing last: where it cannot ease, the choice is over the first
# three, exactly as before easing existed).
HOLD, OFFER_TALKS, LIFT_COERCION, EASE_COERCION = 0, 1, 2, 3
N_MOVES = 4

# Attention schedules of a decision.
ATTENTION_DEADLINE, ATTENTION_EVEN = 0, 1

# The decider's utility terms, in the order they are summed and reported.
UTILITY_TERMS: tuple[str, ...] = (
    "domestic", "alliance", "security", "rival_economy", "coercion", "leader", "inducement",
    "flexibility", "action_cost",
)
(T_DOMESTIC, T_ALLIANCE, T_SECURITY, T_RIVAL_ECONOMY, T_COERCION, T_LEADER, T_INDUCEMENT,
 T_FLEXIBILITY, T_ACTION_COST) = range(9)
N_TERMS = len(UTILITY_TERMS)
