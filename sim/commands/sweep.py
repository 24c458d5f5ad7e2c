"""diplosim sweep: run a parameter sweep (resumable; optionally on Dask) (still Model 2 until its Model 3 module lands)."""

from __future__ import annotations

import time

from sim import validation
from sim.commands import common
from sim.commands.common import ALLOW_LARGE, FORCE_HELP, whole_number
from sim.validation import MAX_MEMBERS, MAX_RUNS, MAX_SAMPLES

_say, _progress, _strict_json = common.say, common.progress, common.strict_json
HELP = "run a parameter sweep (resumable; optionally on Dask)"


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


def add_arguments(sweep) -> None:
    sweep.add_argument("spec", help="sweep spec file")
    sweep.add_argument("--workers", type=int, help="run chunks on a local Dask cluster of N workers")
    sweep.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://HOST:PORT)")
    sweep.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="how long to wait for --scheduler to answer (default 10)")
    sweep.add_argument("--force", action="store_true", help="also replace a different unfinished sweep, or an earlier diplosim result of another kind, in the spec's out (never a file, link, device or folder diplosim did not write)")
    common.inputs(sweep)
    common.quiet(sweep)
    common.large(sweep)


def main(args) -> int:
    from sim.experiments.sweep import SweepRunner

    if args.workers is not None and args.workers < 1:
        _say("error", "--workers must be at least 1")
        return 2
    if not args.connect_timeout > 0:
        _say("error", "--connect-timeout must be a positive number of seconds")
        return 2
    from sim.outputs.output_folder import Stopped, Terminated

    runner = SweepRunner(args.spec, sources=args.sources, constants_file=args.constants,
                         force=args.force, allow_large=args.allow_large)  # checks before any run
    done = runner.finished_chunks() if runner.resuming else 0
    for note in runner.rejected_notes():
        _say("note", note)
    pending = len(runner.chunks) - done
    if done:
        print(f"resuming: {done} of {len(runner.chunks)} chunks already finished")
    update, close = _progress(pending, args.quiet, "chunks", unit="chunk")
    started = time.perf_counter()
    try:
        dataset = runner.run(workers=args.workers, scheduler=args.scheduler, progress=update,
                             connect_timeout=args.connect_timeout)
    except (KeyboardInterrupt, Terminated) as exc:
        close()
        raise Stopped(exc, runner.kept_note()) from None
    close()
    _say_replaced(runner.target)
    print(
        f"{len(runner.points)} points x {runner.spec.members} members "
        f"({runner.spec.design.method}), {time.perf_counter() - started:.1f} s -> {dataset}"
    )
    return 0
