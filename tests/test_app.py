"""The teaching page's logic without a browser: what can be picked, the sliders' ranges and
quotes, the model Mesa's page builds, and the `diplosim app` command's checks."""

from __future__ import annotations

import inspect

import pytest

from sim.app import (
    TABS, TeachingModel, choices, event_lines, initial_arguments, load_choice, model_params,
    probability_lines, quote_caption, slider_specs, sources_table, status_lines, timeline_option,
)
from sim.cli import main
from sim.model.draws import varying_actor_parameters
from tests.conftest import SCENARIOS


def _choice(label: str):
    return next(c for c in choices() if c.label == label)


def test_every_scenario_and_overlay_can_be_picked():
    labels = [c.label for c in choices()]
    scenarios = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    overlays = sorted(p.stem for p in (SCENARIOS / "counterfactuals").glob("*.yaml"))
    assert [label for label in labels if "what if" not in label] == scenarios
    assert sorted(label.split("what if: ")[1] for label in labels if "what if" in label) == overlays


def test_sliders_span_the_sourced_ranges_and_carry_their_quotes(scenario_2019):
    loaded = load_choice(str(SCENARIOS / "gsomia_2019.yaml"), None)
    specs = {s.key: s for s in slider_specs(loaded)}
    assert set(specs) == {q.key for q in varying_actor_parameters(scenario_2019)}
    for key, spec in specs.items():
        actor, name = key.split(".", 1)
        param = scenario_2019.actors[actor].all_parameters()[name]
        assert (spec.low, spec.high) == param.range
        assert spec.low <= spec.middle <= spec.high
        assert spec.quote == " ".join(param.quote.split())
    params = model_params(_choice("gsomia_2019"))
    opposition = params["south_korea.initial_opposition"]
    assert (opposition["min"], opposition["max"]) == (0.40, 0.50)


def test_an_overlay_fixes_its_parameters_and_drops_their_sliders():
    choice = _choice("gsomia_2019 + what if: no_us_pressure_2019")
    keys = set(model_params(choice))
    assert "united_states.escalation" not in keys
    model = TeachingModel(**initial_arguments(model_params(choice)))
    assert model.values["united_states.escalation"] == 0.0


def test_mesa_accepts_the_page_parameters():
    from mesa.visualization.solara_viz import _check_model_params

    _check_model_params(TeachingModel.__init__, model_params(_choice("gsomia_2012")))


def test_the_model_is_reproducible_and_responds_to_a_slider():
    args = initial_arguments(model_params(_choice("gsomia_2019")))
    first, second = TeachingModel(**args), TeachingModel(**args)
    assert probability_lines(first) == probability_lines(second)
    moved = TeachingModel(**{**args, "united_states.escalation": 0.3})  # its range's low end
    assert probability_lines(moved) != probability_lines(first)


def test_the_page_model_matches_the_counterfactual_with_no_settings():
    """With nothing fixed, the ensemble is the baseline itself: a zero paired difference."""
    model = TeachingModel(str(SCENARIOS / "gsomia_2019.yaml"))
    for c in model.comparisons:
        assert c.cf_shares == c.base_shares
        assert all(d == (0.0, 0.0, 0.0) for d in c.difference.values())


def test_stepping_to_the_end_reports_each_decision():
    model = TeachingModel(**initial_arguments(model_params(_choice("gsomia_2019"))))
    assert timeline_option(model) is None
    assert status_lines(model)[0].startswith("Step 0 of ")
    model.step()
    assert timeline_option(model)["series"]
    model.run()
    lines = status_lines(model)
    assert lines[0].startswith(f"Step {model.clock.n_steps} of {model.clock.n_steps}")
    for d in model.decisions:
        line = next(x for x in lines if x.startswith(f"{d.id}: "))
        assert ("decided " in line) == (d.status == "resolved")
        assert "recorded: " in line


def test_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="not parameters of gsomia_2012: south_korea.nonsense"):
        TeachingModel(str(SCENARIOS / "gsomia_2012.yaml"), **{"south_korea.nonsense": 0.5})


def test_app_command_listens_on_loopback_by_default_and_checks_the_port(capsys, monkeypatch):
    import sim.serve

    called = {}
    monkeypatch.setattr(sim.serve, "serve",
                        lambda host, port, announce: called.update(host=host, port=port))
    assert main(["app"]) == 0
    assert called == {"host": "127.0.0.1", "port": 8765}
    assert main(["app", "--port", "70000"]) == 2
    assert "--port: expected 0 to 65535, got 70000" in capsys.readouterr().err
    assert "kwargs" in inspect.signature(TeachingModel.__init__).parameters


