"""diplosim sweep: run a Model 3 parameter sweep from a spec (resumable; optionally on Dask)."""

from __future__ import annotations

import sys

from sim.commands import common

HELP = "run a parameter sweep of Model 3 (resumable; optionally on Dask)"


def add_arguments(p) -> None:
    p.add_argument("spec", help="sweep spec file (format: diplosim-sweep/3, docs/sweeps.md)")
    p.add_argument("--out", help="output folder (default: the spec's out, relative to the "
                   "spec); an unfinished run of the same sweep there is resumed")
    p.add_argument("--workers", type=int,
                   help="run chunks on a local Dask cluster of N workers")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://HOST:PORT)")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long to wait for --scheduler to answer (default 10)")
    common.force(p, "also replace a finished sweep or a different unfinished one, or an "
                 "earlier diplosim result of another kind, in the output folder (never a file, "
                 "link, device or folder diplosim did not write)")
    common.inputs(p)
    common.quiet(p)
    common.large(p)
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary (where the dataset is, its design and columns)")


def main(args) -> int:
    from sim.orchestrator import sweep

    if args.workers is not None and args.workers < 1:
        common.say("error", "--workers must be at least 1")
        return 2
    if not args.connect_timeout > 0:
        common.say("error", "--connect-timeout must be a positive number of seconds")
        return 2
    said = sys.stderr if args.json else sys.stdout
    bar = _Bar(args.quiet, said)
    try:
        result = sweep(args.spec, args.out, force=args.force, workers=args.workers,
                       scheduler=args.scheduler, allow_large=args.allow_large,
                       progress=bar.update, notes=lambda line: common.say("note", line),
                       constants=args.constants, sources=args.sources,
                       connect_timeout=args.connect_timeout)
    finally:
        bar.close()
    common.say_replaced(result.replaced_note, said)
    print(common.strict_json(result.as_json()) if args.json else result.text())
    return 0


class _Bar:
    """The resume line, then a tqdm bar of chunks on a terminal (nothing otherwise)."""

    def __init__(self, quiet: bool, said):
        self.quiet, self.said = quiet, said
        self.started, self.last = False, 0
        self.step, self.finish = None, None

    def update(self, finished: int, total: int) -> None:
        if not self.started:
            self.started = True
            if finished:
                print(f"resuming: {finished} of {total} chunks already finished", file=self.said)
            self.step, self.finish = common.progress(total - finished, self.quiet, "chunks",
                                                     unit="chunk")
        elif self.step is not None:
            self.step(finished - self.last)
        self.last = finished

    def close(self) -> None:
        if self.finish is not None:
            self.finish()
