"""diplosim discover: the box of input ranges where a decision ends in an option (PRIM), on
Model 3's drawn quantities (and, with --include-constants, its six constants)."""

from __future__ import annotations

from sim.commands import common
from sim.commands.common import ALLOW_LARGE, whole_number
from sim.defaults import MAX_MEMBERS, MAX_POINTS_DISCOVER as MAX_POINTS

HELP = "find the input ranges where a decision ends in an option (PRIM)"


def add_arguments(p) -> None:
    p.add_argument("scenario", help="a library episode's name (diplosim scenarios) or a file")
    p.add_argument("--outcome", required=True, help="option id of interest")
    p.add_argument("--decision", help="decision id (default: the first decision with that "
                   "option)")
    p.add_argument("--points", type=whole_number(1, MAX_POINTS), default=1000,
                   help=f"input points (a Latin hypercube), 1 to {MAX_POINTS:,} (default 1000)")
    p.add_argument("--members", type=whole_number(1, MAX_MEMBERS), default=10,
                   help=f"members per point, 1 to {MAX_MEMBERS:,} (default 10)")
    p.add_argument("--threshold", type=float, default=0.8,
                   help="PRIM density threshold, in (0, 1] (default 0.8)")
    p.add_argument("--include-constants", action="store_true",
                   help="also vary the six constants, log-uniform on the calibration's prior box")
    p.add_argument("--json", action="store_true", help="print JSON instead")
    common.seeded(p)
    common.inputs(p)
    common.quiet(p)
    common.large(p)


def main(args) -> int:
    from sim import orchestrator

    from sim.experiments.discover import checked_inputs

    loaded = orchestrator.load(args.scenario, args.sources)
    scenario, constants = loaded.scenario, orchestrator.constants(args.constants)
    decision = args.decision or _decision_with(scenario, args.outcome)
    checked_inputs(scenario, constants, decision, args.outcome, args.points, args.members,
                   args.threshold, args.include_constants, args.allow_large, ALLOW_LARGE)
    common.compile_notice(args)
    update, close = common.progress(args.points, args.quiet, scenario.id, unit="point")
    try:
        result = orchestrator.discover(loaded, decision, args.outcome, consts=constants,
                                       points=args.points,
                          members=args.members, seed=args.seed, threshold=args.threshold,
                          include_constants=args.include_constants,
                          allow_large=args.allow_large, progress=update, how=ALLOW_LARGE)
    finally:
        close()
    print(common.strict_json(result.as_json()) if args.json else result.text())
    return 0


def _decision_with(scenario, option: str) -> str:
    """The first decision that has ``option``; one error line when none has."""
    for d in scenario.decisions:
        if option in [o.id for o in d.options]:
            return d.id
    from sim.validation import InvalidArgument

    raise InvalidArgument(f"no decision of {scenario.id} has option {option!r}; expected one "
                          f"of {sorted({o.id for d in scenario.decisions for o in d.options})}")