def test_a_malformed_file_is_reported_on_the_page_not_raised(tmp_path):
    from sim.app import Choice, build

    bad = tmp_path / "broken.yaml"
    bad.write_text("format: diplosim/1\nid: broken\n", encoding="utf-8")
    message = build(Choice("broken", str(bad)))
    assert isinstance(message, str) and message.startswith("cannot load broken: ")
    assert str(bad) in message
    (tmp_path / "counterfactuals").mkdir()
    (tmp_path / "counterfactuals" / "bad.yaml").write_text("base: [unclosed\n", encoding="utf-8")
    assert [c.label for c in choices(tmp_path, tmp_path / "counterfactuals")] == ["broken"]


def test_a_hostile_overlay_beside_the_scenarios_is_not_offered_and_does_not_stall(tmp_path):
    """An alias bomb in the overlays folder is skipped quickly by the page's scenario picker."""
    import shutil
    import time

    from sim.app import choices

    shutil.copy(SCENARIOS / "gsomia_2019.yaml", tmp_path / "gsomia_2019.yaml")
    folder = tmp_path / "counterfactuals"
    folder.mkdir()
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))
    (folder / "bomb.yaml").write_text(bomb, encoding="utf-8")
    started = time.perf_counter()
    offered = choices(tmp_path, folder)
    assert time.perf_counter() - started < 5
    assert [c.label for c in offered] == ["gsomia_2019"]


def test_the_tabs_are_named_for_what_they_show():
    assert TABS == ("The run and its decision", "The ensemble against the baseline",
                    "Where the ranges come from")


def test_each_slider_carries_its_quote_and_source_as_its_caption():
    loaded = load_choice(str(SCENARIOS / "gsomia_2012.yaml"), None)
    opposition = next(s for s in slider_specs(loaded) if s.key == "south_korea.initial_opposition")
    assert quote_caption(opposition) == "\u201c47.9% opposed concluding the pact, 15.8% in favour\u201d (record)"
    assert "47.9 / (47.9 + 15.8)" in sources_table(loaded)  # the note, on the sources tab


def test_the_timeline_is_an_interactive_chart_of_the_run_so_far():
    """State above, the decider's utilities below, one zoomable time axis; events numbered as
    listed under the chart, the run's decision and the recorded one as vertical lines."""
    import json

    model = TeachingModel(**initial_arguments(model_params(_choice("gsomia_2012"))))
    model.run()
    option = json.loads(json.dumps(timeline_option(model)))  # plain JSON for the browser
    names = [s["name"] for s in option["series"]]
    assert "South Korea (decider): public opposition" in names
    assert {"U signing: sign", "U signing: postpone"} <= set(names)
    state = option["series"][0]
    assert len(state["data"]) == model.clock.n_steps and state["data"][0][0] == "2012-06-20T00:00"
    assert {z["type"] for z in option["dataZoom"]} == {"inside", "slider"}
    marks = [m["name"] for m in state["markLine"]["data"]]
    events = event_lines(model)
    assert events[0].startswith("1. 2012-06-26 10:00 cabinet_approval: ")
    assert marks[:len(events)] == [f"{n}. {line.split()[3].rstrip(':')}"
                                   for n, line in enumerate(events, start=1)]
    decision = model.decisions[0]
    assert f"run: {decision.outcome}" in " ".join(marks) and "recorded: postpone" in marks


def test_reset_builds_the_model_without_waiting_for_the_ensemble():
    """The ensemble is computed on first use (in the background on the page), so Reset
    returns at once and the page shows progress while the answer is computed."""
    import time

    args = initial_arguments(model_params(_choice("gsomia_2019")))
    started = time.perf_counter()
    model = TeachingModel(**{**args, "members": 2000, "south_korea.initial_opposition": 0.41})
    assert "comparisons" not in vars(model)
    assert time.perf_counter() - started < 1.0
    assert probability_lines(model)[0].startswith("termination_notice: P(terminate, recorded)")
    assert "2000 runs" in probability_lines(model)[0]


def test_a_half_collected_step_is_left_out_of_the_timeline():
    """The page draws while a run plays in another thread: a step whose columns are not all
    collected yet is left out, not an error (it was a ValueError from pandas)."""
    from sim.outputs.report.replay import traced

    model = TeachingModel(**initial_arguments(model_params(_choice("gsomia_2012"))))
    model.step()
    model.step()
    columns = model.datacollector.model_vars
    first = next(iter(columns))
    columns[first].append(columns[first][-1])  # one column a step ahead, as mid-collection
    run = traced(model)
    assert len(run.times) == len(columns[list(columns)[-1]])
