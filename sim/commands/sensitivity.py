"""diplosim sensitivity: Sobol indices (SALib) of each decision's outcome shares over every drawn
quantity of a Model 3 scenario (and, with --include-constants, the six constants)."""

from __future__ import annotations

import sys
import time

from sim.commands import common
from sim.commands.common import ALLOW_LARGE, whole_number
from sim.defaults import MAX_MEMBERS, MAX_SAMPLES

HELP = "Sobol indices (SALib) of each decision's outcome over the drawn quantities"


def add_arguments(p) -> None:
    p.add_argument("scenario", help="a library episode's name (diplosim scenarios) or a file")
    p.add_argument("--decision", help="only this decision (default: every decision)")
    p.add_argument("--option", help="only this option (default: the recorded option, else "
                   "each option)")
    p.add_argument("--samples", type=whole_number(1, MAX_SAMPLES), default=64,
                   help=f"Saltelli base samples N, 1 to {MAX_SAMPLES:,} (default 64); the "
                   "points are N x (inputs + 2)")
    p.add_argument("--members", type=whole_number(1, MAX_MEMBERS), default=100,
                   help=f"members per point, 1 to {MAX_MEMBERS:,} (default 100)")
    p.add_argument("--include-constants", action="store_true",
                   help="also vary the six constants, log-uniform on the calibration's prior box")
    p.add_argument("--top", type=whole_number(1, 10_000), default=15,
                   help="inputs shown per output, by total index (default 15)")
    p.add_argument("--json", action="store_true", help="print JSON instead")
    p.add_argument("--out", help="folder for sensitivity.csv, sensitivity.png, manifest.json")
    common.force(p)
    common.seeded(p)
    common.inputs(p)
    common.quiet(p)
    common.large(p)


def main(args) -> int:
    from sim import orchestrator

    from sim.experiments.sensitivity import checked_inputs, write_outputs
    from sim.experiments.inputs import outputs_of
    from sim.outputs.output_folder import check as check_folder

    loaded = orchestrator.load(args.scenario, args.sources)
    scenario, constants = loaded.scenario, orchestrator.constants(args.constants)
    outputs_of(scenario, args.decision, args.option)  # an unknown id before any run
    _, points = checked_inputs(scenario, constants, args.samples, args.members,
                               args.include_constants, args.allow_large, ALLOW_LARGE)
    target = check_folder(args.out, "sensitivity", force=args.force) if args.out else None
    common.compile_notice(args)
    update, close = common.progress(points, args.quiet, scenario.id, unit="point")
    started = time.perf_counter()
    try:
        result = orchestrator.sensitivity(
            loaded, consts=constants, samples=args.samples, members=args.members,
                             seed=args.seed, include_constants=args.include_constants,
                             allow_large=args.allow_large, decision=args.decision,
                             option=args.option, progress=update, how=ALLOW_LARGE)
    finally:
        close()
    if args.json:
        print(common.strict_json(result.as_json()))
    else:
        print(result.text(args.top))
        print(f"{time.perf_counter() - started:.1f} s")
    if target is not None:
        meta = {"scenario_id": scenario.id, "scenario_sha256": loaded.sha256,
                "scenario_file": loaded.file, "decision": args.decision,
                "option": args.option, "samples": args.samples, "points": result.points,
                "members": args.members, "seed": args.seed,
                "include_constants": args.include_constants}
        files = write_outputs(result, args.out, meta, args.top, force=args.force)
        stream = sys.stderr if args.json else sys.stdout
        common.say_replaced(target.replaced_note(), stream)
        print(f"wrote {', '.join(files)} to {args.out}", file=stream)
    return 0
