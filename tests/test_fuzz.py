"""Random mutations of a valid scenario never produce a traceback: either it loads, or it is
rejected with a located ScenarioError."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model.scenario import ScenarioError, load_scenario_text
from tests.conftest import SCENARIO_2012

TEXT = SCENARIO_2012.read_text(encoding="utf-8")
DATA = yaml.safe_load(TEXT)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.floats(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.dates().map(str),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


PATHS = [p for p in _paths(DATA) if p]


def _mutate(data, path, action, value):
    import copy

    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif action == "add_key" and isinstance(parent, dict):
        parent[f"unexpected_{abs(hash(str(value))) % 97}"] = value
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    return data


def _load(text):
    try:
        load_scenario_text(text, "mutant.yaml", verify_quotes=False)
    except ScenarioError as exc:
        assert exc.file == "mutant.yaml"
        assert str(exc).startswith("mutant.yaml")
        assert exc.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    action=st.sampled_from(["delete", "replace", "add_key", "duplicate"]),
    value=junk,
)
def test_structural_mutations_never_crash(path, action, value):
    mutated = _mutate(DATA, path, action, value)
    _load(yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(0, len(TEXT) - 1),
    length=st.integers(0, 20),
    insert=st.text(alphabet=st.sampled_from(list(":-[]{}!&*#'\"\n\t |>%@`,?0aZ")), max_size=6),
)
def test_textual_mutations_never_crash(position, length, insert):
    _load(TEXT[:position] + insert + TEXT[position + length :])
