"""diplosim discover: find parameter regions leading to an outcome (PRIM) (still Model 2 until its Model 3 module lands)."""

from __future__ import annotations

import time

from sim import validation
from sim.commands import common
from sim.commands.common import ALLOW_LARGE, FORCE_HELP, whole_number
from sim.validation import MAX_MEMBERS, MAX_RUNS, MAX_SAMPLES

_say, _progress, _strict_json = common.say, common.progress, common.strict_json
HELP = "find parameter regions leading to an outcome (PRIM)"


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


def add_arguments(disc) -> None:
    disc.add_argument("scenario")
    disc.add_argument("--outcome", required=True, help="option id of interest")
    disc.add_argument("--decision", help="decision id (default: the first decision with that option)")
    disc.add_argument("--runs", type=whole_number(1, MAX_RUNS), default=5000,
                      help=f"members, 1 to {MAX_RUNS:,} (default 5000)")
    disc.add_argument("--threshold", type=float, default=0.8, help="PRIM density threshold (default 0.8)")
    common.seeded(disc)
    common.inputs(disc)
    common.large(disc)


def main(args) -> int:
    from sim.paths import shipped_file

    args.scenario = shipped_file(args.scenario)
    from sim.experiments.discover import NothingToDiscover, describe, discover

    _check_runs(args.runs)
    if not 0.0 < args.threshold <= 1.0:
        _say("error", "--threshold must lie in (0, 1]")
        return 2
    loaded, constants = _load(args, args.scenario)
    scenario = loaded.scenario
    _check_cost(args, "this discovery", scenario, args.runs)
    candidates = [d.id for d in scenario.decisions if args.outcome in [o.id for o in d.options]]
    decision_id = args.decision or (candidates[0] if candidates else None)
    if decision_id is None or decision_id not in candidates:
        _say("error", f"no decision of {scenario.id} has option '{args.outcome}'"
             + (f" (decision '{args.decision}')" if args.decision else ""))
        return 2
    try:
        box = discover(scenario, constants, decision_id, args.outcome, args.runs, args.seed,
                       args.threshold)
    except NothingToDiscover as exc:
        _say("error", str(exc))
        return 2
    print(f"{scenario.id}, decision {decision_id}: PRIM box (density threshold {args.threshold})")
    print(describe(box, args.outcome))
    return 0
