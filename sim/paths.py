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
IN_CHECKOUT = (PROJECT / "pyproject.toml").is_file() and (PROJECT / "library").is_dir()
SHIPPED = PACKAGE / "shipped"
# The library of recorded decisions: one folder per episode, its record and its scenario.
LIBRARY = PROJECT / "library" if IN_CHECKOUT else SHIPPED / "library"
CALIBRATION = PROJECT / "calibration" if IN_CHECKOUT else SHIPPED / "calibration"
# Where `calibrate` writes by default: the checkout's results, else a folder in the working
# directory (never inside an installed package).
CALIBRATION_RESULTS = CALIBRATION / "results" if IN_CHECKOUT else Path("calibration-results")


def library_scenarios() -> list[Path]:
    """Every episode's scenario in the library (``library/<episode>/scenario.yaml``)."""
    return sorted(LIBRARY.glob("*/scenario.yaml"))
