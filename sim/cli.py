"""The ``diplosim`` command: parses arguments, calls the modules, prints. No logic lives here."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from sim import validation
from sim.paths import CALIBRATION_RESULTS, SCENARIOS, shipped_file
from sim.validation import MAX_MEMBERS, MAX_RUNS, MAX_SAMPLES, MAX_SEED, InvalidArgument

DEFAULT_SEED = 20190822
SCENARIO_DIR = SCENARIOS
ALLOW_LARGE = "--allow-large"


def _whole_number(low: int, high: int):
    """An argparse type: a whole number in [low, high], refused at the command line otherwise
    (a negative seed or a runaway run count never reaches the modules)."""

    def parse(text: str) -> int:
        try:
            return validation.whole_number("", int(text), low, high)
        except (ValueError, InvalidArgument):
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {validation.bound_text(low)} to "
                f"{validation.bound_text(high)}, got {text!r}") from None

    parse.__name__ = "whole number"
    return parse


def _say(kind: str, message: str) -> None:
    """One line on stderr, ``diplosim: error: ...`` (or note, warning): every message the
    command prints about a problem comes through here, with control codes escaped."""
    from sim.model.yamlmap import printable

    print(f"diplosim: {kind}: {printable(message)}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse, with control codes escaped in what its errors quote (an unknown argument)."""

    def error(self, message: str):
        from sim.model.yamlmap import printable

        super().error(printable(message))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="diplosim",
        description="Agent-based simulator of diplomatic decisions (Mesa).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def inputs(p: argparse.ArgumentParser) -> None:
        """Where the constants and the cited source texts come from."""
        p.add_argument("--constants", help="constants file (default calibration/constants.yaml)")
        p.add_argument(
            "--sources",
            help="folder holding the cited source files (default: $DIPLOSIM_SOURCES, else a "
            "'shared' folder beside the project)",
        )

    def seeded(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=_whole_number(0, MAX_SEED), default=DEFAULT_SEED,
                       help="root seed, 0 to 2**63-1 (default %(default)s)")

    def quiet(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    def large(p: argparse.ArgumentParser) -> None:
        p.add_argument(ALLOW_LARGE, action="store_true",
                       help=f"run even when the work estimated before the start (members x "
                       f"steps x decisions) exceeds {validation.MAX_WORK:.0e}, about an hour of "
                       "one core")

    def common(p: argparse.ArgumentParser, runs: int) -> None:
        p.add_argument("--runs", type=_whole_number(1, MAX_RUNS), default=runs,
                       help=f"ensemble size, 1 to {MAX_RUNS:,} (default {runs})")
        seeded(p)
        inputs(p)
        quiet(p)
        large(p)
        p.add_argument(
            "--engine",
            choices=["vector", "agents"],
            default="vector",
            help="vector: NumPy ensemble engine (default; proven equal to the agents by the "
            "test suite); agents: one Mesa model per run",
        )

    run = sub.add_parser("run", help="simulate one scenario and write its results")
    run.add_argument("scenario")
    common(run, 1000)
    run.add_argument("--out", help="folder for runs.csv, draws.csv, manifest.json: a new or "
                     "empty folder, or an earlier run result (replaced whole)")
    run.add_argument("--force", action="store_true", help="also replace an earlier diplosim result of another kind there (never a file, link, device or folder diplosim did not write)")
    run.add_argument("--trace", action="store_true", help="print the story of one run")

    validate = sub.add_parser(
        "validate", help="compare simulated decisions with the recorded outcomes"
    )
    validate.add_argument(
        "scenarios", nargs="*", help="scenario files (default: every episode of the library, "
        "under Model 3)"
    )
    common(validate, 2000)
    validate.add_argument("--library", action="store_true",
                          help="score every episode of the library (Model 3, docs/model3.md)")
    validate.add_argument("--json", action="store_true", help="print a JSON list instead")
    validate.add_argument(
        "--report", metavar="DIR",
        help="also write validation.json, validation.txt, the runs and report.html/report.md "
        "with plots into DIR",
    )
    validate.add_argument("--force", action="store_true", help="also replace an earlier diplosim result of another kind there (never a file, link, device or folder diplosim did not write)")

    schema = sub.add_parser("schema", help="write the JSON Schema of the scenario format")
    schema.add_argument("--out", help="file to write (default: standard output)")

    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable; optionally on Dask)")
    sweep.add_argument("spec", help="sweep spec file")
    sweep.add_argument("--workers", type=int, help="run chunks on a local Dask cluster of N workers")
    sweep.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://HOST:PORT)")
    sweep.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="how long to wait for --scheduler to answer (default 10)")
    sweep.add_argument("--force", action="store_true", help="also replace a different unfinished "
                       "sweep, or an earlier diplosim result of another kind, in the spec's out "
                       "(never a file, link, device or folder diplosim did not write)")
    inputs(sweep)
    quiet(sweep)
    large(sweep)

    counterfactual = sub.add_parser(
        "counterfactual", help="run an overlay against its base on common random numbers"
    )
    counterfactual.add_argument("overlay", help="overlay file (scenarios/counterfactuals/*.yaml)")
    counterfactual.add_argument("--runs", type=_whole_number(1, MAX_RUNS), default=2000,
                                help=f"runs, 1 to {MAX_RUNS:,} (default 2000)")
    seeded(counterfactual)
    inputs(counterfactual)
    large(counterfactual)
    counterfactual.add_argument("--json", action="store_true", help="print JSON instead")
    counterfactual.add_argument(
        "--out", metavar="DIR",
        help="folder for comparison.json, comparison.txt, manifest.json (see diplosim report)",
    )
    counterfactual.add_argument("--force", action="store_true", help="also replace an earlier diplosim result of another kind there (never a file, link, device or folder diplosim did not write)")

    report = sub.add_parser(
        "report", help="turn a results folder into report.html and report.md with PNG plots"
    )
    report.add_argument("folder", metavar="RESULTS_DIR",
                        help="folder written by run --out, sweep, validate --report or "
                        "counterfactual --out")
    report.add_argument("--x", help="sweeps: parameter on the x axis (default: the first varied)")
    report.add_argument("--y", help="sweeps: parameter on the y axis (default: the second varied)")
    report.add_argument("--decision", help="sweeps: decision (default: the first)")
    report.add_argument("--option", help="sweeps: option (default: the recorded one, else the first)")
    report.add_argument("--scenario",
                        help="scenario file holding the recorded outcome (default: found from "
                        "the manifest)")

    sens = sub.add_parser("sensitivity", help="Sobol indices (SALib) of a decision's outcome and timing")
    sens.add_argument("scenario")
    sens.add_argument("--decision", help="decision id (default: the first recorded decision)")
    sens.add_argument("--option", help="option id (default: the recorded option)")
    sens.add_argument("--samples", type=_whole_number(1, MAX_SAMPLES), default=64,
                      help=f"Saltelli base samples N, 1 to {MAX_SAMPLES:,} (default 64)")
    sens.add_argument("--members", type=_whole_number(1, MAX_MEMBERS), default=100,
                      help=f"members per point, 1 to {MAX_MEMBERS:,} (default 100)")
    sens.add_argument("--out", help="folder for sensitivity.csv, sensitivity.png, manifest.json")
    sens.add_argument("--force", action="store_true", help="also replace an earlier diplosim result of another kind there (never a file, link, device or folder diplosim did not write)")
    seeded(sens)
    inputs(sens)
    quiet(sens)
    large(sens)

    disc = sub.add_parser("discover", help="find parameter regions leading to an outcome (PRIM)")
    disc.add_argument("scenario")
    disc.add_argument("--outcome", required=True, help="option id of interest")
    disc.add_argument("--decision", help="decision id (default: the first decision with that option)")
    disc.add_argument("--runs", type=_whole_number(1, MAX_RUNS), default=5000,
                      help=f"members, 1 to {MAX_RUNS:,} (default 5000); PRIM needs some runs with the "
                      "outcome and some without")
    disc.add_argument("--threshold", type=float, default=0.8, help="PRIM density threshold (default 0.8)")
    seeded(disc)
    inputs(disc)
    large(disc)

    cal = sub.add_parser(
        "calibrate", help="fit global constants to the recorded decisions (ABC-SMC, pyabc)"
    )
    cal.add_argument("--targets", help="targets file (default calibration/targets.yaml)")
    cal.add_argument("--fit-on", nargs="+", metavar="EPISODE",
                     help="fit on these episodes only and skip leave-one-episode-out")
    cal.add_argument("--population", type=int, default=200, help="particles per generation (default 200)")
    cal.add_argument("--generations", type=int, default=6, help="at most this many generations (default 6)")
    cal.add_argument("--max-simulations", type=int, default=8000,
                     help="stop after the generation that passes this many simulations (default 8000)")
    cal.add_argument("--draws", type=int, default=40,
                     help="posterior draws for predictive scores (default 40)")
    cal.add_argument("--members", type=_whole_number(1, MAX_MEMBERS), default=100,
                     help=f"members per posterior draw for predictive scores, 1 to {MAX_MEMBERS:,} "
                     "(default 100)")
    cal.add_argument("--out", default=str(CALIBRATION_RESULTS),
                     help="folder for posterior samples, summaries, plots and the LOEO table "
                     "(default calibration/results)")
    cal.add_argument("--force", action="store_true", help="also replace an earlier diplosim result of another kind there (never a file, link, device or folder diplosim did not write)")
    cal.add_argument("--library", action="store_true",
                     help="Model 3: fit its six constants on every library episode, with "
                     "leave-one-episode-out (a likelihood on a Sobol design; prints, writes nothing)")
    cal.add_argument("--design-log2", type=_whole_number(2, 12), default=8,
                     help="with --library: 2**N design points (default 8: 256)")
    cal.add_argument("--library-runs", type=_whole_number(20, 20000), default=400,
                     help="with --library: runs per episode and design point (default 400)")
    seeded(cal)
    inputs(cal)
    quiet(cal)

    app = sub.add_parser("app", help="serve the teaching page (Mesa's SolaraViz) on this machine")
    app.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    app.add_argument("--port", type=int, default=8765, help="port (default 8765)")

    sub.add_parser("scenarios", help="list the shipped scenarios and overlays (name them by stem)")
    init = sub.add_parser("init", help="copy the shipped scenarios, overlays, constants and "
                          "targets into a new folder, to edit")
    init.add_argument("folder", metavar="DIR")

    check = sub.add_parser("check", help="validate scenario files without running them")
    check.add_argument("scenarios", nargs="+")
    check.add_argument("--sources")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every failure is one line on stderr: exit 2 for an error (a bad input,
    an output refused by the policy, a full disk, any other failed read or write), 130 for
    Ctrl-C, 143 for SIGTERM; a staged result is removed on each of these ways out."""
    from contextlib import nullcontext

    args = _parser().parse_args(argv)
    try:
        _check_paths(args)
    except InvalidArgument as exc:
        _say("error", str(exc))
        return 2
    _shipped_names(args)
    from sim.outputs.output_folder import Stopped, Terminated, sigterm_raises
    from sim.model.scenario import ScenarioError

    command = {
        "run": _run,
        "validate": _validate,
        "schema": _schema,
        "sweep": _sweep,
        "counterfactual": _counterfactual,
        "report": _report,
        "sensitivity": _sensitivity,
        "discover": _discover,
        "calibrate": _calibrate,
        "check": _check,
        "scenarios": _scenarios,
        "init": _init,
        "app": _app,
    }[args.command]
    try:
        # `app` serves until uvicorn, which handles Ctrl-C and SIGTERM itself, stops
        with nullcontext() if args.command == "app" else sigterm_raises():
            return command(args)
    except (ScenarioError, InvalidArgument) as exc:
        _say("error", str(exc))
        return 2
    except BrokenPipeError:
        return 0
    except Stopped as exc:
        from sim.model.yamlmap import printable

        print(f"diplosim: {printable(str(exc))}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("diplosim: interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except Terminated:
        print("diplosim: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _say("error", f"{where}{exc.strerror or exc}")
        return 2


def _progress(total: int | None, quiet: bool, label: str, unit: str = "run"):
    """A tqdm bar on a terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit=unit, leave=False, file=sys.stderr)
    return bar.update, bar.close


