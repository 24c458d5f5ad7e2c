"""diplosim calibrate: Model 3's six constants fitted on every library episode, with
leave-one-episode-out (a likelihood on a Sobol design; prints, writes nothing)."""

from __future__ import annotations

import time

from sim.commands import common
from sim.defaults import CALIBRATION_DESIGN_LOG2, CALIBRATION_RUNS

HELP = "fit the model's constants on the library's recorded decisions, with leave-one-episode-out"


def add_arguments(p) -> None:
    p.add_argument("--design-log2", type=common.whole_number(*CALIBRATION_DESIGN_LOG2), default=8,
                   help="2**N design points (default 8: 256)")
    p.add_argument("--runs", "--library-runs", dest="runs", type=common.whole_number(*CALIBRATION_RUNS),
                   default=400, help="runs per episode and design point (default 400)")
    p.add_argument("--library", action="store_true", help="(the default; kept for old scripts)")
    p.add_argument("--constants", help="the constants as set, the design's first point "
                   "(default calibration/constants3_as_set.yaml)")
    p.add_argument("--sources", help="folder holding the cited source files")
    p.add_argument("--json", action="store_true", help="print JSON instead (the posterior, "
                   "the scoreboards and every decision held out)")
    common.seeded(p)
    common.quiet(p)


def main(args) -> int:
    from sim import orchestrator

    from sim.experiments.calibrate import as_json, report

    common.compile_notice(args)
    update, close = common.progress(len(orchestrator.episode_names()), args.quiet, "library",
                                    "episode")
    started = time.perf_counter()
    try:
        fit = orchestrator.calibrate(design_log2=args.design_log2, runs=args.runs, seed=args.seed,
                                     consts=args.constants, sources=args.sources,
                                     progress=update)
    finally:
        close()
    if args.json:
        print(common.strict_json(as_json(fit)))
        return 0
    print(report(fit))
    print(f"\nseed {args.seed}, {time.perf_counter() - started:.0f} s")
    return 0
