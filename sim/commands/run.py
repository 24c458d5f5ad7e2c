"""diplosim run: simulate one scenario, print its outcome shares, optionally write its runs."""

from __future__ import annotations

from sim.commands import common

HELP = "simulate one scenario and write its results"


def add_arguments(p) -> None:
    p.add_argument("scenario", help="a library episode's name (diplosim scenarios) or a file")
    common.ensemble(p, 1000)
    p.add_argument("--out", help="folder for runs.csv, draws.csv, manifest.json: a new or "
                   "empty folder, or an earlier run result (replaced whole)")
    common.force(p)
    p.add_argument("--trace", action="store_true", help="print the story of one run")


def main(args) -> int:
    from sim import orchestrator

    if args.trace:
        print("\n".join(orchestrator.story(args.scenario, seed=args.seed, consts=args.constants,
                                           sources=args.sources)))
        return 0
    loaded = orchestrator.load(args.scenario, args.sources)  # before the compile notice
    common.compile_notice(args)
    update, close = common.progress(args.runs, args.quiet, loaded.scenario.id)
    try:
        result = orchestrator.run(loaded, runs=args.runs, seed=args.seed, engine=args.engine,
                                  consts=args.constants, out=args.out, force=args.force,
                                  progress=update, allow_large=args.allow_large)
    finally:
        close()
    print(result.text())
    if result.out is not None:
        common.say_replaced(result.replaced_note)
        print(f"wrote {', '.join(result.written)} to {result.out}")
    return 0
