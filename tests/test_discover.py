"""Scenario discovery on Model 3 with PRIM: a known box is found, the recorded driver of a
decision bounds its box, the result is the same for a seed, and the command's outputs and
errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim import orchestrator
from sim.cli import main
from sim.experiments.discover import NothingToDiscover, box_stats, discover, find_box
from sim.experiments.inputs import Input
from sim.validation import InvalidArgument, TooLarge

WHITELIST = "event.whitelist_removal_approved.0"


@pytest.fixture(scope="module")
def consts():
    return orchestrator.constants()


@pytest.fixture(scope="module")
def episode_2019():
    return orchestrator.load("gsomia_2019", verify_quotes=False).scenario


@pytest.fixture(scope="module")
def notice_box(episode_2019, consts):
    return discover(episode_2019, consts, "termination_notice", "terminate", points=800,
                    members=5, seed=2, threshold=0.8)


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(0)
    x = rng.random((3000, 3))
    y = ((x[:, 0] > 0.7) & (x[:, 1] < 0.3)).astype(float)
    inputs = [Input(name, 0.0, 1.0, False, "actor", name, "stake in d") for name in "abc"]
    limits, (density, coverage, _), reached = find_box(x, inputs, y, threshold=0.9)
    found = {lim.input.key: (lim.lower, lim.upper) for lim in limits}
    assert set(found) == {"a", "b"} and reached
    assert abs(found["a"][0] - 0.7) < 0.05 and found["a"][1] is None
    assert found["b"][0] is None and abs(found["b"][1] - 0.3) < 0.05
    assert density > 0.9 and coverage > 0.9


def test_box_statistics_weigh_each_point_by_its_share():
    x = np.array([[0.1], [0.2], [0.8], [0.9]])
    y = np.array([1.0, 0.5, 0.0, 0.5])  # shares of the members at each point
    density, coverage, mass = box_stats(x, y, [(0.0, 0.5)])
    assert (density, coverage, mass) == (0.75, 0.75, 0.5)


def test_the_recorded_driver_bounds_the_box(notice_box):
    """Stated before the run, from the record ("Seoul hinted it would reconsider renewing
    GSOMIA if removed from the whitelist"): where the removal set the government's position
    low, termination is likely, so the box bounds that input from above and is denser than
    the base rate."""
    limits = {lim.input.key: lim for lim in notice_box.limits}
    assert WHITELIST in limits and limits[WHITELIST].upper is not None
    assert notice_box.density > notice_box.base_rate + 0.05
    assert 0.0 < notice_box.coverage <= 1.0 and 0.0 < notice_box.mass < 1.0


def test_the_words_name_actor_and_field(notice_box):
    text = notice_box.text()
    assert ("executive's position (set by event whitelist_removal_approved in "
            "termination_notice) below") in text
    assert "then terminate in" in text and "covering" in text


def test_the_same_seed_gives_the_same_box(episode_2019, consts, notice_box):
    again = discover(episode_2019, consts, "termination_notice", "terminate", points=800,
                     members=5, seed=2, threshold=0.8)
    assert again.as_json() == notice_box.as_json()


def test_with_the_constants(episode_2019, consts):
    result = discover(episode_2019, consts, "termination_notice", "terminate", points=200,
                      members=3, seed=1, include_constants=True)
    assert result.frame().shape[1] == 8 and result.points == 200


def test_bad_arguments_are_one_error(episode_2019, consts):
    with pytest.raises(InvalidArgument, match="unknown option 'invade' of termination_notice"):
        discover(episode_2019, consts, "termination_notice", "invade", seed=1)
    with pytest.raises(InvalidArgument, match=r"threshold must lie in \(0, 1\]"):
        discover(episode_2019, consts, "termination_notice", "terminate", seed=1, threshold=2)
    with pytest.raises(NothingToDiscover, match="PRIM needs runs with the outcome"):
        discover(episode_2019, consts, "termination_notice", "terminate", points=1,
                 members=1, seed=20190822)
    with pytest.raises(InvalidArgument, match="points"):
        discover(episode_2019, consts, "termination_notice", "terminate", points=100_001,
                 members=1, seed=1)
    with pytest.raises(TooLarge, match="allow_large=True"):
        discover(episode_2019, consts, "termination_notice", "terminate", points=100_000,
                 members=100_000, seed=1)


def test_the_command_prints_the_box(capsys):
    assert main(["discover", "gsomia_2019", "--outcome", "terminate", "--points", "300",
                 "--members", "4", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gsomia_2019: where termination_notice ends in terminate")
    assert "then terminate in" in out


def test_the_command_prints_strict_json(capsys):
    assert main(["discover", "gsomia_2019", "--outcome", "suspend_conditionally", "--points",
                 "200", "--members", "3", "--json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["decision"] == "termination_takes_effect" and 0 <= data["density"] <= 1


@pytest.mark.parametrize("argv,words", [
    (["--outcome", "invade"], "no decision of gsomia_2019 has option 'invade'"),
    (["--outcome", "terminate", "--threshold", "2"], "threshold must lie in (0, 1]"),
    (["--outcome", "terminate", "--points", "1", "--members", "1"], "PRIM needs runs with"),
    (["--outcome", "terminate", "--decision", "japan_talks"], "unknown option 'terminate'"),
    (["--outcome", "terminate", "--points", "100000", "--members", "100000"],
     "pass --allow-large to run it anyway"),
])
def test_the_command_refuses_bad_input_in_one_line(capsys, argv, words):
    assert main(["discover", "gsomia_2019", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("diplosim: error: ") and words in err[0]
