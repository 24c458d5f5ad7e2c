"""Windows counted from the earlier decision, and a legal clock that pauses (docs/model.md,
M12): `runs_for` and `resumes`, in each run, in both drivers; bad keys give located errors;
fixed windows keep their numbers."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import yaml

from sim.engine.ensemble import VectorEngine
from sim.model.kernel import layout as L
from sim.model.scenario import ScenarioError, load_scenario, load_scenario_text
from tests.conftest import SCENARIO_2019

KST = timezone(timedelta(hours=9))
START = datetime(2019, 7, 1, tzinfo=KST)
SEED = 7


def _option(option_id: str, cooperation: float, home_signal: float | None = None) -> dict:
    option = {"id": option_id, "label": option_id, "cooperation": cooperation}
    if home_signal is not None:  # a step that reads at home as no climb-down: often taken
        option.update(home_signal=home_signal, source="record", quote="x", note="test")
    return option


def _chain_data() -> dict:
    """2019's actors and events with the notice chain of docs/scenario-format.md: notice, then
    180 days to take effect (suspend, retract or let it), a six-month suspension, and the
    clock resuming with what was left of the 180 days when the suspension lapses."""
    data = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))
    data.pop("recorded_outcome")
    data["clock"]["end"] = datetime(2021, 6, 30, tzinfo=KST)
    notice = data["decisions"][0]
    latest = datetime(2021, 6, 29, tzinfo=KST)
    common = {"decider": "south_korea", "opens": START, "deadline": latest}
    data["decisions"] = [
        notice,
        {"id": "takes_effect", "question": "Let the termination take effect?",
         "default": "let_it_take_effect", "runs_for": 4320,
         "after": {"decision": "termination_notice", "option": "terminate"},
         "options": [_option("let_it_take_effect", 0.0), _option("suspend", 1.0, 0.0),
                     _option("retract", 1.0)], **common},
        {"id": "suspension", "question": "End the suspension?", "default": "lapse",
         "runs_for": 4380, "attention": "even",
         "after": {"decision": "takes_effect", "option": "suspend"},
         "options": [_option("lapse", 0.0), _option("extend", 1.0), _option("retract", 1.0)],
         **common},
        {"id": "clock_resumes", "question": "Let the termination take effect after all?",
         "default": "let_it_take_effect", "resumes": "takes_effect",
         "after": {"decision": "suspension", "option": "lapse"},
         "options": [_option("let_it_take_effect", 0.0), _option("retract", 1.0)], **common},
    ]
    return data


def _load(data: dict):
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return load_scenario_text(text, "chain.yaml", verify_quotes=False).scenario


@pytest.fixture(scope="module")
def chain():
    return _load(_chain_data())


@pytest.fixture(scope="module")
def chain_run(chain, constants):
    engine = VectorEngine(chain, constants)
    return engine, engine.run(engine.inputs(SEED, range(3000)))


def test_a_window_runs_for_its_hours_from_the_earlier_decision(chain_run):
    engine, out = chain_run
    notice, takes = 0, 1
    terminated = (out.status[:, notice] == L.RESOLVED) & (
        out.option_index[:, notice] == engine.option_ids[notice].index("terminate"))
    assert terminated.sum() > 100
    # it opens in every run that gave notice, and its deadline is 180 days after the notice
    assert (out.status[terminated, takes] == L.RESOLVED).all()
    assert np.allclose(out.deadline_h[terminated, takes], out.decided_h[terminated, notice] + 4320)
    assert (out.status[~terminated, takes] == L.NOT_REACHED).all()
    # the default happens runs_for hours after the notice, in each run that took it
    lapsed = terminated & out.by_default[:, takes]
    assert lapsed.sum() > 10
    assert np.allclose(out.decided_h[lapsed, takes], out.decided_h[lapsed, notice] + 4320)
    # the notices fall on many days, so the windows do too (not one fixed date)
    assert np.unique(np.round(out.decided_h[lapsed, takes])).size > 5
    # no run acts after its own deadline, nor before the notice
    acted = terminated & ~out.by_default[:, takes]
    assert acted.sum() > 10
    assert (out.decided_h[acted, takes] < out.deadline_h[acted, takes]).all()
    assert (out.decided_h[acted, takes] > out.decided_h[acted, notice]).all()


def test_the_clock_resumes_with_what_was_left(chain_run):
    engine, out = chain_run
    takes, suspension, resumes = 1, 2, 3
    reached = out.status[:, resumes] == L.RESOLVED
    assert reached.sum() > 10
    left = out.deadline_h[reached, takes] - out.decided_h[reached, takes]
    assert (left > 0).all()
    assert np.allclose(out.deadline_h[reached, resumes], out.decided_h[reached, suspension] + left)
    lapsed = reached & out.by_default[:, resumes]
    assert np.allclose(out.decided_h[lapsed, resumes], out.deadline_h[lapsed, resumes])
    rows = engine.rows(out)  # results measure the timing against each run's own deadline
    by_run = {(r["run"], r["decision"]): r for r in rows}
    for m in np.flatnonzero(reached)[:20]:
        row = by_run[(int(out.runs[m]), "clock_resumes")]
        assert row["hours_before_deadline"] == pytest.approx(
            out.deadline_h[m, resumes] - out.decided_h[m, resumes])


def _imposed_chain(runs_for_after: float | None) -> dict:
    """Notice imposed at hour 744 (1 August); a 100-hour clock; suspended at hour 30 of it;
    the suspension lapses (imposed) 200 hours later; the clock resumes."""
    data = _chain_data()
    notice, takes, suspension, resumes = data["decisions"]
    t0 = START + timedelta(hours=744)
    notice["imposed"] = {"option": "terminate", "time": t0}
    takes["runs_for"] = 100
    takes["imposed"] = {"option": "suspend", "time": t0 + timedelta(hours=30)}
    suspension["imposed"] = {"option": "lapse", "time": t0 + timedelta(hours=230)}
    if runs_for_after is not None:
        resumes["runs_for"] = runs_for_after
    return data


@pytest.mark.parametrize("runs_for, window", [(None, 70.0), (24.0, 94.0)])
def test_a_clock_of_100_hours_suspended_at_hour_30_resumes_with_70(runs_for, window, constants):
    engine = VectorEngine(_load(_imposed_chain(runs_for)), constants)
    out = engine.run(engine.inputs(SEED, range(200)))
    t0 = 744.0
    assert (out.status == L.RESOLVED).all()
    assert np.allclose(out.deadline_h[:, 1], t0 + 100)
    assert np.allclose(out.decided_h[:, 2], t0 + 230)
    assert np.allclose(out.deadline_h[:, 3], t0 + 230 + window)
    # the decider acts within the resumed window, or the default comes at its end
    assert (out.decided_h[:, 3] <= t0 + 230 + window + 1e-9).all()
    assert np.allclose(out.decided_h[out.by_default[:, 3], 3], t0 + 230 + window)


def test_the_mesa_driver_reports_each_runs_own_window(constants):
    from sim.engine.runner import build_model, run_rows

    model = build_model(_load(_imposed_chain(None)), constants, SEED, 0)
    model.run()
    resumed = model.decisions[3]
    assert resumed.deadline_h == pytest.approx(744 + 230 + 70)
    assert resumed.opens_h == pytest.approx(744 + 230)
    (row,) = [r for r in run_rows(model, 0) if r["decision"] == "clock_resumes"]
    assert row["hours_before_deadline"] == pytest.approx(resumed.deadline_h - resumed.decided_h)


def test_both_drivers_agree_member_by_member_on_the_chain(chain, constants):
    from tests.test_engines import _compare

    _compare(chain, constants, seed=SEED, members=120)


def test_a_runs_for_beyond_the_deadline_keeps_the_file_deadline(constants):
    """``runs_for`` never carries a window past its ``deadline``: with a long one, the later
    decision of 2019 closes on the file's date, and its attention (per run, by the closed
    forms) is the fixed table's to rounding."""
    data = yaml.safe_load(SCENARIO_2019.read_text(encoding="utf-8"))
    data["decisions"][1]["runs_for"] = 1e6
    engine = VectorEngine(_load(data), constants)
    out = engine.run(engine.inputs(SEED, range(500)))
    reached = out.status[:, 1] == L.RESOLVED
    assert reached.any()
    assert (out.deadline_h[reached, 1] == engine.plan.deadline_h[1]).all()
    fixed = VectorEngine(load_scenario(SCENARIO_2019, verify_quotes=False).scenario, constants)
    base = fixed.run(fixed.inputs(SEED, range(500)))
    assert np.mean(base.option_index[:, 1] == out.option_index[:, 1]) > 0.99


