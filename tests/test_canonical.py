"""The canonical models equal brute-force enumeration of their generative story."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcinosis.network import canonical

STATES = ["low", "normal", "high"]
DOMINANCE = ["normal", "low", "high"]


def brute_force_noisy_max(leak, pushes):
    """Enumerate every combination of independent pushes and take the dominant state."""
    dists = [canonical.push_distribution(DOMINANCE, leak)[0]] + [canonical.push_distribution(DOMINANCE, p)[0] for p in pushes]
    out = np.zeros(len(DOMINANCE))
    for combo in itertools.product(range(len(DOMINANCE)), repeat=len(dists)):
        weight = np.prod([d[i] for d, i in zip(dists, combo)])
        out[max(combo)] += weight
    return canonical.reorder(out, DOMINANCE, STATES)


def test_noisy_max_full_table_matches_enumeration():
    leak = {"low": 0.02, "high": 0.03}
    parents = [
        ("a", ["absent", "present"], {"present": {"high": 0.7}}),
        ("b", ["absent", "present"], {"present": {"low": 0.4, "high": 0.1}}),
        ("age", ["young", "old"], {"old": {"low": 0.2}}),
    ]
    table = canonical.noisy_max_table(STATES, DOMINANCE, leak, parents)[0]
    for combo in itertools.product(range(2), repeat=3):
        pushes = [rows.get(states[i]) for (_, states, rows), i in zip(parents, combo)]
        np.testing.assert_allclose(table[(slice(None), *combo)], brute_force_noisy_max(leak, pushes), atol=1e-12)
    np.testing.assert_allclose(table.sum(axis=0), 1.0, atol=1e-12)


@st.composite
def _push(draw, allowed=("low", "high")):
    """A push: probabilities of some non-default states, summing to at most one."""
    chosen = draw(st.lists(st.sampled_from(allowed), unique=True, max_size=len(allowed)))
    weights = [draw(st.floats(0.0, 1.0)) for _ in chosen]
    scale = max(1.0, sum(weights))
    return {state: w / scale for state, w in zip(chosen, weights)}


@settings(max_examples=60, deadline=None)
@given(leak=_push(), data=st.data())
def test_noisy_max_with_random_parameters_matches_enumeration(leak, data):
    """Any leak and any pushes (one or two parents, two or three states each) give the table
    of the generative story: independent pushes, the most dominant one wins."""
    parents = []
    for name in ("a", "b")[: data.draw(st.integers(1, 2))]:
        states = ["s0", "s1", "s2"][: data.draw(st.integers(2, 3))]
        rows = {state: data.draw(_push()) for state in states[1:]}
        parents.append((name, states, rows))
    table = canonical.noisy_max_table(STATES, DOMINANCE, leak, parents)[0]
    for combo in itertools.product(*(range(len(states)) for _, states, _ in parents)):
        pushes = [rows.get(states[i]) for (_, states, rows), i in zip(parents, combo)]
        np.testing.assert_allclose(table[(slice(None), *combo)], brute_force_noisy_max(leak, pushes), atol=1e-12)
    np.testing.assert_allclose(table.sum(axis=0), 1.0, atol=1e-12)


def test_noisy_or_hand_computed():
    # Binary noisy-OR: P(present | both causes) = 1 - (1 - leak)(1 - p1)(1 - p2).
    table = canonical.noisy_max_table(
        ["absent", "present"], ["absent", "present"], {"present": 0.1},
        [("a", ["absent", "present"], {"present": {"present": 0.5}}),
         ("b", ["absent", "present"], {"present": {"present": 0.2}})],
    )[0]
    assert table[1, 1, 1] == pytest.approx(1 - 0.9 * 0.5 * 0.8)
    assert table[1, 0, 0] == pytest.approx(0.1)
    assert table[1, 1, 0] == pytest.approx(1 - 0.9 * 0.5)


def test_divorced_chain_equals_full_table():
    leak = {"low": 0.05, "high": 0.01}
    parents = [(f"c{i}", ["absent", "present"], {"present": {"high": 0.1 * (i + 1), "low": 0.05}}) for i in range(5)]
    full = canonical.noisy_max_table(STATES, DOMINANCE, leak, parents)[0]
    first = canonical.noisy_max_table(STATES, DOMINANCE, leak, parents[:1])[0]
    for combo in itertools.product(range(2), repeat=5):
        dist = first[:, combo[0]]
        for parent, index in zip(parents[1:], combo[1:]):
            link = canonical.noisy_max_table(STATES, DOMINANCE, leak, [("prev", STATES, {}), parent], previous=True)[0]
            dist = link[:, :, index] @ dist
        np.testing.assert_allclose(dist, full[(slice(None), *combo)], atol=1e-12)


@pytest.mark.parametrize("producing", [(0,), (1, 3), (0, 2, 3), (0, 1, 2, 3)])
def test_attribution_is_uniform_among_up_to_three_producers(producing):
    causes = ["a", "b", "c", "d"]
    dist = None
    for k in range(len(causes)):
        _, states, table = canonical.attribution_step(causes, k)
        produces = int(k in producing)
        dist = table[:, produces] if k == 0 else table[:, :, produces] @ dist
    result_states, result = canonical.attribution_result(causes)
    final = result @ dist
    expected = np.array([0.0] + [1 / len(producing) if i in producing else 0.0 for i in range(4)])
    if len(producing) <= 3:
        np.testing.assert_allclose(final, expected, atol=1e-12)
    else:  # four producers: all keep a share, and the capped count is documented
        assert set(np.flatnonzero(final)) == {1, 2, 3, 4}
    assert final.sum() == pytest.approx(1.0)


def test_attribution_without_producers_is_none():
    causes = ["a", "b"]
    _, _, t0 = canonical.attribution_step(causes, 0)
    _, _, t1 = canonical.attribution_step(causes, 1)
    _, result = canonical.attribution_result(causes)
    final = result @ (t1[:, :, 0] @ t0[:, 0])
    np.testing.assert_allclose(final, [1.0, 0.0, 0.0])


def test_noisy_max_is_vectorised_over_draws():
    pushes = np.array([0.2, 0.6])
    table = canonical.noisy_max_table(
        ["absent", "present"], ["absent", "present"], {"present": np.array([0.1, 0.0])},
        [("a", ["absent", "present"], {"present": {"present": pushes}})], draws=2)
    assert table.shape == (2, 2, 2)
    np.testing.assert_allclose(table[:, 1, 1], [1 - 0.9 * 0.8, 0.6])
