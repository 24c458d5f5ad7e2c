"""Performance figures, printed one per line as ``name: value unit``.

    python benchmarks/bench.py            # full sizes (several minutes on 2 cores)
    python benchmarks/bench.py --quick    # small sizes, for a smoke check

Figures are measurements, not assertions: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "library" / "gsomia_2019" / "scenario.yaml"


MODEL3_CHILD = r"""
import json, sys, time
import numpy as np
from sim.model.constants import load_constants
from sim.model.engine import Engine
from sim.model.scenario import load_scenario
members, chunk = int(sys.argv[1]), int(sys.argv[2])
scenario = load_scenario(sys.argv[3], verify_quotes=False).scenario.without_record()
engine = Engine(scenario, load_constants())
engine.run(1, np.arange(10))  # load the compiled code before timing
counts = np.zeros((len(scenario.decisions), 3), dtype=np.int64)
start = time.perf_counter()
for first in range(0, members, chunk):
    out = engine.run(1, np.arange(first, min(first + chunk, members)))
    for i in range(counts.shape[0]):
        counts[i] += np.bincount(out.option[:, i][out.option[:, i] >= 0], minlength=3)[:3]
wall = time.perf_counter() - start
hwm_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"wall_s": wall, "peak_rss_mb": hwm_kb / 1024, "counts": counts.tolist()}))
"""
MODEL3_SCENARIO = SCENARIO


def model3_million(members: int, chunk: int) -> dict:
    """Model 3: wall time and peak RSS of a fresh process running ``members`` members of the
    2019 episode (compilation excluded)."""
    proc = subprocess.run(
        [sys.executable, "-c", MODEL3_CHILD, str(members), str(chunk), str(MODEL3_SCENARIO)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(proc.stdout)


def library_calibration_wall(quick: bool) -> float:
    """Wall time of the whole library calibration with leave-one-episode-out, in a fresh
    process (diplosim calibrate --library; compilation loaded from the cache)."""
    argv = [sys.executable, "-m", "sim.cli", "calibrate", "--quiet"]
    if quick:
        argv += ["--design-log2", "3", "--runs", "50"]
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT)
    return time.perf_counter() - start


def model3_engine_ratio(members: int) -> tuple[float, float, float]:
    """Model 3: members per second of the compiled engine over the Mesa agents."""
    import numpy as np
    from sim.model.constants import load_constants
    from sim.model.engine import Engine, run_agents
    from sim.model.scenario import load_scenario

    scenario = load_scenario(MODEL3_SCENARIO, verify_quotes=False).scenario.without_record()
    constants = load_constants()
    engine = Engine(scenario, constants, threads=1)
    engine.run(1, np.arange(10))
    run_agents(scenario, constants, 1, 2)
    start = time.perf_counter()
    compiled = engine.run(1, np.arange(members))
    compiled_s = time.perf_counter() - start
    start = time.perf_counter()
    agents = run_agents(scenario, constants, 1, members)
    agents_s = time.perf_counter() - start
    assert (compiled.option == agents.option).all()
    return agents_s / compiled_s, members / compiled_s, members / agents_s


AGENTS_CHILD = r"""
import contextlib, io, json, sys
from sim.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["run", sys.argv[2], "--engine", "agents", "--runs", sys.argv[1], "--quiet"])
hwm_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"code": code, "peak_rss_mb": hwm_kb / 1024}))
"""


SOBOL_CHILD = r"""
import contextlib, io, json, sys, time
from sim.cli import main
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["sensitivity", sys.argv[1], "--samples", sys.argv[2], "--members", "100", "--quiet"])
print(json.dumps({"code": code, "wall_s": time.perf_counter() - start}))
"""


def sobol_wall(samples: int) -> float:
    """Wall time of `diplosim sensitivity` on gsomia_2019 (N base samples, 100 members a
    point) in a fresh process, compiled code loaded from the cache."""
    proc = subprocess.run([sys.executable, "-c", SOBOL_CHILD, str(SCENARIO), str(samples)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(proc.stdout)["wall_s"]


def agents_peak_rss(runs: int) -> float:
    """Peak RSS (MB) of a fresh process running `diplosim run --engine agents --runs RUNS`:
    it should not grow with the number of runs (each Mesa model is freed after its run)."""
    proc = subprocess.run(
        [sys.executable, "-c", AGENTS_CHILD, str(runs), str(SCENARIO)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(proc.stdout)["peak_rss_mb"]


def dask_scaling(points: int, members: int) -> tuple[float, float, float]:
    """Sweep throughput on a 2-worker local Dask cluster over a 1-worker one, same spec."""
    import tempfile

    from sim.experiments.sweep import SweepRunner

    timings = []
    with tempfile.TemporaryDirectory() as folder:
        for workers in (1, 2):
            spec = Path(folder) / f"spec{workers}.yaml"
            spec.write_text(
                "format: diplosim-sweep/3\n"
                "scenario: gsomia_2019\n"
                "parameters:\n  termination_notice.united_states.salience: [0.0, 1.0]\n"
                "  termination_notice.public.position: [0.3, 0.7]\n"
                f"design:\n  method: lhs\n  samples: {points}\n"
                f"members: {members}\nseed: 1\nchunk_points: 4\n"
                f"out: {Path(folder) / f'out{workers}'}\n"
            )
            runner = SweepRunner(str(spec))
            start = time.perf_counter()
            runner.run(workers=workers)
            timings.append(time.perf_counter() - start)
    return timings[0] / timings[1], timings[0], timings[1]


def cold_start_ratio(repeats: int) -> tuple[float, float, float]:
    """Median wall time of `diplosim --help` over that of `python -c pass`."""
    def median_time(argv: list[str]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    cli = median_time([sys.executable, "-m", "sim.cli", "--help"])
    bare = median_time([sys.executable, "-c", "pass"])
    return cli / bare, cli, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    million = 20_000 if args.quick else 1_000_000
    print(f"# machine: {platform.machine()}, {_cores()} cores, {_memory_gb():.0f} GB, "
          f"Python {platform.python_version()}")
    result = model3_million(million, chunk=100_000)
    print(f"model3_million_members_wall_s: {result['wall_s']:.1f} s  ({million} members of "
          f"library/gsomia_2019, Model 3; target 20 s)")
    print(f"model3_million_members_peak_rss_mb: {result['peak_rss_mb']:.0f} MB")
    ratio, compiled_rate, agent_rate = model3_engine_ratio(200 if args.quick else 2000)
    print(f"model3_engine_ratio: {ratio:.0f} x  (one thread: compiled {compiled_rate:.0f}/s, "
          f"agents {agent_rate:.0f}/s; target 300 x)")
    print(f"library_calibration_wall_s: {library_calibration_wall(args.quick):.1f} s  "
          f"(diplosim calibrate{' (quick sizes)' if args.quick else ''}: 24 episodes, "
          "LOEO included; target 600 s)")
    samples = 16 if args.quick else 256
    print(f"sobol_{samples}_wall_s: {sobol_wall(samples):.1f} s  (diplosim sensitivity gsomia_2019 "
          f"--samples {samples} --members 100)")
    agent_runs = 300 if args.quick else 2500
    print(f"agents_peak_rss_mb_{agent_runs}: {agents_peak_rss(agent_runs):.0f} MB  "
          f"(diplosim run --engine agents --runs {agent_runs}, gsomia_2019)")
    points, members = (16, 200) if args.quick else (64, 2000)
    scaling, one, two = dask_scaling(points, members)
    print(f"dask_scaling_2v1: {scaling:.2f} x  ({points} points x {members} members: "
          f"1 worker {one:.1f} s, 2 workers {two:.1f} s, cluster start-up included)")
    ratio, cli, bare = cold_start_ratio(5 if args.quick else 15)
    print(f"cold_start_ratio: {ratio:.1f} x  (diplosim --help {cli * 1000:.0f} ms, "
          f"python -c pass {bare * 1000:.0f} ms)")


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _memory_gb() -> float:
    try:
        with open("/proc/meminfo") as handle:
            return int(handle.readline().split()[1]) / 1024 / 1024
    except OSError:
        return float("nan")


if __name__ == "__main__":
    main()