def _load(args, path: str):
    from sim.model.constants import load_constants
    from sim.model.scenario import load_scenario
    from sim.model3 import scenario as model3

    if model3.file_format(path) == model3.FORMAT:
        from sim.model3.constants import load_constants as load_constants3

        loaded, constants = model3.load_scenario(path, sources_root=args.sources), \
            load_constants3(args.constants)
    else:
        loaded = load_scenario(path, sources_root=args.sources)
        constants = load_constants(args.constants)
    if not loaded.quotes_verified:
        _say("warning", f"source texts not found; quotes in {path} were not checked")
    return loaded, constants


def _ensemble(args, scenario, constants, progress):
    """Run and keep a whole ensemble on the chosen engine (one run always uses the agents)."""
    from sim.model3.scenario import Scenario as Scenario3

    if isinstance(scenario, Scenario3):
        from sim.model3.engine import run_ensemble as run3

        engine = "agents" if args.engine == "agents" or args.runs == 1 else "vector"
        return run3(scenario, constants, args.seed, args.runs, progress=progress,
                    engine=engine), engine
    if args.engine == "agents" or args.runs == 1:
        from sim.engine.runner import run_ensemble

        return run_ensemble(scenario, constants, args.seed, args.runs, progress=progress), "agents"
    from sim.engine.ensemble import run_vector_ensemble

    return run_vector_ensemble(scenario, constants, args.seed, args.runs, progress=progress), "vector"


