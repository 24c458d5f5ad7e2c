"""One validation layer for everything a user gives: the commands' flags, the sweep spec and
the other files' numbers, and the Python API's arguments.

Every check here is strict (no bool or text where a number is expected, no float where a
whole number is) and says what is wrong in one plain sentence naming the argument and its
bound. The commands print that sentence as their one ``diplosim: error:`` line, the file
loaders locate it at the key and line, and the API raises it as :class:`InvalidArgument` (a
``ValueError``; :class:`WrongType`, for an argument of the wrong type, is a ``TypeError``
too). The pydantic types at the end run the same checks inside the file schemas.

Cost is bounded before any work starts: :func:`check_work` refuses an estimate above
:data:`MAX_WORK` unless the caller allows large jobs (``--allow-large``, ``allow_large=True``).
"""

from __future__ import annotations

import math
import numbers
import os
import re
from typing import Annotated, Any, Mapping

from pydantic import AfterValidator, BeforeValidator, Field

MAX_SEED = 2**63 - 1  # seeds are non-negative 64-bit integers (NumPy refuses negative ones)
MAX_RUNS = 10_000_000  # runs of one ensemble
MAX_MEMBERS = 1_000_000  # members per sweep point or Saltelli point
MAX_SAMPLES = 1_000_000  # N of a sweep design or of Saltelli's scheme
MAX_LEVELS = 1000  # grid points per axis, Morris levels
MAX_POINTS = 1_000_000  # points of one sweep design (its memory), whatever the method
# Estimated work (members x steps x decisions) refused without --allow-large: at about 300 ns
# per member, step and decision, 10**10 is about an hour of one core.
MAX_WORK = 10**10
MAX_NAME_BYTES = 255  # one file or folder name (a path's component), as most file systems allow
METHODS = ("grid", "lhs", "sobol", "morris")


class InvalidArgument(ValueError):
    """A misused argument or value: one plain sentence naming it and its bound. ``key`` is
    the parameter a sweep's bounds were given for, when the problem is about one."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class WrongType(InvalidArgument, TypeError):
    """An argument of the wrong type (a bool or text where a number is expected)."""


class TooLarge(InvalidArgument):
    """Work estimated above :data:`MAX_WORK`, or a design above :data:`MAX_POINTS`."""


def _named(name: str, rule: str) -> str:
    return f"{name} {rule}" if name else rule


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def bound_text(value: int) -> str:
    return "2**63-1" if value == MAX_SEED else f"{value:,}"


# -- numbers -------------------------------------------------------------------------------------


def whole_number(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in [low, high]; a bool, a float (even 2.0) or text is refused."""
    rule = f"must be a whole number from {bound_text(low)} to {bound_text(high)}, got {_shown(value)}"
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise WrongType(_named(name, rule))
    if not low <= int(value) <= high:
        raise InvalidArgument(_named(name, rule))
    return int(value)


def count(name: str, value: Any, high: int) -> int:
    """A count of at least 1 and at most ``high`` (runs, members, samples)."""
    return whole_number(name, value, 1, high)


def seed(value: Any, name: str = "seed") -> int:
    """A root seed: a whole number from 0 to 2**63-1."""
    return whole_number(name, value, 0, MAX_SEED)


