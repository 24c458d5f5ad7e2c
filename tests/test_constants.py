"""The constants file is validated like a scenario."""

from __future__ import annotations

import pytest

from sim.model.constants import DEFAULT_CONSTANTS, load_constants
from sim.model.scenario import ScenarioError


def test_shipped_constants_load():
    constants = load_constants()
    assert constants.temperature > 0


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ("  value: 0.1\n  unit: utility\n", "  value: -0.1\n  unit: utility\n", "temperature.value"),
        ("w_security:\n", "w_securty:\n", "unknown key 'w_securty'"),
    ],
)
def test_bad_constants_are_located(tmp_path, old, new, expected):
    text = DEFAULT_CONSTANTS.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "constants.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_constants(bad)
    assert expected in str(info.value)
    assert str(info.value).startswith(f"{bad}:")
