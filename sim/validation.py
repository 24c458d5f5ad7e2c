"""One validation layer for everything a user gives: the commands' flags, the sweep spec and
the other files' numbers, and the Python API's arguments.

Every check here is strict (no bool or text where a number is expected, no float where a
whole number is) and says what is wrong in one plain sentence naming the argument and its
bound. The commands print that sentence as their one ``diplosim: error:`` line, the file
loaders locate it at the key and line, and the API raises it as :class:`InvalidArgument` (a
``ValueError``; :class:`WrongType`, for an argument of the wrong type, is a ``TypeError``
too). The pydantic types at the end run the same checks inside the file schemas.

Cost is bounded before any work starts: :mod:`sim.model.cost` refuses an estimate above
:data:`MAX_WORK` (as :class:`TooLarge`) unless the caller allows large jobs
(``--allow-large``, ``allow_large=True``).
"""

from __future__ import annotations

import math
import numbers
import os
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from sim.defaults import (  # noqa: F401  (the bounds, kept light for the command line)
    MAX_LEVELS, MAX_MEMBERS, MAX_POINTS, MAX_POINTS_DISCOVER, MAX_RUNS, MAX_SAMPLES, MAX_SEED,
    MAX_WORK, bound_text,
)
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


def engine(value: Any) -> str:
    if value not in ("vector", "agents"):
        raise InvalidArgument(f"engine must be 'vector' or 'agents', got {_shown(value)}")
    return value


# -- sweeps --------------------------------------------------------------------------------------


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
