"""Sobol sensitivity on Model 3: known indices on a toy function, determinism, zero indices for
what a decision cannot see, the recorded drivers ranked high, the command's outputs and errors."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from sim import orchestrator
from sim.cli import main
from sim.experiments.sensitivity import sensitivity, sobol_indices
from sim.formats.common import as_aware
from sim.validation import InvalidArgument, TooLarge


@pytest.fixture(scope="module")
def consts():
    return orchestrator.constants()


@pytest.fixture(scope="module")
def episode_2019():
    return orchestrator.load("gsomia_2019", verify_quotes=False).scenario


@pytest.fixture(scope="module")
def episode_2012():
    return orchestrator.load("gsomia_2012", verify_quotes=False).scenario


@pytest.fixture(scope="module")
def result_2019(episode_2019, consts):
    return sensitivity(episode_2019, consts, samples=16, members=50, seed=3)


@pytest.fixture(scope="module")
def result_2012(episode_2012, consts):
    return sensitivity(episode_2012, consts, samples=32, members=50, seed=5)


@pytest.fixture(scope="module")
def result_2012_constants(episode_2012, consts):
    return sensitivity(episode_2012, consts, samples=32, members=50, seed=5,
                       include_constants=True)


def _rank(result, decision, option, key) -> int:
    out = result.indices(decision, option)
    order = [result.inputs[j].key for j in out.order(len(result.inputs))]
    return order.index(key) + 1


def test_sobol_indices_of_the_ishigami_function():
    """Ishigami (a=7, b=0.1): S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244)."""
    from SALib.sample import sobol

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol.sample(problem, 4096, calc_second_order=False, seed=1)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    result = sobol_indices(problem, y, 1, "d", "o", False)
    assert np.allclose(result.S1, [0.314, 0.442, 0.0], atol=0.05)
    assert np.allclose(result.ST, [0.558, 0.442, 0.244], atol=0.05)
    assert np.all(result.S1_conf > 0)


def test_outputs_are_the_recorded_options(result_2019, episode_2019):
    recorded = {d: r.option for d, r in episode_2019.recorded_outcome.items()}
    assert [(o.decision, o.option) for o in result_2019.outputs] == list(recorded.items())
    assert result_2019.points == 16 * (len(result_2019.inputs) + 2)


def test_an_unrecorded_decision_gets_every_option(episode_2019, consts):
    bare = episode_2019.without_record()
    result = sensitivity(bare, consts, samples=2, members=5, seed=1,
                         decision="termination_takes_effect")
    assert [o.option for o in result.outputs] == [
        "let_expire", "suspend_conditionally", "withdraw_notice"]


def test_the_same_seed_gives_the_same_indices(episode_2019, consts, result_2019):
    again = sensitivity(episode_2019, consts, samples=16, members=50, seed=3)
    assert again.frame().equals(result_2019.frame())
    other = sensitivity(episode_2019, consts, samples=16, members=50, seed=4)
    assert not other.frame().equals(result_2019.frame())


def test_what_the_notice_cannot_see_has_indices_of_zero(result_2019, episode_2019):
    """The notice (deadline 25 August) comes before the talks and the expiry, which follow only
    a termination: their stakes, and the effects of events dated after the notice's deadline,
    cannot move it. On common random numbers the output is a function of the inputs alone, so
    their indices are exactly 0 (not merely small)."""
    notice = episode_2019.decision("termination_notice")
    later = {e.id for e in episode_2019.events
             if e.time is None or as_aware(e.time) > as_aware(notice.deadline)}
    unseen = [j for j, i in enumerate(result_2019.inputs)
              if i.key.split(".")[0] in ("japan_talks", "termination_takes_effect")
              or (i.key.startswith("event.") and i.key.split(".")[1] in later)]
    assert len(unseen) >= 20
    out = result_2019.indices("termination_notice", "terminate")
    assert np.all(out.ST[unseen] == 0.0) and np.all(out.S1[unseen] == 0.0)
    assert out.ST.max() > 0.3


def test_constants_of_roles_absent_from_a_scenario_have_indices_of_zero(result_2012_constants):
    """2012 has one decision, taken by the government under study, and no body that votes:
    the counterpart's and the members' temperatures cannot matter."""
    result = result_2012_constants
    out = result.indices("signing", "postpone")
    keys = [i.key for i in result.inputs]
    for name in ("temperature_counterpart", "temperature_member"):
        assert out.ST[keys.index(f"constant.{name}")] == 0.0
    assert out.ST[keys.index("constant.temperature_decider")] > 0.05


def test_the_recorded_drivers_rank_high(result_2012, result_2019):
    """Stated before the run, from the record:
    - 2012: Seoul postponed after the ruling party's call ("Cancelation of Japan pact reflects
      Park's rise"): its clout over the signing is among the three largest total indices of
      P(postpone);
    - 2019: "Seoul hinted it would reconsider renewing GSOMIA if removed from the whitelist":
      the removal's effect on the government's position has the largest total index of
      P(terminate);
    - 2019: the suspension came with Japan's agreement to talk: Japan's position in the talks
      is among the three largest total indices of P(suspend_conditionally)."""
    assert _rank(result_2012, "signing", "postpone", "signing.ruling_party.clout") <= 3
    assert _rank(result_2019, "termination_notice", "terminate",
                 "event.whitelist_removal_approved.0") == 1
    assert _rank(result_2019, "termination_takes_effect", "suspend_conditionally",
                 "japan_talks.japan.position") <= 3


@pytest.mark.xfail(strict=True, reason=(
    "measured: with the constants varied on the prior box, the ruling party's clout ranks 9th "
    "by ST at N=32 x 50 members (seed 5; the ruling party's position 0.317, the executive's "
    "salience 0.287 and position 0.266, temperature_decider 0.231 before it) and 4th at "
    "N=128 x 100 (temperature_decider first, ST 0.258 +/- 0.104; the clout 0.179 +/- 0.105): "
    "the prior box of the decider's temperature (0.02 to 0.5) competes with the record's driver"))
def test_the_recorded_driver_of_2012_ranks_high_with_the_constants_varied(result_2012_constants):
    """Stated before its run: with the six constants varied too, the ruling party's clout over
    the signing is still among the three largest total indices of P(postpone)."""
    assert _rank(result_2012_constants, "signing", "postpone", "signing.ruling_party.clout") <= 3


def test_the_table_names_actor_and_field(result_2019):
    text = result_2019.text(top=3)
    assert "P(termination_notice = terminate) (recorded)" in text
    line = next(x for x in text.splitlines() if "whitelist_removal_approved" in x)
    assert line.split()[:2] == ["executive", "position"]
    assert "set by event whitelist_removal_approved in termination_notice" in line


def test_bad_arguments_are_one_error(episode_2019, consts):
    with pytest.raises(InvalidArgument, match="unknown decision 'nope'"):
        sensitivity(episode_2019, consts, samples=2, members=2, seed=1, decision="nope")
    with pytest.raises(InvalidArgument, match="unknown option 'invade' of termination_notice"):
        sensitivity(episode_2019, consts, samples=2, members=2, seed=1,
                    decision="termination_notice", option="invade")
    with pytest.raises(InvalidArgument, match="samples"):
        sensitivity(episode_2019, consts, samples=0, members=2, seed=1)
    with pytest.raises(TooLarge, match="allow_large=True"):
        sensitivity(episode_2019, consts, samples=10_000, members=10_000, seed=1)


def test_the_command_writes_table_chart_and_manifest(tmp_path, capsys):
    out = tmp_path / "sens"
    assert main(["sensitivity", "gsomia_2012", "--samples", "4", "--members", "10",
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "P(signing = postpone) (recorded)" in printed and "wrote manifest.json" in printed
    with open(out / "sensitivity.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["input"] for r in rows} >= {"signing.ruling_party.clout",
                                          "event.ruling_party_request.0"}
    assert (out / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["scenario_id"] == "gsomia_2012"


def test_the_command_prints_strict_json(capsys):
    assert main(["sensitivity", "gsomia_2012", "--samples", "2", "--members", "3", "--json",
                 "--include-constants", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["points"] == 2 * (20 + 6 + 2)
    assert {row["input"] for row in data["indices"]} >= {"constant.attention_rate"}


@pytest.mark.parametrize("argv,words", [
    (["--decision", "nope"], "unknown decision 'nope' of gsomia_2012"),
    (["--option", "invade"], "unknown option 'invade' of signing"),
    (["--samples", "10000", "--members", "100000"], "pass --allow-large to run it anyway"),
])
def test_the_command_refuses_bad_input_in_one_line(capsys, tmp_path, argv, words):
    assert main(["sensitivity", "gsomia_2012", *argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("diplosim: error: ") and words in err[0]
    assert not (tmp_path / "o").exists()


def test_a_model_2_file_gets_the_migration_message(tmp_path, capsys):
    old = tmp_path / "old.yaml"
    old.write_text("format: diplosim/2\nid: old\n", encoding="utf-8")
    assert main(["sensitivity", str(old), "--samples", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a diplosim/2 file" in err[0]
