"""diplosim validate: score simulated decisions against the recorded ones (the library by
default), beside the reference forecasters."""

from __future__ import annotations

import sys

from sim.commands import common

HELP = "compare simulated decisions with the recorded outcomes"


def add_arguments(p) -> None:
    p.add_argument("scenarios", nargs="*", help="library episodes or scenario files (default: "
                   "every episode of the library)")
    common.ensemble(p, 2000)
    p.add_argument("--library", action="store_true", help="also score every library episode")
    p.add_argument("--json", action="store_true", help="print a JSON list instead")
    p.add_argument("--report", metavar="DIR", help="also write validation.json, validation.txt,"
                   " the runs and report.html/report.md with plots into DIR")
    common.force(p)


def main(args) -> int:
    from sim import orchestrator

    target = None
    if args.report is not None:
        from sim.outputs.report import check_output_folder

        target = check_output_folder(args.report, "validation", force=args.force,
                                     flag="--report")  # before any run
    names = [*args.scenarios, *(map(str, orchestrator.library_scenarios())
                                if args.library and args.scenarios else [])]
    loaded = [orchestrator.load(name, args.sources)  # every file is checked before any run
              for name in names or map(str, orchestrator.library_scenarios())]
    for one in loaded:
        _warn_unchecked(one)
    common.compile_notice(args)
    bars = _Bars(args)
    result = orchestrator.validate(loaded, runs=args.runs, seed=args.seed,
                                   engine=args.engine, consts=args.constants,
                                   sources=args.sources, keep_ensembles=target is not None,
                                   allow_large=args.allow_large,
                                   progress=bars.open)
    bars.close()
    print(common.strict_json(result.as_json()) if args.json else result.text())
    if target is not None:
        _write_report(args, result, target)
    return 0


def _warn_unchecked(loaded) -> None:
    if not loaded.quotes_verified:
        common.say("warning", f"source texts not found; quotes in {loaded.file} were not checked")


class _Bars:
    """One progress bar per scenario, closed when the next opens."""

    def __init__(self, args):
        self.args, self._close = args, lambda: None

    def open(self, label: str, total: int):
        self._close()
        update, self._close = common.progress(total, self.args.quiet, label)
        return update

    def close(self) -> None:
        self._close()


def _write_report(args, result, target) -> None:
    from sim.outputs.report import ValidatedScenario, describe_files, write_validation_report

    validated = [ValidatedScenario(*v) for v in result.validated]
    files = write_validation_report(args.report, result.as_json(), result.text(), validated,
                                    args.seed, args.runs, force=args.force)
    out = sys.stderr if args.json else sys.stdout
    common.say_replaced(target.replaced_note(), out)
    print(f"wrote {describe_files(files)} to {args.report}", file=out)