def real(name: str, value: Any, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` as a finite float in [low, high]; a bool or text is refused."""
    within = f" within [{low:g}, {high:g}]" if math.isfinite(low) or math.isfinite(high) else ""
    rule = f"must be a finite number{within}, got {_shown(value)}"
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise WrongType(_named(name, rule))
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not (math.isfinite(number) and low <= number <= high):
        raise InvalidArgument(_named(name, rule))
    return number


def flag(name: str, value: Any) -> bool:
    """``value`` as a bool: only true or false (not 1, not 'yes')."""
    if not _is_bool(value):
        raise WrongType(_named(name, f"must be true or false (a valid boolean), got "
                                     f"{_shown(value)}"))
    return bool(value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"  # NumPy's too


# -- text and files ------------------------------------------------------------------------------


def quote(name: str, value: str) -> str:
    """A quote must hold at least one word (a letter or digit): a quote of blanks or
    punctuation is found in any source."""
    if not re.search(r"\w", value):
        raise InvalidArgument(_named(name, "must hold at least one word of its source, got "
                                     f"{_shown(value)}"))
    return value


def file_name(name: str, value: Any) -> str:
    """A path given as text: no NUL byte, no name (component) longer than 255 bytes."""
    if not isinstance(value, (str, os.PathLike)):
        raise WrongType(_named(name, f"must be a file path, got {type(value).__name__} "
                                     f"{_shown(value)}"))
    text = os.fspath(value)
    if not isinstance(text, str):
        raise WrongType(_named(name, "must be a file path as text, got bytes"))
    if "\x00" in text:
        raise InvalidArgument(_named(name, "must be a file path without a NUL byte"))
    longest = max((len(part.encode("utf-8", "surrogateescape"))
                   for part in re.split(r"[/\\]", text)), default=0)
    if longest > MAX_NAME_BYTES:
        raise InvalidArgument(_named(name, f"holds a file name of {longest} bytes; at most "
                                     f"{MAX_NAME_BYTES} are allowed in one name"))
    return text


def scenario_like(value: Any, name: str = "scenario") -> Any:
    """A Scenario, a loaded scenario, or a file path or shipped name (checked as a path)."""
    from sim.model.scenario import LoadedScenario, Scenario

    if isinstance(value, (Scenario, LoadedScenario)):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise WrongType(_named(name, "must be a Scenario, a file path or a shipped scenario's "
                                     f"name, got {type(value).__name__} {_shown(value)}"))
    return file_name(name, value)


def overrides(value: Any) -> dict[str, Any]:
    """Overrides ("actor.parameter" -> value): nothing, or a mapping (its values are checked
    against the scenario's bounds where they are applied)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise WrongType("overrides must map drawn quantities ('actor.parameter') to values, got "
                        f"{type(value).__name__} {_shown(value)}")
    return dict(value)


def scenario_list(value: Any) -> list[Any] | None:
    """Scenarios to validate: nothing (every shipped one) or a list of scenarios."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, os.PathLike)) or not hasattr(value, "__iter__"):
        raise WrongType("scenarios must be a list of scenarios (names, paths or Scenario "
                        f"objects), got {type(value).__name__} {_shown(value)}; put one in a list")
    return [scenario_like(item, "each of scenarios") for item in value]


def engine(value: Any) -> str:
    if value not in ("vector", "agents"):
        raise InvalidArgument(f"engine must be 'vector' or 'agents', got {_shown(value)}")
    return value


# -- sweeps --------------------------------------------------------------------------------------


def sweep_parameters(scenario: Any, parameters: Any) -> dict[str, tuple[float, float]]:
    """A sweep's bounds ("actor.parameter" -> (lo, hi)): at least one, each a drawn quantity of
    ``scenario``, lo < hi, both within the bounds the scenario format allows for it."""
    if not isinstance(parameters, Mapping) or not parameters:
        raise InvalidArgument("parameters must map at least one drawn quantity "
                              "('actor.parameter') to its bounds (lo, hi)")
    bounds = {}
    for key, pair in parameters.items():
        try:
            bounds[key] = _sweep_bounds(scenario, key, pair)
        except InvalidArgument as exc:
            exc.key = key
            raise
    return bounds


def _sweep_bounds(scenario: Any, key: Any, pair: Any) -> tuple[float, float]:
    from sim.model.draws import drawn_quantities

    known = [q.key for q in drawn_quantities(scenario)]
    if key not in known:
        shown = sorted(k for k in known if not k.startswith(("event.", "election.")))[:3]
        raise InvalidArgument(f"'{key}' is not a drawn quantity of scenario '{scenario.id}'; "
                              f"expected one of its actor parameters, e.g. {shown}", key)
    if isinstance(pair, (str, bytes)) or not _is_pair(pair):
        raise WrongType(f"'{key}': bounds must be a pair [lo, hi], got {_shown(pair)}", key)
    lo, hi = allowed_bounds(scenario, key)
    first, last = (real(f"'{key}': each bound", v, lo, hi) for v in pair)
    if not first < last:
        raise InvalidArgument(f"'{key}': bounds must be [lo, hi] with lo < hi (a quantity held "
                              f"at one value is not swept; leave it out), got {[first, last]}", key)
    return first, last


def _is_pair(value: Any) -> bool:
    try:
        return len(value) == 2
    except TypeError:
        return False


def allowed_bounds(scenario: Any, key: str) -> tuple[float, float]:
    """The bounds a scenario file allows for a drawn quantity: its role's parameter bounds for
    an actor parameter (``actor.parameter``), [-1, 1] for an event-effect magnitude, [0, 1]
    for an election's quantities."""
    if key.startswith("event."):
        return (-1.0, 1.0)  # Effect's own bounds in the scenario schema
    if key.startswith("election."):
        return (0.0, 1.0)  # a counterpart's voters' hard line, a turnover's chance
    actor_id, name = key.split(".", 1)
    spec = scenario.actors[actor_id].parameter_spec(name)
    return (spec.lo, spec.hi)


def design_size(method: str, samples: int, levels: int, parameters: int,
                second_order: bool = False) -> int:
    """How many points a design has, computed before any is drawn."""
    if method == "grid":
        return levels**parameters
    if method == "sobol":
        return samples * (2 * parameters + 2 if second_order else parameters + 2)
    if method == "morris":
        return samples * (parameters + 1)
    return samples


def check_design(method: Any, samples: Any, levels: Any, parameters: int,
                 second_order: bool = False) -> int:
    """The design's method, samples and levels, and its size within :data:`MAX_POINTS`;
    returns the number of points."""
    if method not in METHODS:
        raise InvalidArgument(f"method must be one of {', '.join(METHODS)}, got {_shown(method)}")
    count("samples", samples, MAX_SAMPLES)
    whole_number("levels", levels, 2, MAX_LEVELS)
    points = design_size(method, samples, levels, parameters, second_order)
    if points > MAX_POINTS:
        shape = (f"{levels}**{parameters} = {points:.3g}" if method == "grid"
                 else f"{points:,}")
        raise TooLarge(f"the {method} design would have {shape} points; at most "
                       f"{MAX_POINTS:,} are allowed (fewer levels, samples or parameters)")
    return points


# -- cost ----------------------------------------------------------------------------------------


def steps_and_decisions(scenario: Any) -> tuple[int, int]:
    """A Model 2 scenario's steps (every decision's fine window counted) and decisions."""
    from sim.model.clock import build_clock

    return build_clock(scenario).n_steps, len(scenario.decisions)


def check_work(what: str, members: int, scenario: Any, allow_large: bool, how: str,
               members_text: str | None = None) -> int:
    """Refuse ``members`` runs of ``scenario`` when members x steps x decisions exceeds
    :data:`MAX_WORK`, unless ``allow_large``; ``how`` says how to allow it (the flag, or the
    keyword). Returns the estimate."""
    steps, decisions = steps_and_decisions(scenario)
    work = members * steps * decisions
    if work > MAX_WORK and not allow_large:
        runs = members_text or f"{members:,} runs"
        raise TooLarge(
            f"{what} would take about {work:.2g} units of work ({runs} x {steps:,} steps x "
            f"{decisions} decisions), above the limit of {MAX_WORK:.0e} units (about an hour "
            f"of one core); pass {how} to run it anyway")
    return work


def check_validation(scenario: Any, runs: int, allow_large: bool, how: str) -> int:
    """A scenario's validation: its runs on its own path and on each recorded path (the
    forced paths), within the cost limit; 0 for a scenario with nothing recorded."""
    from sim.experiments.validate import forced_paths, recorded_decisions

    if not recorded_decisions(scenario):
        return 0
    ensembles = 1 + len(forced_paths(scenario))
    return check_work(f"validating {scenario.id}", runs * ensembles, scenario, allow_large, how,
                      f"{runs:,} runs x {ensembles} ensembles")


# -- the same checks as pydantic types, for the file schemas ---------------------------------------


def _before(check, *args):
    return BeforeValidator(lambda value: check("", value, *args))


Number = Annotated[float, _before(real)]  # finite, not a bool, not text


def NumberWithin(**bounds: float) -> Any:  # noqa: N802 - a type, as pydantic's confloat
    """A Number with pydantic's bounds (``gt``, ``ge``, ``le``) inside the type, so that an
    optional one keeps them in its JSON Schema."""
    return Annotated[float, Field(**bounds), _before(real)]
Flag = Annotated[bool, _before(flag)]
Quote = Annotated[str, Field(min_length=1), AfterValidator(lambda value: quote("", value))]
FileName = Annotated[str, Field(min_length=1), AfterValidator(lambda value: file_name("", value))]
Seed = Annotated[int, BeforeValidator(lambda value: seed(value, ""))]


def WholeNumber(low: int, high: int) -> Any:  # noqa: N802 - a type, as pydantic's conint
    """An int in [low, high] (not a bool, not a float, not text)."""
    return Annotated[int, _before(whole_number, low, high)]
