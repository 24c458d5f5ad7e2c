"""Hostile cases of the third pass (issue 18), for Model 3's engine: cost bounded before work
starts, Ctrl-C and SIGTERM taking effect during a long ensemble and during the first compile,
and every compiled entry point fuzzed with random valid ``diplosim/3`` scenarios.

The fuzz runs in a subprocess, where a segfault in compiled code would end that process (and
fail this test) instead of pytest. ``DIPLOSIM_FUZZ=long`` runs many more examples (for a
benchmark); the suite's profile is small and derandomized, so it is the same on every run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import validation
from sim.experiments.validate import check_validation
from sim.model import compiled, cost
from sim.model.constants import load_constants
from sim.model.engine import Engine, ensemble_chunks, run_agents, run_ensemble
from sim.model.scenario import Scenario, _cross_check, load_scenario

ROOT = Path(__file__).resolve().parent.parent
GSOMIA_2019 = ROOT / "library" / "gsomia_2019" / "scenario.yaml"
CLI = [sys.executable, "-c", "from sim.cli import main; raise SystemExit(main())"]
START = datetime(2020, 1, 1, tzinfo=timezone.utc)
WORDS = "The government said yes. The party said no."


@pytest.fixture(scope="module")
def constants():
    return load_constants()


def sourced(value: float | None = None, rng: tuple[float, float] | None = None) -> dict:
    out = {"source": "r", "quote": "The party said no.", "note": "test"}
    out.update({"value": value} if rng is None else {"range": list(rng)})
    return out


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def frame(decisions: list, events: list, actors: dict, days: float, elections=()) -> dict:
    """A whole ``diplosim/3`` scenario around its decisions and events."""
    return {
        "format": "diplosim/3", "id": "hostile", "title": "Hostile", "summary": "A test.",
        "country": "Nowhere", "year": 2020, "kind": "agreement",
        "sources": [{"id": "r", "file": "record.md", "in": "episode", "title": "R",
                     "publisher": "P"}],
        "clock": {"start": at(0), "end": at(24 * days)},
        "actors": actors, "elections": list(elections), "events": events,
        "decisions": decisions,
    }


def heavy(decisions: int, events: int, days: float = 365) -> dict:
    """Many decisions, each weighed against every actor's stake, and events that address them
    all: one member of heavy(200, 100) is estimated at 1.1e7 units (an upper bound: it takes about
13 ms of compiled code, the events' looks finding most decisions taken)."""
    actors = {"gov": {"name": "Gov", "role": "decider"},
              **{f"a{k}": {"name": f"A{k}", "role": "other"} for k in range(8)}}
    stakes = {"gov": {"position": sourced(1.0), "salience": sourced(rng=(0.2, 0.8))},
              **{f"a{k}": {"position": sourced(rng=(0, 1)), "salience": sourced(rng=(0, 1)),
                           "clout": sourced(rng=(0, 1))} for k in range(8)}}
    options = [{"id": "yes", "label": "Yes", "position": 1.0},
               {"id": "no", "label": "No", "position": 0.0}]
    listed = [{"id": f"d{i}", "decided_by": "gov", "question": "Q?", "opens": at(0),
               "deadline": at(24 * days - 1), "default": "no", "options": options,
               "stakes": stakes} for i in range(decisions)]
    happenings = [{"id": f"e{k}", "kind": "demand", "time": at(24 * days * (k + 1) / (events + 2)),
                   "addresses": [d["id"] for d in listed], "description": "A demand.",
                   "source": "r", "quote": "The party said no.",
                   "effects": [{"target": "a0.salience", "op": "add", "range": [-0.1, 0.1],
                                "note": "n"}]} for k in range(events)]
    return frame(listed, happenings, actors, days)


def write(folder: Path, data: dict, name: str = "scenario.yaml") -> Path:
    (folder / "record.md").write_text(WORDS, encoding="utf-8")
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def validated(data: dict) -> Scenario:
    scenario = Scenario.model_validate(data)
    problems = list(_cross_check(scenario))
    assert not problems, problems
    return scenario


# -- cost bounded before work starts --------------------------------------------------------------


def test_the_estimate_follows_the_plans_sizes(constants):
    """Twice the runs cost twice as much; more decisions, events or looks cost more; the
    agents cost AGENTS_FACTOR times the compiled engine."""
    small = validated(heavy(2, 1))
    work = cost.ensemble_work(small, constants, 1000)
    assert cost.ensemble_work(small, constants, 2000) == pytest.approx(2 * work)
    assert cost.ensemble_work(validated(heavy(4, 1)), constants, 1000) > 2 * work
    assert cost.ensemble_work(validated(heavy(2, 5)), constants, 1000) > work
    assert cost.ensemble_work(validated(heavy(2, 1, days=3)), constants, 1000) < work
    assert cost.ensemble_work(small, constants, 1000, "agents") == \
        pytest.approx(cost.AGENTS_FACTOR * work)


def test_a_hand_computed_member_matches_the_formula(constants):
    """One decision (two options, two stakes) open for 100 hours, one event addressing it."""
    data = heavy(1, 1, days=(100 + 1) / 24)
    data["decisions"][0]["stakes"] = {k: data["decisions"][0]["stakes"][k] for k in ("gov", "a0")}
    data["actors"] = {k: data["actors"][k] for k in ("gov", "a0")}
    scenario = validated(data)
    looks = constants.attention_rate * np.log1p(100 / constants.attention_floor_hours) + 1
    moments = 1 + 2 + looks
    expected = moments * (2 * 1 + 1) + looks * 2 * 2 * 2
    assert cost.ensemble_work(scenario, constants, 1) == pytest.approx(expected)


@pytest.mark.parametrize("call", ["run_ensemble", "ensemble_chunks", "run_agents", "agents"])
def test_too_large_is_refused_before_any_run_with_one_sentence(constants, call):
    scenario = validated(heavy(200, 100))
    runs = 10_000
    progress: list[int] = []
    calls = {
        "run_ensemble": lambda **k: run_ensemble(scenario, constants, 1, runs, progress=progress.append, **k),
        "ensemble_chunks": lambda **k: ensemble_chunks(scenario, constants, 1, runs, **k),
        "run_agents": lambda **k: run_agents(scenario, constants, 1, runs, progress.append, **k),
        "agents": lambda **k: run_ensemble(scenario, constants, 1, runs, engine="agents", **k),
    }
    with pytest.raises(validation.TooLarge) as raised:
        calls[call]()  # ensemble_chunks refuses when called, before its first block is asked for
    message = str(raised.value)
    assert "\n" not in message and progress == []
    assert message.startswith("this run would take about ") and "10,000 runs x " in message
    assert "above the limit of 1e+10 units" in message and "--allow-large" in message
    assert "allow_large=True" in message


def test_allow_large_lets_it_run(constants, monkeypatch):
    scenario = validated(heavy(2, 1))
    monkeypatch.setattr(validation, "MAX_WORK", 10)
    with pytest.raises(validation.TooLarge):
        run_ensemble(scenario, constants, 1, 5)
    ensemble = run_ensemble(scenario, constants, 1, 5, allow_large=True)
    assert ensemble.runs == 5
    rows = [row for rows, _, _ in ensemble_chunks(scenario, constants, 1, 5, allow_large=True)
            for row in rows]
    assert len(rows) == 5 * 2
    assert len(run_agents(scenario, constants, 1, 3, allow_large=True).runs) == 3


@pytest.mark.parametrize("runs, seed, engine, words", [
    (0, 1, "vector", "runs must be a whole number from 1 to 10,000,000, got 0"),
    (True, 1, "vector", "runs must be a whole number"),
    (2.0, 1, "vector", "runs must be a whole number"),
    (10, -1, "vector", "seed must be a whole number from 0 to 2**63-1, got -1"),
    (10, 2**63, "vector", "seed must be a whole number from 0 to 2**63-1"),
    (10, 1, "numba", "engine must be 'vector' or 'agents'"),
])
def test_misused_arguments_are_one_sentence(constants, runs, seed, engine, words):
    scenario = validated(heavy(1, 0))
    with pytest.raises(validation.InvalidArgument, match=words.replace("*", r"\*")):
        run_ensemble(scenario, constants, seed, runs, engine=engine)


def test_a_validation_is_estimated_over_all_its_ensembles(constants):
    scenario = load_scenario(GSOMIA_2019, verify_quotes=False).scenario
    with pytest.raises(validation.TooLarge, match=r"validating gsomia_2019 .*3,000,000 runs x 3 ensembles"):
        check_validation(scenario, constants, 3_000_000)
    assert check_validation(scenario, constants, 1000) > 0


def test_the_command_refuses_a_costly_model3_run_and_writes_nothing(tmp_path):
    path = write(tmp_path, heavy(200, 100))
    done = subprocess.run([*CLI, "run", str(path), "--runs", "10000", "--out", "out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if "source texts not found" not in line]
    assert len(lines) == 1 and lines[0].startswith("diplosim: error: this run would take about")
    assert not (tmp_path / "out").exists()


# -- signals --------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_after(args: list[str], cwd: Path, signum: int, cpu_s: float,
               env: dict | None = None) -> tuple[int, str, float]:
    """Start the command, let it compute ``cpu_s`` of CPU time, send the signal: (exit status,
    stderr, seconds from the signal to the end)."""
    process = subprocess.Popen([*CLI, *args], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 300
        while _cpu_seconds(process.pid) < cpu_s:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the command never got going"
            time.sleep(0.05)
        sent = time.monotonic()
        process.send_signal(signum)
        _, err = process.communicate(timeout=300)
        return process.returncode, err, time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _stopped_cleanly(code: int, err: str, signum: int) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert code == (143 if signum == signal.SIGTERM else 130), err
    last = err.strip().splitlines()[-1]
    assert last.startswith("diplosim: terminated (SIGTERM)" if signum == signal.SIGTERM
                           else "diplosim: interrupted (Ctrl-C)"), err


@pytest.mark.parametrize("command, signum", [
    ("run", signal.SIGINT), ("run", signal.SIGTERM), ("validate", signal.SIGTERM),
    ("run-many-runs", signal.SIGINT)])
def test_a_signal_stops_a_long_model3_ensemble_leaving_nothing(tmp_path, command, signum):
    """800 heavy members in one block of compiled code (before this pass the block ran to
    its end first: 7.3 s after Ctrl-C, 6.8 s after SIGTERM), or millions of light members."""
    data = heavy(200, 100)
    if command == "validate":
        data["recorded_outcome"] = {"d0": {"option": "yes", "time": at(24 * 100),
                                           "time_note": "the day", "source": "r",
                                           "quote": "The party said no."}}
    path = write(tmp_path, data)
    runs = ["--runs", "800"]
    if command == "run-many-runs":
        path, runs = GSOMIA_2019, ["--runs", "5000000"]
    args = [command.split("-")[0], str(path), *runs, "--quiet"]
    args += ["--out", "out"] if command != "validate" else ["--report", "out"]
    code, err, took = stop_after(args, tmp_path, signum, cpu_s=4.0)
    print(f"{command} {signal.Signals(signum).name}: stopped {took:.2f} s after the signal")
    _stopped_cleanly(code, err, signum)
    assert set(os.listdir(tmp_path)) <= {"record.md", "scenario.yaml"}  # no result, no staging


# -- the fuzz: random valid diplosim/3 scenarios through every compiled entry point ---------------

ROLES = ("counterpart", "patron", "rival", "domestic", "public", "other")
KINDS = ("demand", "offer", "concession", "vote", "announcement", "measure", "statement")
FIELDS = ("position", "salience", "clout")


def _unit(draw, st) -> tuple[float, float] | float:
    """A value or a range within [0, 1]."""
    lo = draw(st.floats(0, 1))
    return lo if draw(st.booleans()) else (lo, draw(st.floats(lo, 1)))


def _param(draw, st) -> dict:
    value = _unit(draw, st)
    return sourced(rng=value) if isinstance(value, tuple) else sourced(value)


def _stakes(draw, st, actors: list[str], deciders: list[str]) -> dict:
    others = draw(st.lists(st.sampled_from(actors), max_size=len(actors), unique=True))
    stakes = {}
    for actor in dict.fromkeys([*deciders, *others]):
        stake = {"position": _param(draw, st), "salience": _param(draw, st)}
        if actor not in deciders:
            stake["clout"] = _param(draw, st)
        if draw(st.integers(0, 3)) == 0:
            stake["consent"] = True
        stakes[actor] = stake
    return stakes


def _effects(draw, st, targets: list[str], most: int) -> list[dict]:
    out = []
    for _ in range(draw(st.integers(0, most if targets else 0))):
        lo = draw(st.floats(-1, 1))
        magnitude = {"value": lo} if draw(st.booleans()) else {"range": [lo, draw(st.floats(lo, 1))]}
        field = draw(st.sampled_from(FIELDS))
        out.append({"target": f"{draw(st.sampled_from(targets))}.{field}",
                    "op": draw(st.sampled_from(("add", "set"))), **magnitude, "note": "n"})
    return out


def _precondition(draw, st, earlier: list[dict]) -> dict | None:
    if not earlier or draw(st.booleans()):
        return None
    d = draw(st.sampled_from(earlier))
    return {"decision": d["id"], "option": draw(st.sampled_from([o["id"] for o in d["options"]]))}


def _options(draw, st, n: int, earlier: list[dict], default: int, standing: int) -> list[dict]:
    options = []
    for k in range(n):
        position = draw(st.sampled_from((0.0, 1.0, 0.5)))
        option = {"id": f"o{k}", "label": f"O{k}", "position": position}
        if 0 < position < 1:
            option.update(source="r", quote="The party said no.", note="between")
        requires = None if k in (default, standing) else _precondition(draw, st, earlier)
        if requires:
            option["requires"] = requires
        options.append(option)
    return options


def _decided_by(draw, st, actors: list[str]) -> tuple[object, list[str]]:
    """An actor, or (one time in four) a body of one to three blocs."""
    if draw(st.integers(0, 3)) > 0:
        actor = draw(st.sampled_from(actors))
        return actor, [actor]
    blocs = draw(st.lists(st.sampled_from(actors), min_size=1, max_size=3, unique=True))
    body = {"members": [{"actor": a, "seats": draw(st.integers(1, 50)),
                         "discipline": draw(st.sampled_from(("party", "free")))} for a in blocs],
            "rule": draw(st.sampled_from(("majority", "three_fifths", "two_thirds"))),
            "source": "r", "quote": "The party said no."}
    return body, blocs


def _decision(draw, st, i: int, actors: list[str], earlier: list[dict], hours: int) -> dict:
    decided_by, deciders = _decided_by(draw, st, actors)
    n = 2 if isinstance(decided_by, dict) else draw(st.integers(2, 3))
    default, standing = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
    opens = draw(st.integers(0, hours - 1))
    d = {"id": f"d{i}", "decided_by": decided_by, "question": "Q?", "opens": at(opens),
         "deadline": at(draw(st.integers(opens + 1, hours))), "default": f"o{default}",
         "options": _options(draw, st, n, earlier, default, standing),
         "stakes": _stakes(draw, st, actors, deciders)}
    if standing != default:
        d["standing"] = f"o{standing}"
    after = _precondition(draw, st, earlier)
    if after:
        d["after"] = after
        if draw(st.booleans()):
            d["runs_for"] = draw(st.floats(0.5, 2.0 * hours))
    if draw(st.integers(0, 4)) == 0:
        d["imposed"] = {"option": f"o{draw(st.integers(0, n - 1))}",
                        "time": at(draw(st.integers(0, hours)))}
    return d


def _event(draw, st, k: int, decisions: list[dict], targets: list[str], hours: int) -> dict:
    addresses = draw(st.lists(st.sampled_from([d["id"] for d in decisions]), max_size=3,
                              unique=True))
    kind = draw(st.sampled_from(KINDS[:5] if addresses else KINDS))
    e = {"id": f"e{k}", "kind": kind, "addresses": addresses, "description": "Something.",
         "source": "r", "quote": "The party said no.", "effects": _effects(draw, st, targets, 2)}
    follows = _precondition(draw, st, decisions)
    if follows:
        e.update({"if": follows, "after_hours": draw(st.floats(0, hours))})
    else:
        e["time"] = at(draw(st.integers(0, hours - 1)))
    return e


def scenario_data(draw, st) -> dict:
    """A random valid diplosim/3 scenario: 1-4 actors, 1-4 decisions (some bodies, some
    following or requiring earlier ones, some imposed), 0-4 events (dated or following a
    choice, addressing decisions or not), 0-2 elections, effects on stakes."""
    actors = {"a0": {"name": "A0", "role": "decider"}}
    for k in range(1, draw(st.integers(1, 4))):
        actors[f"a{k}"] = {"name": f"A{k}", "role": draw(st.sampled_from(ROLES))}
    hours = 24 * draw(st.integers(1, 60))
    decisions: list[dict] = []
    for i in range(draw(st.integers(1, 4))):
        decisions.append(_decision(draw, st, i, list(actors), decisions, hours))
    targets = sorted({a for d in decisions for a in d["stakes"]}
                     | {f"{d['id']}.{a}" for d in decisions for a in d["stakes"]})
    for d in decisions:
        for option in d["options"]:
            option["effects"] = _effects(draw, st, targets, 1)
    events = [_event(draw, st, k, decisions, targets, hours) for k in range(draw(st.integers(0, 4)))]
    elections = [{"actor": draw(st.sampled_from(list(actors))),
                  "date": (START + timedelta(days=draw(st.integers(0, hours // 24)))).date().isoformat(),
                  "description": "A vote.", "source": "r", "quote": "The party said no."}
                 for _ in range(draw(st.integers(0, 2)))]
    return frame(decisions, events, actors, hours / 24, elections)


AGENT_RUNS = 6  # members also stepped by the Mesa driver, per example
MOST_STEPS = 100_000  # a run of these small scenarios has a few hundred moments at most


def _member_arrays(m) -> list[np.ndarray]:
    return [m.status.copy(), m.option.copy(), m.decided.copy(), m.by_default.copy(),
            m.window_deadline.copy(), m.stake.copy()]


def check_engine_and_agents(scenario: Scenario, constants, seed: int, runs: int) -> None:
    """Every member ends resolved or not reached, with an option of its decision; shares over
    all runs sum to 1 per decision; the Mesa driver gives each member's very outcomes; a step
    after the end changes nothing."""
    from sim.model import kernel as K
    from sim.model.agents import DiplomacyModel
    from sim.model.engine import Ensemble

    out = Engine(scenario, constants).run(seed, np.arange(runs))
    for i, d in enumerate(scenario.decisions):
        resolved = out.status[:, i] == K.RESOLVED
        assert np.isin(out.status[:, i], (K.RESOLVED, K.NOT_REACHED)).all()
        assert ((out.option[resolved, i] >= 0) & (out.option[resolved, i] < len(d.options))).all()
        assert (out.option[~resolved, i] == -1).all()
        summary = Ensemble(scenario, seed, out).summary(d.id)
        assert sum(summary.counts.values()) + summary.runs - summary.reached == runs
        if summary.reached:
            assert sum(summary.shares.values()) == pytest.approx(1.0, abs=1e-12)
    for run in range(min(runs, AGENT_RUNS)):
        model = DiplomacyModel(scenario, constants, seed, run)
        for _ in range(MOST_STEPS):
            if not model.running:
                break
            model.step()
        assert not model.running, "the agents never finished"
        m = model.member
        for mine, theirs in zip(_member_arrays(m)[:5], (out.status, out.option, out.decided_h,
                                                         out.by_default, out.deadline_h)):
            np.testing.assert_array_equal(mine, theirs[run])
        before = _member_arrays(m)
        for _ in range(3):
            model.step()
        assert not model.running
        for a, b in zip(before, _member_arrays(m)):
            np.testing.assert_array_equal(a, b)


def check_whatif(scenario: Scenario, constants, seed: int, runs: int, setting: dict,
                 removed: tuple[str, ...]) -> None:
    """An empty change differs by exactly zero; with a change, every side's shares (with
    not_reached) sum to 1 per decision and the baseline is the empty change's."""
    from sim.experiments.whatif import Change, compare

    same = compare(scenario, Change(), constants, seed, runs)
    changed = compare(scenario, Change(set=setting, remove_events=removed), constants, seed, runs)
    for a, b in zip(same.decisions, changed.decisions):
        assert all(mean == 0.0 for mean, _, _ in a.difference.values())
        assert a.base_shares == a.changed_shares == b.base_shares
        for shares in (b.base_shares, b.changed_shares):
            assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)


def _profile():
    from hypothesis import HealthCheck, settings

    checks = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    settings.register_profile("suite", max_examples=25, derandomize=True, deadline=None,
                              database=None, suppress_health_check=checks)
    settings.register_profile("long", max_examples=1000, deadline=None, database=None,
                              suppress_health_check=checks)
    return settings.get_profile("long" if os.environ.get("DIPLOSIM_FUZZ") == "long" else "suite")


def fuzz_main() -> None:
    """The fuzz (run by the test below in a subprocess): each property over random scenarios,
    seeds and run counts; prints how many examples ran and how long they took."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sim.experiments.whatif import allowed_bounds
    from sim.model.plan import drawn_quantities

    constants = load_constants()
    scenarios = st.composite(lambda draw: validated(scenario_data(draw, st)))()
    seeds, counts = st.integers(0, validation.MAX_SEED), st.integers(1, 40)
    tried = {"engine": 0, "whatif": 0, "threads": 0}

    @settings(_profile())
    @given(scenarios, seeds, counts)
    def engine_and_agents(scenario, seed, runs):
        tried["engine"] += 1
        check_engine_and_agents(scenario, constants, seed, runs)

    @settings(_profile())
    @given(scenarios, seeds, counts, st.data())
    def whatif(scenario, seed, runs, data):
        tried["whatif"] += 1
        removed = tuple(data.draw(st.lists(st.sampled_from([e.id for e in scenario.events] or [""]),
                                           unique=True, max_size=2).map(lambda ids: [i for i in ids if i])))
        keys = [q.key for q in drawn_quantities(scenario)
                if not any(q.key.startswith(f"event.{e}.") for e in removed)]
        chosen = data.draw(st.lists(st.sampled_from(keys or [""]), unique=True, max_size=3))
        setting = {k: data.draw(st.floats(*allowed_bounds(k))) for k in chosen if k}
        check_whatif(scenario, constants, seed, runs, setting, removed)

    @settings(_profile(), max_examples=max(2, _profile().max_examples // 10))
    @given(scenarios, seeds)
    def threads(scenario, seed):
        """A block split over threads gives each member's very outcome."""
        tried["threads"] += 1
        runs = np.arange(2 * 5000 + 7)
        one, two = Engine(scenario, constants, 1).run(seed, runs), Engine(scenario, constants, 2).run(seed, runs)
        for field in ("status", "option", "decided_h", "by_default", "deadline_h"):
            np.testing.assert_array_equal(getattr(one, field), getattr(two, field))

    started = time.perf_counter()
    engine_and_agents()
    whatif()
    threads()
    print(f"fuzz: {tried['engine']} scenarios through Engine.run and DiplomacyModel, "
          f"{tried['whatif']} through whatif.compare, {tried['threads']} split over two "
          f"threads, {time.perf_counter() - started:.1f} s")


def test_fuzz_every_compiled_entry_point_in_a_subprocess():
    """Random valid scenarios never crash the compiled code (a segfault ends the subprocess
    with a negative status), and every property of check_engine_and_agents and check_whatif
    holds."""
    done = subprocess.run(
        [sys.executable, "-c", "from tests.test_hostile_pass3c import fuzz_main; fuzz_main()"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800)
    print(done.stdout[-2000:])
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    assert "fuzz: " in done.stdout


# -- the first compile ----------------------------------------------------------------------------


def _compiling_children(cache: Path) -> list[int]:
    """Processes still compiling into ``cache`` (a child the command should have ended)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"_child_compiles" in command and str(cache).encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("command, signum", [("run", signal.SIGINT), ("validate", signal.SIGTERM)])
def test_a_signal_during_the_first_compile_stops_at_once(tmp_path, command, signum):
    """A cold cache (its own NUMBA_CACHE_DIR): the signal comes while Model 3 compiles, which
    takes half a minute. Before this pass: a RuntimeError traceback with exit 1, a run that
    went on to exit 0, or the signal honoured when the compile ended; now the compiling child
    is ended, and the command stops with its one line and status."""
    cache = tmp_path / "cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    args = [command, str(GSOMIA_2019), "--runs", "1000", "--quiet"]
    args += ["--out", "out"] if command == "run" else ["--report", "out"]
    process = subprocess.Popen([*CLI, *args], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not _compiling_children(cache):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the compile never started"
            time.sleep(0.05)
        time.sleep(1.0)  # well inside the compile
        sent = time.monotonic()
        process.send_signal(signum)
        _, err = process.communicate(timeout=120)
        print(f"{command} {signal.Signals(signum).name} during the first compile: stopped "
              f"{time.monotonic() - sent:.2f} s after the signal")
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    _stopped_cleanly(process.returncode, err, signum)
    others = [line for line in err.strip().splitlines()[:-1] if "note: compiling" not in line]
    assert others == [], err  # the stop's one line, after the compile notice if there is one
    assert not (tmp_path / "out").exists() and _compiling_children(cache) == []


def test_the_first_run_says_it_is_compiling(tmp_path, constants):
    """One line on stderr with a cold cache, none with --quiet, none once compiled."""
    script = ("import sys; from sim.model.compiled import compile_notice, is_cold; "
              "print(is_cold()); compile_notice(quiet='quiet' in sys.argv)")
    for quiet, printed in ((False, True), (True, False)):
        done = subprocess.run([sys.executable, "-c", script, *(["quiet"] if quiet else [])],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cold")})
        assert done.stdout.strip() == "True"
        lines = done.stderr.strip().splitlines()
        assert lines == ([f"diplosim: note: {compiled.NOTICE}"] if printed else []), done.stderr
    run_ensemble(validated(heavy(1, 0)), constants, 1, 2)  # compiled (or loaded) here
    assert not compiled.is_cold() and not compiled.compile_notice()