def _check_cost(args, what: str, scenario, members: int, members_text: str | None = None) -> None:
    """Refuse, before any run, work above the limit unless --allow-large (Model 2 scenarios;
    Model 3's are not estimated here)."""
    from sim.model.scenario import Scenario

    if isinstance(scenario, Scenario):
        validation.check_work(what, members, scenario, getattr(args, "allow_large", False),
                         ALLOW_LARGE, members_text)


def _check_runs(runs: int) -> None:
    """The parser already bounds --runs; this guards callers that build ``args`` themselves."""
    if not 1 <= runs <= MAX_RUNS:
        _say("error", f"--runs must lie between 1 and {MAX_RUNS:,}")
        raise SystemExit(2)


def _run(args) -> int:
    from sim.model.draws import drawn_quantities
    from sim.engine.ensemble import ensemble_chunks
    from sim.outputs.output_folder import Stopped, Terminated
    from sim.outputs.results import ResultWriter, run_manifest
    from sim.engine.runner import Tally, build_model
    from sim.outputs.trace import trace_lines

    _check_runs(args.runs)
    loaded, constants = _load(args, args.scenario)
    scenario = loaded.scenario.without_record()
    from sim.model3.scenario import Scenario as Scenario3

    if isinstance(scenario, Scenario3):
        from sim.model3 import engine as model3
        from sim.model3.plan import drawn_quantities

        ensemble_chunks = model3.ensemble_chunks
        if args.trace:
            print("\n".join(model3.story(scenario, constants, args.seed)))
            return 0
    if args.trace:
        model = build_model(scenario, constants, args.seed, 0, trace=True)
        model.run()
        print("\n".join(trace_lines(model)))
        return 0
    _check_cost(args, "this run", scenario, args.runs)
    engine = "agents" if args.engine == "agents" or args.runs == 1 else "vector"
    update, close = _progress(args.runs, args.quiet, scenario.id)
    tally = Tally(scenario)
    writer = (  # checks --out against the output-folder policy before any run
        ResultWriter(args.out, scenario.id, [q.key for q in drawn_quantities(scenario)],
                     force=args.force)
        if args.out is not None else None
    )
    started = time.perf_counter()
    try:
        for rows, run_ids, draws in ensemble_chunks(scenario, constants, args.seed, args.runs, engine):
            tally.add(rows)
            if writer is not None:
                writer.add(rows, run_ids, draws)
            if update is not None:
                update(len(run_ids))
        elapsed = time.perf_counter() - started
        close()
        print(_outcome_table(scenario, tally))
        print(f"\n{args.runs} runs, seed {args.seed}, {engine} engine, {elapsed:.1f} s")
        if writer is not None:
            files = writer.finish(
                run_manifest(
                    scenario_id=scenario.id,
                    scenario_file=args.scenario,
                    scenario_sha256=loaded.sha256,
                    quotes_verified=loaded.quotes_verified,
                    seed=args.seed,
                    runs=args.runs,
                    engine=engine,
                    constants=constants,
                    wall_time_s=elapsed,
                )
            )
    except (KeyboardInterrupt, Terminated) as exc:
        close()
        if writer is None:
            raise
        writer.abort()
        kept = f"the result is in {args.out}" if writer.committed else f"nothing was written to {args.out}"
        raise Stopped(exc, kept) from None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        _say_replaced(writer.target)
        print(f"wrote {', '.join(files)} to {args.out}")
    return 0


