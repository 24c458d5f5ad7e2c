"""Model 3's cost estimate against the time it stands for, printed as ``name: value unit``.

    python benchmarks/model3_cost.py            # every library scenario, 20,000 members each
    python benchmarks/model3_cost.py --quick    # 2,000 members, 10 on the agents

For each scenario: the estimated units per member (sim.model.cost), the compiled engine's
and the Mesa agents' time per member on one thread, and so nanoseconds per unit. The figures
behind sim/model/cost.py's note; measurements, not assertions.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    members, agents = (2000, 10) if args.quick else (20000, 30)

    from sim.model.constants import load_constants
    from sim.model.engine import Engine, run_agents
    from sim.model.scenario import load_scenario
    from sim.paths import library_scenarios

    constants = load_constants()
    vector_ns, agents_ns = [], []
    for path in library_scenarios():
        scenario = load_scenario(path, verify_quotes=False).scenario
        engine = Engine(scenario, constants, threads=1)
        engine.run(1, np.arange(10))  # compiled or loaded before the clock starts
        units = engine.member_work()
        started = time.perf_counter()
        engine.run(1, np.arange(members))
        vector = (time.perf_counter() - started) / members
        started = time.perf_counter()
        run_agents(scenario, constants, 1, agents, allow_large=True)
        agent = (time.perf_counter() - started) / agents
        vector_ns.append(vector * 1e9 / units)
        agents_ns.append(agent * 1e9 / units)
        print(f"{scenario.id}: {units:.0f} units/member, compiled {vector * 1e6:.1f} us/member "
              f"({vector_ns[-1]:.1f} ns/unit), agents {agent * 1e3:.2f} ms/member "
              f"({agents_ns[-1]:.0f} ns/unit)", flush=True)
    for name, figures in (("compiled", vector_ns), ("agents", agents_ns)):
        print(f"{name} ns per unit: min {min(figures):.1f}, median "
              f"{statistics.median(figures):.1f}, max {max(figures):.1f}")
    print(f"agents over compiled, per unit (median): "
          f"{statistics.median(agents_ns) / statistics.median(vector_ns):.0f}")


if __name__ == "__main__":
    main()
