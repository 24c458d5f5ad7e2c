"""What the commands share: argument types and groups, one-line messages, progress, JSON."""

from __future__ import annotations

import argparse
import json
import sys

from sim.defaults import DEFAULT_SEED, MAX_RUNS, MAX_SEED, MAX_WORK, bound_text

ALLOW_LARGE = "--allow-large"
FORCE_HELP = ("also replace an earlier diplosim result of another kind there (never a file, "
              "link, device or folder diplosim did not write)")


def whole_number(low: int, high: int):
    """An argparse type: a whole number in [low, high], refused at the command line otherwise
    (a negative seed or a runaway run count never reaches the modules)."""

    def parse(text: str) -> int:
        from sim import validation

        try:
            return validation.whole_number("", int(text), low, high)
        except ValueError:  # validation.InvalidArgument is a ValueError
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {bound_text(low)} to {bound_text(high)}, got "
                f"{text!r}") from None

    parse.__name__ = "whole number"
    return parse


def say(kind: str, message: str, file=None) -> None:
    """One line on stderr, ``diplosim: error: ...`` (or note, warning), control codes escaped."""
    from sim.formats.yamlmap import printable

    print(f"diplosim: {kind}: {printable(message)}", file=file or sys.stderr)


def inputs(p: argparse.ArgumentParser) -> None:
    """Where the constants and the cited source texts come from."""
    p.add_argument("--constants", help="constants file (default calibration/constants3.yaml, "
                   "fitted on the library)")
    p.add_argument("--sources", help="folder holding the cited source files (default: "
                   "$DIPLOSIM_SOURCES, else a 'shared' folder beside the project)")


def seeded(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=whole_number(0, MAX_SEED), default=DEFAULT_SEED,
                   help="root seed, 0 to 2**63-1 (default %(default)s)")


def quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bar, no compile notice")


def large(p: argparse.ArgumentParser) -> None:
    p.add_argument(ALLOW_LARGE, action="store_true",
                   help=f"run even when the work estimated before the start exceeds "
                   f"{MAX_WORK:.0e} units (minutes to tens of minutes of one core)")


def runs(p: argparse.ArgumentParser, default: int) -> None:
    p.add_argument("--runs", type=whole_number(1, MAX_RUNS), default=default,
                   help=f"ensemble size, 1 to {MAX_RUNS:,} (default {default})")


def ensemble(p: argparse.ArgumentParser, default_runs: int) -> None:
    """--runs, --seed, --constants, --sources, --quiet, --allow-large, --engine."""
    runs(p, default_runs)
    seeded(p)
    inputs(p)
    quiet(p)
    large(p)
    p.add_argument("--engine", choices=["vector", "agents"], default="vector",
                   help="vector: the compiled ensemble (default; proven equal to the agents by "
                   "the test suite); agents: one Mesa model per run")


def force(p: argparse.ArgumentParser, text: str = FORCE_HELP) -> None:
    p.add_argument("--force", action="store_true", help=text)


def progress(total: int | None, quiet_: bool, label: str, unit: str = "run"):
    """(update, close): a tqdm bar on a terminal; nothing otherwise."""
    if quiet_ or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit=unit, leave=False, file=sys.stderr)
    return bar.update, bar.close


def strict_json(value) -> str:
    """Strict JSON (RFC 8259) for standard output: NaN and infinities are written as null."""
    from sim.outputs.report import json_safe

    return json.dumps(json_safe(value), indent=2, allow_nan=False)


def say_replaced(note: str | None, file=None) -> None:
    """Tell the user when an earlier result in the output folder was replaced."""
    if note:
        print(note, file=file or sys.stdout)


def compile_notice(args) -> None:
    """Say once, before the first run of a fresh install, that the model is being compiled."""
    if getattr(args, "quiet", False):
        return
    try:
        from sim.model.compiled import cache_is_cold
    except ImportError:
        return
    if cache_is_cold():
        say("note", "compiling the model (once per install, about 20 s)")