def _say_replaced(target, file=None) -> None:
    """Tell the user when an earlier result in the output folder was replaced."""
    note = target.replaced_note()
    if note:
        print(note, file=file or sys.stdout)


def _outcome_table(scenario, tally) -> str:
    import numpy as np

    lines = [
        f"{'decision':<26} {'outcome':<24} {'share':>7} {'95% CI':>17} "
        f"{'median h before':>16} {'IQR':>18}"
    ]
    for decision in scenario.decisions:
        summary = tally.summary(decision.id)
        for option in summary.options:
            low, high = summary.interval(option)
            hours = summary.hours_for(option)
            if hours.size:
                q25, q50, q75 = np.percentile(hours, [25, 50, 75])
                timing = f"{q50:16.1f} {f'[{q25:.1f}, {q75:.1f}]':>18}"
            else:
                timing = f"{'-':>16} {'-':>18}"
            lines.append(
                f"{decision.id:<26} {option:<24} {summary.share(option):7.3f} "
                f"{f'[{low:.3f}, {high:.3f}]':>17} {timing}"
            )
        if summary.reached < summary.runs:
            lines.append(
                f"{decision.id:<26} {'(not reached)':<24} "
                f"{(summary.runs - summary.reached) / summary.runs:7.3f}   share of all runs"
            )
    return "\n".join(lines)


