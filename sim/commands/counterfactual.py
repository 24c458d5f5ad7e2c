"""diplosim counterfactual: run an overlay against its base on common random numbers (still Model 2 until its Model 3 module lands)."""

from __future__ import annotations

import time

from sim import validation
from sim.commands import common
from sim.commands.common import ALLOW_LARGE, FORCE_HELP, whole_number
from sim.validation import MAX_MEMBERS, MAX_RUNS, MAX_SAMPLES

_say, _progress, _strict_json = common.say, common.progress, common.strict_json
HELP = "run an overlay against its base on common random numbers"


def _say_replaced(target, file=None):
    common.say_replaced(target.replaced_note(), file)


def _load(args, path):
    from sim.model.constants import load_constants
    from sim.model.scenario import load_scenario

    loaded = load_scenario(path, sources_root=args.sources)
    return loaded, load_constants(args.constants)


def _check_cost(args, what, scenario, members, members_text=None):
    validation.check_work(what, members, scenario, getattr(args, "allow_large", False),
                          ALLOW_LARGE, members_text)


def _check_runs(runs):
    pass


def add_arguments(counterfactual) -> None:
    counterfactual.add_argument("overlay", help="overlay file")
    common.runs(counterfactual, 2000)
    common.seeded(counterfactual)
    common.inputs(counterfactual)
    common.large(counterfactual)
    counterfactual.add_argument("--json", action="store_true", help="print JSON instead")
    counterfactual.add_argument("--out", metavar="DIR", help="folder for comparison.json, comparison.txt, manifest.json (see diplosim report)")
    common.force(counterfactual)


def main(args) -> int:
    from sim.paths import shipped_file

    args.overlay = shipped_file(args.overlay)
    from sim.model.constants import load_constants
    from sim.experiments.counterfactual import as_json, compare, format_comparison, load_overlay

    _check_runs(args.runs)
    if args.out is not None:
        from sim.outputs.report import check_output_folder, write_counterfactual

        target = check_output_folder(args.out, "counterfactual", force=args.force)  # before any run
    loaded = load_overlay(args.overlay, sources=args.sources)
    _check_cost(args, "this counterfactual", loaded.base, 2 * args.runs,
                f"{args.runs:,} runs x 2 (baseline and counterfactual)")
    constants = load_constants(args.constants)
    comparisons = compare(loaded, constants, args.seed, args.runs)
    text = format_comparison(loaded, comparisons, args.runs, args.seed)
    if args.json:
        print(_strict_json(as_json(comparisons)))
    else:
        print(text)
    if args.out is not None:
        files = write_counterfactual(args.out, loaded, as_json(comparisons), text, constants,
                                     args.seed, args.runs, force=args.force)
        _say_replaced(target, sys.stderr if args.json else sys.stdout)
        print(f"wrote {', '.join(files)} to {args.out}", file=sys.stderr if args.json else sys.stdout)
    return 0