def test_per_run_attention_equals_the_fixed_tables(constants):
    """The closed forms the relative windows use give the fixed windows' numbers."""
    from sim.model.kernel import member as kernel
    from sim.model.kernel.plan import build_plan, compiled, kernel_constants
    from sim.model.kernel.windows import attention_chance, no_later_look

    scenario = load_scenario(SCENARIO_2019, verify_quotes=False).scenario
    for attention in ("deadline", "even"):
        decisions = [d.model_copy(update={"attention": attention}) for d in scenario.decisions]
        plan = build_plan(scenario.model_copy(update={"decisions": decisions}), constants)
        relative = plan._replace(relative_window=np.ones_like(plan.relative_window))
        m = kernel.member_for(plan, 1)
        record, c = kernel.compiled(m), kernel_constants(constants)
        fixed_plan, relative_plan = compiled(plan), compiled(relative)
        kernel.start(record, relative_plan)
        for i in range(len(decisions)):
            m.window_opens[i] = plan.opens_h[i]
            m.window_deadline[i] = plan.deadline_h[i]
            for k in range(len(plan.step_starts)):
                assert attention_chance(k, i, record, relative_plan, c) == pytest.approx(
                    plan.attention[k, i], abs=1e-12)
                assert no_later_look(k, i, record, relative_plan, c) == pytest.approx(
                    plan.no_later_look[k, i], abs=1e-9), (attention, i, k)
                assert attention_chance(k, i, record, fixed_plan, c) == plan.attention[k, i]