def _validate(args) -> int:
    from sim.experiments.validate import forced_paths, format_table, recorded_decisions, score

    _check_runs(args.runs)
    if args.report is not None:
        from sim.outputs.report import (
            ValidatedScenario, check_output_folder, describe_files, write_validation_report,
        )

        target = check_output_folder(args.report, "validation", force=args.force,
                                     flag="--report")  # before any run
    from sim.paths import library_scenarios

    paths = [*args.scenarios, *map(str, library_scenarios() if getattr(args, "library", False)
                                   or not args.scenarios else [])]
    loaded_all = [_load(args, path) for path in paths]  # every file is checked before any run
    from sim.model.scenario import Scenario

    for loaded, _ in loaded_all:  # Model 2 scenarios' work, before any run
        if isinstance(loaded.scenario, Scenario):
            validation.check_validation(loaded.scenario, args.runs, getattr(args, "allow_large", False),
                                   ALLOW_LARGE)
    scores, validated = [], []
    for loaded, constants in loaded_all:
        scenario = loaded.scenario
        if not recorded_decisions(scenario):
            if args.scenarios:
                _say("note", f"{loaded.file} has no recorded outcome")
            continue
        update, close = _progress(args.runs, args.quiet, scenario.id)
        started = time.perf_counter()
        ensemble, engine = _ensemble(args, scenario.without_record(), constants, update)
        close()
        references = _references(scenario, constants)
        scores.extend(score(scenario, ensemble, references=references))
        for decision_id, forced in forced_paths(scenario):
            forced_ensemble, _ = _ensemble(args, forced.without_record(), constants, None)
            scores.extend(score(forced, forced_ensemble, only=decision_id, path="forced",
                                references=references))
        if args.report is not None:
            validated.append(ValidatedScenario(loaded, constants, ensemble, engine,
                                               time.perf_counter() - started))
    if not scores:
        from sim.paths import LIBRARY

        where = ", ".join(paths) if args.scenarios else f"the library in {LIBRARY}"
        _say("error", f"nothing to score: no recorded outcome in {where or LIBRARY}; "
             "expected scenario files with a recorded_outcome")
        return 2
    from sim.experiments.scoreboard import format_scoreboard, scoreboard

    reached = [s for s in scores if s.path == "reached"]
    kinds = {loaded.scenario.id: getattr(loaded.scenario, "kind", None) for loaded, _ in loaded_all}
    breakdown = ""
    if len({k for k in kinds.values() if k}) > 1:
        from sim.experiments.scoreboard import format_breakdown

        breakdown = f"{format_breakdown(reached, kinds)}\n\n"
    table = (f"{format_table(scores)}\n\n{format_scoreboard(scoreboard(reached, args.seed))}\n\n"
             f"{breakdown}{args.runs} runs per scenario, seed {args.seed}")
    if args.json:
        print(_strict_json([s.as_dict() for s in scores]))
    else:
        print(table)
    if args.report is not None:
        files = write_validation_report(args.report, [s.as_dict() for s in scores], table,
                                        validated, args.seed, args.runs, force=args.force)
        _say_replaced(target, sys.stderr if args.json else sys.stdout)
        print(f"wrote {describe_files(files)} to {args.report}",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def _references(scenario, constants):
    """The reference forecasters' forecasts, where the format feeds them (Model 3)."""
    from sim.model3.scenario import Scenario as Scenario3

    if not isinstance(scenario, Scenario3):
        return None
    from sim.model3.forecasters import reference_forecasts

    return reference_forecasts(scenario, constants)


def _strict_json(value) -> str:
    """Strict JSON (RFC 8259) for standard output: NaN and infinities are written as null."""
    from sim.outputs.report import json_safe

    return json.dumps(json_safe(value), indent=2, allow_nan=False)


def _sweep(args) -> int:
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


def _counterfactual(args) -> int:
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


def _report(args) -> int:
    from sim.outputs.report import build_report, describe_files

    kind, files = build_report(args.folder, x=args.x, y=args.y, decision=args.decision,
                               option=args.option, scenario=args.scenario)
    print(f"{kind} folder: wrote {describe_files(files)} to {args.folder}")
    return 0


def _sensitivity(args) -> int:
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


def _discover(args) -> int:
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


def _calibrate_library(args) -> int:
    """Model 3's constants from the library, with leave-one-episode-out (sim.model3.calibrate)."""
    from sim.model3.calibrate import calibrate, report
    from sim.model3.constants import load_constants as load_constants3
    from sim.model3.scenario import load_scenario as load3
    from sim.paths import library_scenarios

    episodes = [load3(p, sources_root=args.sources).scenario for p in library_scenarios()]
    update, close = _progress(len(episodes), args.quiet, "library", "episode")
    started = time.perf_counter()
    cal = calibrate(episodes, load_constants3(args.constants), log2_points=args.design_log2,
                    runs=args.library_runs, seed=args.seed, progress=update)
    close()
    print(report(cal))
    print(f"\nseed {args.seed}, {time.perf_counter() - started:.0f} s")
    return 0


def _calibrate(args) -> int:
    if getattr(args, "library", False):
        return _calibrate_library(args)
    from sim.experiments import calibration as cal
    from sim.model.constants import load_constants

    for flag in ("population", "generations", "max_simulations", "draws", "members"):
        if getattr(args, flag) < 1:
            _say("error", f"--{flag.replace('_', '-')} must be at least 1")
            return 2
    targets = cal.load_targets(args.targets, sources=args.sources)
    constants = load_constants(args.constants)
    ids = [e.id for e in targets.episodes]
    unknown = [e for e in args.fit_on or [] if e not in ids]
    if unknown:
        _say("error", f"--fit-on: unknown episode {unknown[0]!r}; expected some of {ids}")
        return 2
    from sim.outputs.output_folder import check as check_folder

    target = check_folder(args.out, "calibration", force=args.force)  # before any fit
    budget = cal.Budget(args.population, args.generations, args.max_simulations)
    predictive = cal.PredictiveSpec(args.draws, args.members)
    update, close = _progress(None, args.quiet, "simulations", unit="sim")
    started = time.perf_counter()
    loeo = None
    if args.fit_on:
        posteriors = [cal.fit(targets, args.fit_on, constants, args.seed, budget, update)]
    else:
        posteriors, loeo = cal.leave_one_episode_out(targets, constants, args.seed, budget, predictive, update)
        if len(ids) > 1:
            posteriors.append(cal.fit(targets, ids, constants, args.seed, budget, update))
    close()
    elapsed = time.perf_counter() - started
    print(cal.format_posteriors(posteriors, targets, constants))
    if loeo is not None:
        print()
        print(cal.format_loeo(loeo))
    print(f"\nseed {args.seed}; population {budget.population}, at most {budget.generations} generations, "
          f"about {budget.max_simulations} simulations per fit; predictive {predictive.draws} draws x "
          f"{predictive.members} members; {elapsed:.1f} s")
    meta = {
        "seed": args.seed, "targets_file": Path(targets.file).name, "targets_sha256": targets.sha256,
        "scenarios": {e.id: e.sha256 for e in targets.episodes},
        "budget": {"population": budget.population, "generations": budget.generations,
                   "max_simulations": budget.max_simulations},
        "predictive": {"draws": predictive.draws, "members": predictive.members},
        "wall_time_s": round(elapsed, 1),
    }
    files = cal.write_results(args.out, targets, constants, posteriors, loeo, meta,
                              force=args.force)
    _say_replaced(target)
    print(f"wrote {', '.join(files)} to {args.out}")
    return 0


def _schema(args) -> int:
    from sim.model.scenario import scenario_json_schema_text

    text = scenario_json_schema_text()
    if args.out is not None:
        from sim.outputs.output_folder import write_file

        write_file(args.out, text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _check(args) -> int:
    from sim.model.scenario import load_scenario
    from sim.model.yamlmap import printable
    from sim.model3 import scenario as model3

    for path in args.scenarios:
        shown = printable(path)
        if model3.file_format(path) == model3.FORMAT:
            loaded = model3.load_scenario(path, sources_root=args.sources)
            s = loaded.scenario
            print(f"{shown}: ok (diplosim/3: {len(s.decisions)} decisions, {len(s.actors)} actors, "
                  f"{len(s.events)} events; quotes "
                  f"{'verified' if loaded.quotes_verified else 'NOT checked: no sources folder'})")
            continue
        if _is_overlay(path):
            from sim.experiments.counterfactual import load_overlay

            overlay = load_overlay(path, args.sources)
            print(f"{shown}: ok (an overlay on {overlay.base.id}; its base checked like a scenario)")
            continue
        loaded = load_scenario(path, sources_root=args.sources)
        status = (f"quotes verified against {loaded.sources_root}" if loaded.quotes_verified
                  else "quotes NOT checked: no sources folder found (--sources or $DIPLOSIM_SOURCES)")
        print(f"{shown}: ok ({status})")
    return 0


def _is_overlay(path: str) -> bool:
    """Does the file declare the overlay format? (Anything unreadable is left to the loader,
    which names the problem.)"""
    from sim.model.scenario import ScenarioError, read_text_file
    from sim.model.yamlmap import YamlError, load_with_lines

    try:
        data, _ = load_with_lines(read_text_file(path)[0])
    except (ScenarioError, YamlError):
        return False
    return isinstance(data, dict) and data.get("format") == "diplosim-overlay/1"


PATH_ARGUMENTS = {"scenario": "scenario", "overlay": "overlay", "spec": "spec",
                  "folder": "the folder", "constants": "--constants", "sources": "--sources",
                  "out": "--out", "report": "--report", "targets": "--targets"}


def _check_paths(args) -> None:
    """Every path given as an argument is one the system can look up (no name too long)."""
    for attr, name in PATH_ARGUMENTS.items():
        if isinstance(getattr(args, attr, None), str):
            validation.file_name(name, getattr(args, attr))
    for path in getattr(args, "scenarios", None) or []:
        validation.file_name("each scenario", path)


def _shipped_names(args) -> None:
    """Let a shipped scenario or overlay be named by its stem (``gsomia_2019``)."""
    for attr in ("scenario", "overlay"):
        value = getattr(args, attr, None)
        if isinstance(value, str):
            setattr(args, attr, shipped_file(value))
    if getattr(args, "scenarios", None):
        args.scenarios = [shipped_file(p) for p in args.scenarios]


def _scenarios(args) -> int:
    """List the shipped scenarios and overlays, by the names the commands accept."""
    from sim.model.scenario import ScenarioError, load_scenario
    from sim.paths import OVERLAYS, shipped_overlays, shipped_scenarios

    print(f"scenarios in {SCENARIO_DIR}:")
    for path in shipped_scenarios():
        try:
            title = load_scenario(path, verify_quotes=False).scenario.title
        except ScenarioError as exc:
            title = f"(does not load: {exc.message})"
        print(f"  {path.stem:<34} {title}")
    print(f"counterfactual overlays in {OVERLAYS}:")
    for path in shipped_overlays():
        print(f"  {path.stem}")
    _library_listing()
    print("name one by its stem (diplosim run gsomia_2019) or copy them out with diplosim init DIR")
    return 0


def _library_listing() -> None:
    """The library's episodes (Model 3), by country, year and kind."""
    from sim.model.scenario import ScenarioError
    from sim.model3.scenario import load_scenario as load3
    from sim.paths import LIBRARY, library_scenarios

    rows = []
    for path in library_scenarios():
        try:
            s = load3(path, verify_quotes=False).scenario
            rows.append((s.country, s.year, s.kind, path.parent.name, len(s.decisions)))
        except ScenarioError as exc:
            rows.append(("?", 0, "?", path.parent.name, f"does not load: {exc.message}"))
    print(f"library of recorded decisions in {LIBRARY} (Model 3; diplosim validate --library):")
    for country, year, kind, name, decisions in sorted(rows, key=lambda r: (r[0], r[1], r[3])):
        print(f"  {country:<16} {year:<5} {kind:<18} {name:<36} {decisions} decisions")


def _init(args) -> int:
    """Copy the shipped scenarios, overlays, constants and targets into a new folder."""
    import shutil

    from sim.paths import CALIBRATION, OVERLAYS, shipped_overlays, shipped_scenarios

    target = Path(args.folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        _say("error", f"{target}: exists and is not an empty folder; expected a new "
             "folder to copy the scenarios into")
        return 2
    (target / "scenarios" / OVERLAYS.name).mkdir(parents=True, exist_ok=True)
    (target / "calibration").mkdir(exist_ok=True)
    for path in shipped_scenarios():
        shutil.copyfile(path, target / "scenarios" / path.name)
    for path in shipped_overlays():
        shutil.copyfile(path, target / "scenarios" / OVERLAYS.name / path.name)
    for name in ("constants.yaml", "targets.yaml", "constants3.yaml", "constants3_as_set.yaml"):
        shutil.copyfile(CALIBRATION / name, target / "calibration" / name)
    from sim.paths import LIBRARY, library_scenarios

    for path in library_scenarios():
        episode = target / "library" / path.parent.name
        episode.mkdir(parents=True)
        for name in ("scenario.yaml", "record.md"):
            if (path.parent / name).is_file():
                shutil.copyfile(path.parent / name, episode / name)
    shutil.copyfile(LIBRARY / "README.md", target / "library" / "README.md")
    print(f"copied the scenarios, overlays, constants, targets and the library to {target}")
    return 0


def _app(args) -> int:
    """Serve the teaching page in this process (:mod:`sim.serve`: Solara in production mode,
    telemetry off, answering only this machine). Ctrl-C or SIGTERM stops it (uvicorn's own
    handling); a port in use, or one this user may not open, is one error line."""
    from sim.serve import PageError, serve

    if not 0 <= args.port <= 65535:
        _say("error", f"--port: expected 0 to 65535, got {args.port}")
        return 2
    try:
        serve(args.host, args.port, announce=lambda text: print(f"diplosim: {text}",
                                                                 file=sys.stderr, flush=True))
    except PageError as exc:
        _say("error", str(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
