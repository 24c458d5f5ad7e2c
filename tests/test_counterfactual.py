"""Counterfactual overlays on Model 3 (diplosim-overlay/3): loading and its one-line errors,
exact zero for an empty overlay, determinism, the command, its --out folder and report, and
the direction the sources imply for Washington's pressure in 2019."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from sim.commands import counterfactual as command
from sim.experiments.counterfactual import counterfactual, load_overlay, overlays
from sim.experiments.whatif import Change
from sim.formats.common import ScenarioError, WrongKind
from sim.model.constants import load_constants
from sim.paths import LIBRARY
from sim.validation import InvalidArgument
from tests.conftest import ROOT, needs_sources

GSOMIA_IDS = ("accountable_president_2016", "china_stays_silent_2019",
              "japan_never_offers_talks_2019", "leader_indifferent_2016", "no_election_2012",
              "no_ruling_party_request_2012", "no_us_pressure_2019",
              "opposition_full_force_2016", "us_presses_2012")
HEAD = ("format: diplosim-overlay/3\nid: test_overlay\nbase: {base}\nquestion: A question?\n"
        "what_to_look_for: Watch the last decision.\n")


@pytest.fixture(scope="module")
def constants3():
    return load_constants()


def _overlay(tmp_path: Path, body: str = "", base: str = "gsomia_2019") -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(HEAD.format(base=base) + body, encoding="utf-8")
    return path


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.main(parser.parse_args(argv))


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_overlay(str(path))
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# -- loading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay_id", GSOMIA_IDS)
def test_the_nine_gsomia_overlays_load_by_id(overlay_id):
    loaded = load_overlay(overlay_id)
    assert loaded.overlay.id == overlay_id
    assert loaded.episode == f"gsomia_{overlay_id[-4:]}"
    assert Path(loaded.file).parent == LIBRARY / loaded.episode / "counterfactuals"
    assert not loaded.change.is_empty()


def test_every_shipped_overlay_is_listed_and_loads():
    listed = overlays()
    assert {o.id for o in listed} >= set(GSOMIA_IDS)
    assert len({o.episode for o in listed}) >= 6  # the three GSOMIA episodes and three others
    for o in listed:
        loaded = load_overlay(o.file)
        assert (loaded.episode, loaded.overlay.id) == (o.episode, o.id)
        assert Path(o.file).stem == o.id and o.question


def test_an_unknown_overlay_name_suggests_the_nearest():
    with pytest.raises(InvalidArgument, match="did you mean no_us_pressure_2019"):
        load_overlay("no_us_presure_2019")


def test_a_base_given_as_a_path_relative_to_the_overlay(tmp_path):
    relative = os.path.relpath(LIBRARY / "gsomia_2012" / "scenario.yaml", tmp_path)
    loaded = load_overlay(str(_overlay(tmp_path, "remove_events: [ruling_party_request]\n",
                                       base=relative)))
    assert loaded.episode == "gsomia_2012"
    assert loaded.change == Change(remove_events=("ruling_party_request",))


# -- errors: one line with file:line, key path and what was expected ----------------------------


def test_a_value_outside_its_scale(tmp_path):
    path = _overlay(tmp_path, "set:\n  termination_notice.united_states.salience:\n"
                              "    value: 1.5\n    note: Too much.\n")
    message = _error(path)
    assert message.startswith(f"{path}:8: set.termination_notice.united_states.salience.value:")
    assert "must lie within [0, 1]" in message and "got 1.5" in message


def test_an_unknown_quantity_key_names_the_nearest(tmp_path):
    path = _overlay(tmp_path, "set:\n  termination_notice.united_states.salinece:\n"
                              "    value: 0.1\n    note: A typo.\n")
    message = _error(path)
    assert message.startswith(f"{path}:7: set.termination_notice.united_states.salinece:")
    assert "not a drawn quantity of gsomia_2019" in message
    assert "nearest: termination_notice.united_states.salience" in message


def test_an_unknown_event(tmp_path):
    path = _overlay(tmp_path, "remove_events:\n  - milley_visit\n  - esper_visit\n")
    message = _error(path)
    assert message.startswith(f"{path}:8: remove_events[1]:")
    assert "unknown event 'esper_visit' in gsomia_2019" in message
    assert "esper_in_bangkok" in message or "esper_meets_moon" in message


def test_an_unknown_key_and_a_written_answer(tmp_path):
    message = _error(_overlay(tmp_path, "remove_event: [milley_visit]\n"))
    assert ":6: remove_event:" in message and "unknown key" in message
    message = _error(_overlay(tmp_path, "answer: It lapses.\n"))
    assert ": answer:" in message and "carries no results" in message


def test_numbers_in_what_to_look_for_are_refused(tmp_path):
    path = tmp_path / "overlay.yaml"
    path.write_text(HEAD.format(base="gsomia_2019").replace(
        "Watch the last decision.", "Suspension falls to 23%."), encoding="utf-8")
    message = _error(path)
    assert ":5: what_to_look_for:" in message and "without numbers" in message


def test_a_model_2_overlay_is_told_to_migrate(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("format: diplosim-overlay/1\nid: old\nbase: ../gsomia_2019.yaml\n",
                    encoding="utf-8")
    message = _error(path)
    assert message.startswith(f"{path}:1: format:") and "diplosim-overlay/3" in message


@pytest.mark.parametrize("content", [
    "format: diplosim/2\nid: secret_thing\n",
    "password: hunter2-SECRET\nformat: diplosim/3x\n",
    "SECRET-LINE-ONE\n: : [unbalanced\n",
])
def test_a_base_that_is_not_diplosim_3_is_not_quoted(tmp_path, content):
    (tmp_path / "other.yaml").write_text(content, encoding="utf-8")
    path = _overlay(tmp_path, base="other.yaml")
    message = _error(path)
    assert message.startswith(f"{path}:3: base:") and "is not a diplosim/3 scenario" in message
    for secret in ("secret_thing", "hunter2", "SECRET", "unbalanced", "3x"):
        assert secret not in message


def test_an_overlay_file_that_is_not_an_overlay_is_not_quoted(tmp_path):
    path = tmp_path / "notes.yaml"
    path.write_text("token: SECRET-VALUE\n", encoding="utf-8")
    with pytest.raises(WrongKind) as caught:
        load_overlay(str(path))
    assert "SECRET" not in str(caught.value) and "diplosim-overlay/3" in str(caught.value)


def test_control_codes_in_a_base_name_are_escaped(tmp_path):
    message = _error(_overlay(tmp_path, base='"gsomia\\e[31m_2019"'))
    assert "\x1b" not in message and "\\x1b" in message and "no library episode" in message


@needs_sources
def test_a_setting_quote_must_be_in_its_source(tmp_path):
    path = _overlay(tmp_path, "set:\n  termination_notice.united_states.salience:\n"
                              "    value: 0.1\n    note: x\n    source: nikkei_2019\n"
                              "    quote: words no article printed\n")
    assert "quote not found in source 'nikkei_2019'" in _error(path)


# -- results ------------------------------------------------------------------------------------


def test_an_empty_overlay_gives_exactly_zero_difference(tmp_path, constants3):
    result = counterfactual(load_overlay(str(_overlay(tmp_path))), constants3, seed=3, runs=300)
    for d in result.comparison.decisions:
        assert d.base_shares == d.changed_shares
        assert all(v == (0.0, 0.0, 0.0) for v in d.difference.values())
        assert d.attribution and all(a.baseline == a.changed for a in d.attribution)


def test_same_seed_same_json_through_the_command(capsys):
    outputs = []
    for _ in range(2):
        assert _run(["no_election_2012", "--runs", "300", "--seed", "11", "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0])
    assert data["overlay"] == "no_election_2012" and data["seed"] == 11 and data["runs"] == 300
    assert data["remove_elections"] == ["ruling_party"]
    assert _run(["no_election_2012", "--runs", "300", "--seed", "12", "--json"]) == 0
    assert capsys.readouterr().out != outputs[0]


def test_text_starts_with_the_question(capsys):
    assert _run(["us_presses_2012", "--runs", "100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("counterfactual us_presses_2012 on gsomia_2012: What if Washington")
    assert "decision signing" in out and "difference [95% CI]" in out


def test_out_folder_and_its_report(tmp_path, capsys):
    from sim.outputs.report import build_report

    out = tmp_path / "cf"
    assert _run(["no_ruling_party_request_2012", "--runs", "200", "--seed", "5",
                 "--out", str(out)]) == 0
    assert f"to {out}" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "counterfactual" and manifest["overlay_id"] == \
        "no_ruling_party_request_2012" and set(manifest["sha256"]) == {"comparison.json",
                                                                       "comparison.txt"}
    kind, files = build_report(str(out))
    assert kind == "counterfactual"
    markdown = (out / "report.md").read_text()
    assert "What to look for:" in markdown and "U(sign) - U(postpone)" in markdown
    # an edited comparison.json is refused by the report (its SHA-256 no longer matches)
    (out / "comparison.json").write_text("[]\n")
    from sim.outputs.report.errors import ReportError

    with pytest.raises(ReportError, match="SHA-256 differs"):
        build_report(str(out))


def test_out_refuses_a_folder_diplosim_did_not_write_before_any_run(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(ScenarioError, match="did not write"):
        _run(["no_ruling_party_request_2012", "--runs", "10", "--out", str(tmp_path)])
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert capsys.readouterr().out == ""


# -- the direction the sources imply -------------------------------------------------------------


@pytest.fixture(scope="module")
def no_us_pressure(constants3):
    return counterfactual(load_overlay("no_us_pressure_2019"), constants3, seed=20190822,
                          runs=2000).comparison


def test_no_us_pressure_2019_the_pact_lapses_more_and_tokyo_offers_less(no_us_pressure):
    """Stated from the sources before this test was run: Washington "pressured Seoul to
    extend" the pact (KBS) and Esper said "he will ask Japan to do its part" (record), and
    its pressure only began with the notice (Nikkei). Without it: (1) the notice does not move
    (nothing of the change reaches it: exactly zero); (2) Tokyo offers talks less often; (3)
    Seoul lets the pact lapse more often; (4) it keeps the pact (the suspension or withdrawing
    the notice) less often. (A smoke run of this change had been seen while the attribution
    was being built; the directions come from the sources, not from it.)"""
    notice = no_us_pressure.decision("termination_notice")
    assert all(v == (0.0, 0.0, 0.0) for v in notice.difference.values())
    assert no_us_pressure.decision("japan_talks").difference["offer_talks"][2] < 0
    expiry = no_us_pressure.decision("termination_takes_effect")
    assert expiry.difference["let_expire"][1] > 0
    kept = sum(expiry.changed_shares[o] - expiry.base_shares[o]
               for o in ("suspend_conditionally", "withdraw_notice"))
    assert kept < 0 and expiry.difference["withdraw_notice"][2] < 0
    pulls = {a.actor: a for a in expiry.attribution}
    assert pulls["united_states"].change < 0
    assert all(a.change == 0 for a in expiry.attribution if a.actor != "united_states")


@pytest.mark.xfail(strict=True, reason=(
    "measured (2000 runs, seed 20190822): suspend_conditionally 0.465 -> 0.477, difference "
    "+0.013 [-0.006, +0.031]; the runs that lose the unconditional withdrawal (-0.097) go to "
    "the lapse (+0.084) and to the suspension, so the recorded suspension does not fall"))
def test_no_us_pressure_2019_the_recorded_suspension_falls(no_us_pressure):
    """Stated from the sources before this test was run: the recorded outcome, the
    conditional suspension, came under US pressure (Stilwell, Milley, Esper pressing Seoul),
    so without that pressure it should be chosen less often."""
    expiry = no_us_pressure.decision("termination_takes_effect")
    assert expiry.difference["suspend_conditionally"][2] < 0


def test_the_documented_example_is_the_shipped_overlay():
    docs = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    shipped = (LIBRARY / "gsomia_2019" / "counterfactuals" / "no_us_pressure_2019.yaml")
    assert "# Counterfactual overlays (`diplosim-overlay/3`)" in docs
    assert f"```yaml\n{shipped.read_text(encoding='utf-8')}```" in docs
