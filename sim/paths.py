"""Where the project's own folders are: the shipped scenarios and the calibration files.

One module names them, so no other module counts how deep it sits below the project.
"""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SCENARIOS = PROJECT / "scenarios"
CALIBRATION = PROJECT / "calibration"
