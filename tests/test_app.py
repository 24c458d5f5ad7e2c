"""The teaching page's logic without a browser (Model 3 and the library): what can be picked,
the sliders, the what-if numbers (those of ``diplosim counterfactual``'s call), the traced
run, the controls, and the `diplosim app` command's checks."""

from __future__ import annotations

import ast
import collections
import shutil
import threading
from pathlib import Path

import pytest
import yaml

import sim.app as page
from tests.conftest import with_episode_sources
from sim import teaching as T
from sim.experiments.whatif import Change, compare
from sim.model.constants import load_constants
from sim.model.plan import drawn_quantities
from sim.model.scenario import load_scenario
from sim.paths import LIBRARY, library_scenarios

ROOT = Path(__file__).resolve().parent.parent
US_NOVEMBER = "termination_takes_effect.united_states.salience"  # range [0.4, 0.6]


def _scenario(name: str = "gsomia_2019"):
    return T.load_episode(name).scenario


@pytest.fixture()
def fresh_page(monkeypatch):
    """The page's state at its start (gsomia_2019, nothing moved), with ▶ not waiting."""
    monkeypatch.setattr(page, "PLAY_INTERVAL_S", 0.0)
    page.episode.set(T.DEFAULT_EPISODE)
    page.settings.set({})
    page.ready_id.set(None)
    page.seed.set(T.DEFAULT_SEED)
    page.runs.set(T.DEFAULT_RUNS)
    page.rebuild(0)
    yield page
    page.playing.set(False)


def _play(p) -> None:
    p.playing.set(True)
    p.play_loop(threading.Event())


# -- the choices --------------------------------------------------------------------------------


def test_every_library_episode_can_be_picked_by_country_year_and_title():
    offered = T.episodes()
    assert sorted(e.name for e in offered) == sorted(p.parent.name for p in library_scenarios())
    assert len(offered) == 24
    assert [(e.country, e.year) for e in offered] == sorted((e.country, e.year) for e in offered)
    gsomia = next(e for e in offered if e.name == "gsomia_2019")
    assert gsomia.label.startswith("South Korea 2019: Japan-South Korea GSOMIA, 2019")
    assert T.DEFAULT_EPISODE == "gsomia_2019" and page.episode.value == "gsomia_2019"


def test_every_episode_has_the_info_the_page_shows():
    for e in T.episodes():
        info = _scenario(e.name).info
        assert info is not None, e.name
        assert all(getattr(info, f).strip() for f in
                   ("what_happened", "question", "what_to_try", "what_to_look_for")), e.name


# -- the sliders --------------------------------------------------------------------------------


def test_one_slider_per_drawn_quantity_with_its_sourced_range_and_words():
    s = _scenario()
    specs = {spec.key: spec for spec in T.slider_specs(s)}
    assert set(specs) == {q.key for q in drawn_quantities(s)}
    for q in drawn_quantities(s):
        assert (specs[q.key].low, specs[q.key].high) == (q.lo, q.hi)
    us = specs[US_NOVEMBER]
    stake = s.decision("termination_takes_effect").stakes["united_states"].salience
    assert (us.who, us.name, us.low, us.high) == ("United States (patron)", "salience", 0.4, 0.6)
    assert us.quote == " ".join(stake.quote.split()) and us.note == " ".join(stake.note.split())
    assert us.source.startswith("KBS World Radio")
    poll = specs["event.poll_mid_november.0"]
    assert poll.group == "events" and poll.who.startswith("poll_mid_november: Realmeter")
    assert specs["termination_notice.japan.position"].fixed_by_source  # given as 1, no range


def test_sliders_are_grouped_by_decision_then_actor():
    groups = T.slider_groups(T.slider_specs(_scenario()))
    assert [g for g, _, _ in groups] == ["termination_notice", "japan_talks",
                                         "termination_takes_effect", "events"]
    _, heading, by_who = groups[0]
    assert heading.startswith("Give Japan written notice")
    assert by_who[0][0] == "South Korean government (President Moon Jae-in) (decider)"


def test_a_slider_snaps_to_its_grid_inside_its_range():
    for spec in T.slider_specs(_scenario("sweden_nato_2022")):
        for value in (spec.low - 1, spec.low, spec.middle, spec.high, spec.high + 1):
            snapped = spec.snap(value)
            assert spec.low <= snapped <= spec.high
            assert snapped == float(repr(snapped))  # prints exactly as it is used


def test_an_untouched_slider_fixes_nothing_and_a_move_fixes_one_number(fresh_page):
    spec = next(s for s in T.slider_specs(_scenario()) if s.key == US_NOVEMBER)
    page.move(spec, spec.middle)  # what the browser reports when it draws the slider
    assert page.settings.value == {}
    page.move(spec, 0.4)
    assert page.settings.value == {US_NOVEMBER: 0.4}
    assert page.slider_state(spec, page.settings.value, None) == "fixed at 0.4 in every run"
    page.release(US_NOVEMBER)
    assert page.settings.value == {}
    assert page.slider_state(spec, {}, None) == "as sourced: drawn from 0.4 to 0.6 in each run"


