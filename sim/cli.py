"""The ``diplosim`` command: a dispatcher over one small module per command (sim.commands).

It parses, hands the arguments to the command's ``main``, and turns every failure into one
line on stderr: exit 2 for an error (a bad input, an output refused by the policy, a full disk,
any other failed read or write), 130 for Ctrl-C, 143 for SIGTERM; a staged result is removed
on each of these ways out.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import nullcontext

from sim.commands import COMMANDS
from sim.commands.common import say

PATH_ARGUMENTS = {"scenario": "scenario", "overlay": "overlay", "spec": "spec",
                  "folder": "the folder", "constants": "--constants", "sources": "--sources",
                  "out": "--out", "report": "--report"}


class _Parser(argparse.ArgumentParser):
    """argparse, with control codes escaped in what its errors quote (an unknown argument)."""

    def error(self, message: str):
        from sim.formats.yamlmap import printable

        super().error(printable(message))


def command_module(name: str):
    return importlib.import_module(f"sim.commands.{name}")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="diplosim", description="Agent-based simulator of diplomatic decisions "
                  "(Mesa), scored against a library of recorded decisions.")
    sub = top.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = command_module(name)
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure is one line (see the module's docstring)."""
    args = parser().parse_args(argv)
    module = command_module(args.command)
    from sim.validation import InvalidArgument

    try:
        _check_paths(args)
    except InvalidArgument as exc:
        say("error", str(exc))
        return 2
    from sim.signals import sigterm_raises

    serving = getattr(module, "SERVES", False)  # the page's server handles signals itself
    return _guarded(lambda: module.main(args), nullcontext() if serving else sigterm_raises())


def _guarded(action, signals) -> int:
    from sim.formats.common import ScenarioError
    from sim.formats.yamlmap import printable
    from sim.signals import Stopped, Terminated
    from sim.validation import InvalidArgument

    try:
        with signals:
            return action()
    except (ScenarioError, InvalidArgument) as exc:
        say("error", str(exc))
        return 2
    except BrokenPipeError:
        return 0
    except Stopped as exc:
        print(f"diplosim: {printable(str(exc))}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("diplosim: interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except Terminated:
        print("diplosim: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        say("error", f"{where}{exc.strerror or exc}")
        return 2


def _check_paths(args) -> None:
    """Every path given as an argument is one the system can look up (no name too long)."""
    from sim import validation

    for attr, name in PATH_ARGUMENTS.items():
        if isinstance(getattr(args, attr, None), str):
            validation.file_name(name, getattr(args, attr))
    for path in getattr(args, "scenarios", None) or []:
        validation.file_name("each scenario", path)


if __name__ == "__main__":
    sys.exit(main())
