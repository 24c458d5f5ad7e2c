"""diplosim counterfactual: a teaching what-if (an overlay, diplosim-overlay/3) beside its
library episode, on common random numbers (Model 3)."""

from __future__ import annotations

import sys

from sim.commands import common

HELP = ("run a what-if overlay (diplosim-overlay/3) beside its episode on common random "
        "numbers")


def add_arguments(p) -> None:
    p.add_argument("overlay", help="a shipped overlay's id (diplosim scenarios lists them) or "
                   "an overlay file")
    common.runs(p, 2000)
    common.seeded(p)
    common.inputs(p)
    common.quiet(p)
    common.large(p)
    p.add_argument("--json", action="store_true", help="print JSON instead")
    p.add_argument("--out", metavar="DIR", help="folder for comparison.json, comparison.txt, "
                   "manifest.json (diplosim report DIR makes its report)")
    common.force(p)


def main(args) -> int:
    from sim import orchestrator
    from sim.experiments.counterfactual import load_overlay

    target = None
    if args.out is not None:
        from sim.outputs.report import check_output_folder

        target = check_output_folder(args.out, "counterfactual", force=args.force)  # before any run
    loaded = load_overlay(args.overlay, sources=args.sources)
    consts = orchestrator.constants(args.constants)
    common.compile_notice(args)
    result = orchestrator.counterfactual(loaded, runs=args.runs, seed=args.seed, consts=consts,
                                         allow_large=args.allow_large)
    print(common.strict_json(result.as_json()) if args.json else result.text())
    if target is not None:
        from sim.outputs.report import write_counterfactual

        said = sys.stderr if args.json else sys.stdout
        files = write_counterfactual(args.out, loaded, result.as_json(), result.text(), consts,
                                     args.seed, args.runs, force=args.force)
        common.say_replaced(target.replaced_note(), said)
        print(f"wrote {', '.join(files)} to {args.out}", file=said)
    return 0
