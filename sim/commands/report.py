"""diplosim report: a results folder as report.html and report.md with plots."""

from __future__ import annotations

HELP = "turn a results folder into report.html and report.md with PNG plots"


def add_arguments(p) -> None:
    p.add_argument("folder", metavar="RESULTS_DIR", help="folder written by run --out, sweep, "
                   "validate --report or counterfactual --out")
    p.add_argument("--x", help="sweeps: parameter on the x axis (default: the first varied)")
    p.add_argument("--y", help="sweeps: parameter on the y axis (default: the second varied)")
    p.add_argument("--decision", help="sweeps: decision (default: the first)")
    p.add_argument("--option", help="sweeps: option (default: the recorded one, else the first)")
    p.add_argument("--scenario", help="scenario file holding the recorded outcome (default: "
                   "found from the manifest)")


def main(args) -> int:
    from sim.outputs.report import build_report, describe_files

    kind, files = build_report(args.folder, x=args.x, y=args.y, decision=args.decision,
                               option=args.option, scenario=args.scenario)
    print(f"{kind} folder: wrote {describe_files(files)} to {args.folder}")
    return 0
