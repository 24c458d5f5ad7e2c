"""Random inputs are addressed by (seed, run, stream, index): NumPy's own Philox, and no
dependence on block size, threads or order."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.draws import drawn_quantities, member_values, shock_table
from sim.engine.ensemble import VectorEngine
from sim.model3 import philox


@pytest.mark.parametrize("seed", [0, 1, 20190822, 2**63 - 1, 2**64 + 5, 2**127 + 12345])
def test_philox_words_are_numpys(seed):
    k0, k1 = philox.seed_key(seed)
    key = np.array([k0, k1], dtype=np.uint64)
    for counter in ([0, 0, 0, 0], [5, 7, 1, 0], [2**64 - 1, 3, 0, 0]):
        reference = np.random.Philox(key=key, counter=np.array(counter, dtype=np.uint64)).random_raw(4)
        # NumPy increments the counter before it computes its first block
        low = (counter[0] + 1) % 2**64
        carried = [low, counter[1] + (low == 0), counter[2], counter[3]]
        words = philox.philox_block(np.uint64(k0), np.uint64(k1), *(np.uint64(c) for c in carried))
        assert [int(w) for w in words] == [int(r) for r in reference]


def test_uniforms_are_numpys_doubles_at_the_run_and_stream_address():
    k0, k1 = philox.seed_key(42)
    # counter (0, run 7, stream 1, 0) is what NumPy reaches after one increment from below it
    start = np.array([2**64 - 1, 6, 1, 0], dtype=np.uint64)
    generator = np.random.Generator(np.random.Philox(key=np.array([k0, k1], dtype=np.uint64), counter=start))
    assert np.array_equal(generator.random(10), philox.uniforms(42, [7], 1, 10)[0])


def test_a_runs_inputs_do_not_depend_on_its_neighbours(scenario_2019):
    quantities = drawn_quantities(scenario_2019)
    together = member_values(quantities, 9, np.arange(50))
    alone = member_values(quantities, 9, [37])[0]
    assert np.array_equal(together[37], alone)
    table = shock_table(9, 37, 10, 7)
    assert np.array_equal(table.reshape(-1), philox.uniforms(9, [37], philox.SHOCKS, 70)[0])
    assert not np.array_equal(shock_table(9, 36, 10, 7), table)
    assert not np.array_equal(member_values(quantities, 10, [37])[0], alone)


def test_seed_outside_the_key_space_is_refused():
    with pytest.raises(ValueError):
        philox.seed_key(-1)
    with pytest.raises(ValueError):
        philox.seed_key(2**128)


def test_engine_results_do_not_depend_on_threads_or_blocks(scenario_2019, constants):
    one = VectorEngine(scenario_2019, constants, threads=1)
    two = VectorEngine(scenario_2019, constants, threads=2)
    runs = np.arange(4000)
    a = one.run(one.inputs(3, runs))
    b = two.run(two.inputs(3, runs))
    pieces = [one.run(one.inputs(3, runs[i:i + 1500])) for i in range(0, 4000, 1500)]
    for field in ("status", "option_index", "by_default"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
        assert np.array_equal(getattr(a, field), np.concatenate([getattr(p, field) for p in pieces]))
    assert np.array_equal(np.nan_to_num(a.decided_h, nan=-1), np.nan_to_num(b.decided_h, nan=-1))
