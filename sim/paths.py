"""Where the project's own files are: the shipped scenarios and the calibration files.

One module names them, so no other module counts how deep it sits below the project. In a
checkout they are the project's ``scenarios/`` and ``calibration/``; in an installed package,
the copies shipped in ``sim/shipped/``. A scenario or overlay may be named by its file stem
(``gsomia_2019``) wherever a file is expected.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PROJECT = PACKAGE.parent
IN_CHECKOUT = (PROJECT / "pyproject.toml").is_file() and (PROJECT / "scenarios").is_dir()
SHIPPED = PACKAGE / "shipped"
SCENARIOS = PROJECT / "scenarios" if IN_CHECKOUT else SHIPPED / "scenarios"
OVERLAYS = SCENARIOS / "counterfactuals"
# The library of recorded decisions: one folder per episode, its record and its scenario.
LIBRARY = PROJECT / "library" if IN_CHECKOUT else SHIPPED / "library"
CALIBRATION = PROJECT / "calibration" if IN_CHECKOUT else SHIPPED / "calibration"
# Where `calibrate` writes by default: the checkout's results, else a folder in the working
# directory (never inside an installed package).
CALIBRATION_RESULTS = CALIBRATION / "results" if IN_CHECKOUT else Path("calibration-results")


def shipped_file(name: str) -> str:
    """``name`` itself when it is a path that exists (or looks like one), else the shipped
    scenario or overlay of that stem (``gsomia_2019``, ``no_us_pressure_2019``), else ``name``
    unchanged (the reader then says it cannot be read)."""
    if "/" in name or "\\" in name or _looks_up(Path(name).exists):
        return name
    stem = name[:-5] if name.endswith(".yaml") else name
    for folder in (SCENARIOS, OVERLAYS):
        candidate = folder / f"{stem}.yaml"
        if _looks_up(candidate.is_file):
            return str(candidate)
    episode = LIBRARY / stem / "scenario.yaml"  # a library episode by its folder's name
    if episode.is_file():
        return str(episode)
    return name


def _looks_up(test) -> bool:
    """``test()`` (a path's exists or is_file); a name the system cannot look up (too long,
    a NUL byte) is not there, and the reader then names the problem."""
    try:
        return test()
    except (OSError, ValueError):
        return False


def shipped_scenarios() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def shipped_overlays() -> list[Path]:
    return sorted(OVERLAYS.glob("*.yaml"))


def library_scenarios() -> list[Path]:
    """Every episode's scenario in the library (``library/<episode>/scenario.yaml``)."""
    return sorted(LIBRARY.glob("*/scenario.yaml"))
