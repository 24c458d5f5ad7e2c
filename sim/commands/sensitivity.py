"""diplosim sensitivity: Sobol indices (SALib) of a decision's outcome and timing (still Model 2 until its Model 3 module lands)."""

from __future__ import annotations

import time

from sim import validation
from sim.commands import common
from sim.commands.common import ALLOW_LARGE, FORCE_HELP, whole_number
from sim.validation import MAX_MEMBERS, MAX_RUNS, MAX_SAMPLES

_say, _progress, _strict_json = common.say, common.progress, common.strict_json
HELP = "Sobol indices (SALib) of a decision's outcome and timing"


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


def add_arguments(sens) -> None:
    sens.add_argument("scenario")
    sens.add_argument("--decision", help="decision id (default: the first recorded decision)")
    sens.add_argument("--option", help="option id (default: the recorded option)")
    sens.add_argument("--samples", type=whole_number(1, MAX_SAMPLES), default=64,
                      help=f"Saltelli base samples N, 1 to {MAX_SAMPLES:,} (default 64)")
    sens.add_argument("--members", type=whole_number(1, MAX_MEMBERS), default=100,
                      help=f"members per point, 1 to {MAX_MEMBERS:,} (default 100)")
    sens.add_argument("--out", help="folder for sensitivity.csv, sensitivity.png, manifest.json")
    common.force(sens)
    common.seeded(sens)
    common.inputs(sens)
    common.quiet(sens)
    common.large(sens)


def main(args) -> int:
    from sim.paths import shipped_file

    args.scenario = shipped_file(args.scenario)
    from sim.experiments.sensitivity import format_table, sensitivity, write_outputs

    for flag, value in (("--samples", args.samples), ("--members", args.members)):
        if value < 1:
            _say("error", f"{flag} must be at least 1")
            return 2
    loaded, constants = _load(args, args.scenario)
    scenario = loaded.scenario
    decision_id = args.decision or next(iter(scenario.recorded_outcome), scenario.decisions[0].id)
    ids = [d.id for d in scenario.decisions]
    if decision_id not in ids:
        _say("error", f"--decision: unknown decision '{decision_id}'; expected one of {ids}")
        return 2
    options = [o.id for o in scenario.decision(decision_id).options]
    record = scenario.recorded_outcome.get(decision_id)
    option = args.option or (record.option if record else options[0])
    if option not in options:
        _say("error", f"--option: unknown option '{option}'; expected one of {options}")
        return 2
    from SALib.sample import sobol  # noqa: F401  (fail early if missing)

    from sim.experiments.sensitivity import checked_points
    from sim.outputs.output_folder import check as check_folder

    total = checked_points(scenario, args.samples, args.members, args.allow_large, ALLOW_LARGE)
    target = (check_folder(args.out, "sensitivity", force=args.force) if args.out is not None
              else None)
    update, close = _progress(total, args.quiet, "points", unit="point")
    started = time.perf_counter()
    results, points = sensitivity(
        scenario, constants, decision_id, option, args.samples, args.members, args.seed, update
    )
    close()
    print(format_table(results))
    print(f"{points} Saltelli points x {args.members} members, seed {args.seed}, "
          f"{time.perf_counter() - started:.1f} s")
    if target is not None:
        meta = {"scenario_id": scenario.id, "scenario_sha256": loaded.sha256,
                "decision": decision_id, "option": option, "samples": args.samples,
                "points": points, "members": args.members, "seed": args.seed}
        files = write_outputs(results, args.out, meta, force=args.force)
        _say_replaced(target)
        print(f"wrote {', '.join(files)} to {args.out}")
    return 0