# -- the numbers ----------------------------------------------------------------------------------


def test_with_nothing_touched_every_difference_is_exactly_zero():
    result = T.comparison("gsomia_2019", T.page_change({}))
    for d in result.decisions:
        assert d.changed_shares == d.base_shares
        assert all(diff == (0.0, 0.0, 0.0) for diff in d.difference.values())


def test_the_page_what_if_is_whatif_compare_for_the_same_settings():
    """The page's numbers are those of the call `diplosim counterfactual` makes."""
    change = T.page_change({US_NOVEMBER: 0.4, "termination_notice.executive.salience": 0.5})
    shown = T.comparison("gsomia_2019", change, seed=7, runs=300)
    scenario = load_scenario(LIBRARY / "gsomia_2019" / "scenario.yaml").scenario
    direct = compare(scenario.without_record(), change,
                     load_constants(ROOT / "calibration" / "constants3.yaml"), 7, 300)
    assert shown.decisions == direct.decisions
    assert shown.decision("termination_takes_effect").difference != {
        o: (0.0, 0.0, 0.0) for o in shown.decision("termination_takes_effect").options}


def test_shares_count_all_runs_so_the_shown_numbers_subtract():
    s = _scenario()
    rows = T.share_rows(s, T.comparison("gsomia_2019", T.page_change({US_NOVEMBER: 0.4})))
    for decision, options in rows.items():
        assert options[-1].option == "not_reached"
        assert sum(r.base for r in options) == pytest.approx(1.0)
        assert sum(r.changed for r in options) == pytest.approx(1.0)
        for r in options:
            assert r.changed - r.base == pytest.approx(r.difference[0], abs=1e-12)
            assert float(page.share_text(r, "changed").split()[0]) - float(
                page.share_text(r, "base").split()[0]) == pytest.approx(
                float(page.difference_text(r).split()[0]), abs=0.0015)
    recorded = [r.option for r in rows["termination_takes_effect"] if r.recorded]
    assert recorded == [s.recorded_outcome["termination_takes_effect"].option]


def test_the_overlay_shown_asks_the_command_line_for_the_same_what_if():
    change = T.page_change({US_NOVEMBER: 0.42})
    data = yaml.safe_load(page.overlay_text("gsomia_2019", change, None))
    assert data["format"] == "diplosim-overlay/3" and data["base"] == "gsomia_2019"
    assert {k: v["value"] for k, v in data["set"].items()} == {US_NOVEMBER: 0.42}
    assert data["remove_events"] == []


LIBRARY_2019 = Path(__file__).resolve().parent.parent / "library" / "gsomia_2019" / "scenario.yaml"


