"""The package works outside its source tree: a regular (non-editable) install, run from
another folder, finds its shipped library, constants and report templates, and names them
plainly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SOURCES


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A non-editable build of this checkout, installed into a folder of its own (the
    dependencies come from the test environment)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True)
    return target


def _diplosim(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    env.pop("DIPLOSIM_SOURCES", None)
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_installed_copy_is_the_one_that_runs(installed, tmp_path):
    code = ("import sim.paths as p; print(p.__file__, p.IN_CHECKOUT, p.LIBRARY, p.CALIBRATION, "
            "len(p.library_scenarios()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True,
                          text=True, check=True)
    where, in_checkout, library, calibration, episodes = done.stdout.split()
    assert where.startswith(str(installed)) and in_checkout == "False"
    assert library.startswith(str(installed)) and calibration.startswith(str(installed))
    assert int(episodes) >= 20


def test_library_episodes_run_by_name_from_another_folder(installed, tmp_path):
    listed = _diplosim(installed, tmp_path, "scenarios")
    assert listed.returncode == 0, listed.stderr
    assert "gsomia_2019" in listed.stdout and "does not load" not in listed.stdout
    run = _diplosim(installed, tmp_path, "run", "gsomia_2019", "--runs", "20", "--quiet")
    assert run.returncode == 0, run.stderr
    assert "termination_notice" in run.stdout and "japan_talks" in run.stdout
    validate = _diplosim(installed, tmp_path, "validate", "gsomia_2012", "gsomia_2019", "--runs",
                         "20", "--quiet")
    assert validate.returncode == 0, validate.stderr
    assert "gsomia_2012" in validate.stdout and "scoreboard" in validate.stdout


def test_a_shipped_overlay_runs_by_name_from_another_folder(installed, tmp_path):
    counterfactual = _diplosim(installed, tmp_path, "counterfactual", "no_us_pressure_2019", "--runs", "20")
    assert counterfactual.returncode == 0, counterfactual.stderr


def test_an_installed_copy_reports_from_its_shipped_templates(installed, tmp_path):
    templates = installed / "sim" / "outputs" / "report" / "templates"
    assert (templates / "report.html.j2").is_file(), "the HTML templates ship in the wheel"
    run = _diplosim(installed, tmp_path, "run", "gsomia_2012", "--runs", "20", "--quiet",
                    "--out", "run")
    assert run.returncode == 0, run.stderr
    report = _diplosim(installed, tmp_path, "report", "run")
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<table><caption>signing:" in html
    assert "found by its SHA-256" in html and "Not traced" not in html  # the shipped episode


def test_validate_with_nothing_to_score_says_where_it_looked(installed, tmp_path):
    (tmp_path / "init").mkdir()
    copied = _diplosim(installed, tmp_path, "init", "copy")
    assert copied.returncode == 0, copied.stderr
    scenario = tmp_path / "copy" / "library" / "gsomia_2012" / "scenario.yaml"
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(text[: text.index("recorded_outcome:")], encoding="utf-8")
    done = _diplosim(installed, tmp_path, "validate", str(scenario), "--runs", "5", "--quiet")
    assert done.returncode == 2
    assert "nothing to score" in done.stderr and str(scenario) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(SOURCES is None, reason="the shared source texts are not beside the project")
def test_the_sources_folder_is_found_from_the_working_directory_and_named(installed, tmp_path):
    work = Path(SOURCES).parent  # the folder that holds shared/
    done = _diplosim(installed, work, "check", "gsomia_2012")
    assert done.returncode == 0, done.stderr
    named = done.stdout.split("quotes verified against ", 1)[1].rstrip(")\n")
    assert Path(named).resolve() == Path(SOURCES).resolve()
    # the GSOMIA episodes carry their sources (record.md, sources/): checked anywhere
    elsewhere = _diplosim(installed, tmp_path, "check", "gsomia_2012")
    assert "quotes verified" in elsewhere.stdout and "NOT" not in elsewhere.stdout


def test_the_installed_copy_ships_the_library(installed, tmp_path):
    listed = _diplosim(installed, tmp_path, "scenarios")
    assert "library of recorded decisions" in listed.stdout and "philippines_bases_1991" in listed.stdout
    validate = _diplosim(installed, tmp_path, "validate", "philippines_bases_1991", "--runs", "20",
                         "--quiet")
    assert validate.returncode == 0, validate.stderr
    assert "senate_concurrence" in validate.stdout and "w. median" in validate.stdout
    copied = _diplosim(installed, tmp_path, "init", "mine")
    assert copied.returncode == 0, copied.stderr
    episodes = sorted(p.parent.name for p in (tmp_path / "mine" / "library").glob("*/scenario.yaml"))
    assert len(episodes) >= 20 and (tmp_path / "mine" / "library" / "uk_syria_vote_2013" / "record.md").is_file()
    again = _diplosim(installed, tmp_path / "mine", "check", "library/uk_syria_vote_2013/scenario.yaml")
    assert "quotes verified" in again.stdout, again.stdout + again.stderr