# -- bad keys: one located error each ---------------------------------------------------------


def _mutated(path: list, value) -> dict:
    data = _chain_data()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


BAD_KEYS = [
    (["decisions", 0, "runs_for"], 100, "decisions[0]", "`runs_for` counts the window from the "
     "earlier decision, so it needs `after`"),
    (["decisions", 0, "resumes"], "takes_effect", "decisions[0]", "`resumes` counts the window"),
    (["decisions", 1, "runs_for"], 0, "decisions[1].runs_for", "greater than 0"),
    (["decisions", 1, "runs_for"], -5, "decisions[1].runs_for", "greater than 0"),
    (["decisions", 1, "runs_for"], float("inf"), "decisions[1].runs_for", "finite number"),
    (["decisions", 3, "resumes"], "nothing", "decisions[3].resumes",
     "unknown earlier decision 'nothing'"),
    (["decisions", 2, "resumes"], "clock_resumes", "decisions[2].resumes",
     "unknown earlier decision 'clock_resumes'"),
]


@pytest.mark.parametrize("path, value, where, message", BAD_KEYS)
def test_bad_window_keys_give_one_located_error(path, value, where, message, tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(_mutated(path, value), sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file, verify_quotes=False)
    text = str(caught.value)
    assert re.match(rf"{re.escape(str(file))}:\d+: ", text), text
    assert where in text and message in text, text


def test_the_chain_itself_loads():
    scenario = _load(copy.deepcopy(_chain_data()))
    assert [d.resumes for d in scenario.decisions] == [None, None, None, "takes_effect"]
    assert [d.runs_for for d in scenario.decisions] == [None, 4320, 4380, None]


def test_validate_measures_the_record_against_the_recorded_path():
    """On the recorded path the resumed clock's deadline is the lapse plus what was left of
    the 180 days when the suspension began (not the file's latest deadline)."""
    from sim.experiments.validate import recorded_deadline

    data = _chain_data()
    t0 = START + timedelta(hours=1000)
    times = {"termination_notice": t0, "takes_effect": t0 + timedelta(hours=720),
             "suspension": t0 + timedelta(hours=720 + 4380),
             "clock_resumes": t0 + timedelta(hours=720 + 4380 + 100)}
    options = {"termination_notice": "terminate", "takes_effect": "suspend",
               "suspension": "lapse", "clock_resumes": "retract"}
    data["recorded_outcome"] = {d: {"option": options[d], "time": t, "time_note": "test",
                                    "source": "record", "quote": "x"} for d, t in times.items()}
    scenario = _load(data)
    assert recorded_deadline(scenario, "takes_effect") == t0 + timedelta(hours=4320)
    assert recorded_deadline(scenario, "clock_resumes") == times["suspension"] + timedelta(
        hours=4320 - 720)
    assert recorded_deadline(scenario, "termination_notice") == datetime(2019, 8, 25, tzinfo=KST)


@pytest.mark.parametrize("name", ["gsomia_2012", "gsomia_2016", "gsomia_2019"])
def test_fixed_windows_keep_the_files_deadline_in_every_run(name, constants):
    from tests.conftest import SCENARIOS

    engine = VectorEngine(load_scenario(SCENARIOS / f"{name}.yaml",
                                        verify_quotes=False).scenario, constants)
    assert not engine.plan.relative_window.any()
    out = engine.run(engine.inputs(SEED, range(300)))
    assert (out.deadline_h == engine.plan.deadline_h).all()
    hours = [r["hours_before_deadline"] for r in engine.rows(out)]
    expected = (engine.plan.deadline_h - out.decided_h).ravel()
    assert np.allclose(hours, expected, equal_nan=True)


def test_each_run_starts_from_the_files_window(chain, constants):
    """A member record is reused run after run: a window set in one run must not leak into
    the next (each run alone gives the same window as in a block)."""
    engine = VectorEngine(chain, constants)
    inputs = engine.inputs(SEED, range(400))
    block = engine.run(inputs)
    resumed = np.flatnonzero(block.status[:, 3] == L.RESOLVED)
    others = np.flatnonzero(block.status[:, 1] == L.NOT_REACHED)
    assert resumed.size and others.size
    for m in [*resumed[:3], *others[:3]]:
        alone = engine.run(engine.inputs(SEED, [int(m)]))
        assert np.array_equal(alone.deadline_h[0], block.deadline_h[m])
        assert np.array_equal(alone.decided_h[0], block.decided_h[m], equal_nan=True)