def test_ready_made_what_ifs_beside_an_episode_are_offered(tmp_path, monkeypatch):
    folder = tmp_path / "gsomia_2019" / "counterfactuals"
    folder.mkdir(parents=True)
    shutil.copy(LIBRARY_2019, with_episode_sources(tmp_path / "gsomia_2019", LIBRARY_2019)
                / "scenario.yaml")  # the overlay's base
    (folder / "quiet_us.yaml").write_text(
        "format: diplosim-overlay/3\nid: quiet_us\nbase: ../scenario.yaml\n"
        "question: What if Washington had stayed quiet in November?\n"
        "what_to_look_for: Whether Japan still offers talks.\n"
        f"set:\n  {US_NOVEMBER}: {{value: 0.0, note: no visits}}\n"
        "remove_events: [milley_visit]\n", encoding="utf-8")
    (folder / "broken.yaml").write_text("format: diplosim-overlay/3\nset: [unclosed\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))
    (folder / "bomb.yaml").write_text(bomb, encoding="utf-8")
    monkeypatch.setattr("sim.paths.LIBRARY", tmp_path)
    (offered,) = T.ready_whatifs("gsomia_2019")
    assert (offered.id, offered.set, offered.remove_events) == (
        "quiet_us", {US_NOVEMBER: 0.0}, ("milley_visit",))
    change = T.page_change({"event.milley_visit.0": 0.1, "japan_talks.japan.salience": 0.5},
                           offered)
    assert change.set == {"japan_talks.japan.salience": 0.5, US_NOVEMBER: 0.0}
    assert change.remove_events == ("milley_visit",)
    assert T.ready_whatifs("gsomia_2012") == []


# -- the traced run and the controls --------------------------------------------------------------


def test_traced_runs_are_members_of_the_what_if_ensemble():
    s, change = _scenario(), T.page_change({US_NOVEMBER: 0.4})
    counts = collections.Counter()
    for run in range(40):
        traced = T.TracedRun(s, change, T.page_constants(), T.DEFAULT_SEED, run)
        while traced.running:
            traced.step()
        counts[traced.outcomes()["termination_takes_effect"][0]] += 1
    shares = T.comparison("gsomia_2019", change, runs=40).decision(
        "termination_takes_effect").changed_shares
    assert {o: counts[o] / 40 for o in shares} == shares


def test_play_runs_to_the_end_and_then_step_and_play_start_the_next_run(fresh_page):
    assert page.guidance(page.model.value, False).startswith("Press Step")
    _play(page)
    first = page.model.value
    assert not first.running and not page.playing.value  # ▶ shows again, not a greyed ❚❚
    assert page.guidance(first, False).startswith("Run 0 is over. Step or \u25b6 starts run 1")
    assert any(line.startswith("2019-") and "takes " in line for line in first.story)
    page.step_once()
    assert page.model.value.run_number == 1 and page.model.value.moments == 1
    _play(page)
    page.play_pause()
    assert page.playing.value and page.model.value.run_number == 2
    page.play_pause()
    assert not page.playing.value


def test_switching_episode_or_reset_gives_a_fresh_run(fresh_page):
    _play(page)
    page.choose_episode("gsomia_2012")
    assert page.model.value.scenario.id == "gsomia_2012" and page.model.value.moments == 0
    assert page.model.value.running and not page.playing.value
    _play(page)
    assert not page.model.value.running
    page.step_once()
    page.reset()
    assert (page.model.value.run_number, page.model.value.moments) == (0, 0)


def test_each_decision_is_reported_when_it_happens(fresh_page):
    run = page.model.value
    seen = []
    while run.running:
        run.step()
        seen += run.just_decided
    assert [line.split(":")[0] for line in seen] == [
        d for d, (option, _, _) in run.outcomes().items() if option != "not_reached"]
    states = T.decision_states(run, _scenario().recorded_outcome)
    assert states[0]["recorded"] == "terminate on 2019-08-22 12:00"
    assert all(s["state"].startswith(("chose ", "not reached")) for s in states)


def test_the_charts_mark_the_record_and_the_run():
    s = _scenario()
    rows = T.share_rows(s, T.comparison("gsomia_2019", T.page_change({US_NOVEMBER: 0.4})))
    chart = page.share_chart(rows["termination_takes_effect"], 400)
    labels = chart["yAxis"][0]["data"]
    assert "\u2605 Suspend the termination, on condition of talks (reversible at any time)" in labels
    assert [x["name"] for x in chart["series"]] == ["as sourced", "what if", "difference"]
    run = T.TracedRun(s, Change(), T.page_constants(), T.DEFAULT_SEED, 0)
    while run.running:
        run.step()
    lean = page.lean_chart(run, 0, s.recorded_outcome["termination_notice"])
    marks = [m["name"] for m in lean["series"][0]["markLine"]["data"]]
    assert "recorded: terminate" in marks and any(m.startswith("run: ") for m in marks)
    assert all(0 <= p <= 1 for series in lean["series"] for _, p in series["data"])


# -- layout and code --------------------------------------------------------------------------------


def test_the_layout_holds_for_long_names():
    """A fixed-width side column that wraps anything long; the main panel may shrink."""
    assert "grid-template-columns: 400px minmax(0, 1fr)" in page.CSS
    assert ".dp-side, .dp-main { min-width: 0; overflow-wrap: anywhere; }" in page.CSS


def test_no_page_function_is_over_60_lines():
    for module in (ROOT / "sim" / "app.py", ROOT / "sim" / "teaching.py",
                   ROOT / "sim" / "experiments" / "trace.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno + 1 <= 60, f"{module.name}: {node.name}"


def test_app_command_listens_on_loopback_by_default_and_checks_the_port(capsys, monkeypatch):
    import sim.serve
    from sim.cli import main

    called = {}
    monkeypatch.setattr(sim.serve, "serve",
                        lambda host, port, announce: called.update(host=host, port=port))
    assert main(["app"]) == 0
    assert called == {"host": "127.0.0.1", "port": 8765}
    assert main(["app", "--port", "70000"]) == 2
    assert "--port: expected 0 to 65535, got 70000" in capsys.readouterr().err


def test_the_page_names_where_a_what_if_moves_the_outcome():
    s = _scenario()
    moved = T.share_rows(s, T.comparison("gsomia_2019", T.page_change({US_NOVEMBER: 0.4})))
    clear = T.clear_differences(moved)
    assert clear and all(r.difference[1] > 0 or r.difference[2] < 0 for _, r in clear)
    assert {d for d, _ in clear} == {"termination_takes_effect"}  # it acts in November only
    untouched = T.share_rows(s, T.comparison("gsomia_2019", T.page_change({})))
    assert T.clear_differences(untouched) == []


def test_a_slider_labels_its_range_ends_once_per_grid_position():
    for spec in T.slider_specs(_scenario()):
        if not spec.fixed_by_source:
            labels = page.end_labels(spec)
            assert (labels[0], labels[-1]) == (f"{spec.low:g}", f"{spec.high:g}")
            assert len(labels) == round((spec.high - spec.low) / spec.step) + 1
