"""Canonical local models expanded into conditional probability tables (pure numpy).

Two families:

* **noisy-MAX with a leak** (noisy-OR when the node is binary): every cause, in one of
  its states, independently *pushes* the child towards a state with a given
  probability; the leak pushes from outside the model; the child takes the most
  dominant state pushed. With the states ordered by dominance, the cumulative
  distribution of the child is the product of the cumulative distributions of the
  pushes, so any subset of causes can be combined exactly. Parent divorcing uses
  this: ``Y_1 = max(leak, Z_1)``, ``Y_k = max(Y_{k-1}, Z_k)``, a chain of small
  tables with exactly the same joint distribution as the full table.

* **attribution of the index lesion**: among the processes that produce a
  calcification, the index lesion is attributed to one of them uniformly at random.
  A chain over the producers implements this exactly with a running (cause, count)
  state, as reservoir sampling does: the k-th producer takes over the attribution
  with probability 1/k.

Noisy-MAX tables are returned as arrays ``P[draw, child_state, parent_1_state, ...]``
(a leading axis over parameter draws; one draw for the point estimate), attribution
tables as ``P[child_state, parent_state, ...]``; ``network.py`` wraps them into pgmpy
``TabularCPD``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

NONE = "none"


def push_distribution(dominance: Sequence[str], push: Mapping[str, np.ndarray | float] | None,
                      draws: int = 1) -> np.ndarray:
    """Distribution of one push over the dominance order (remainder: no push), shape (draws, states)."""
    pmf = np.zeros((draws, len(dominance)))
    for state, p in (push or {}).items():
        pmf[:, dominance.index(state)] = p
    pmf[:, 0] = 1.0 - pmf[:, 1:].sum(axis=1)
    return pmf


def max_of(pmfs: Sequence[np.ndarray]) -> np.ndarray:
    """Distribution of the maximum (in dominance order) of independent pushes (last axis: states)."""
    cdf = np.ones_like(pmfs[0])
    for pmf in pmfs:
        cdf = cdf * np.cumsum(pmf, axis=-1)
    return np.diff(cdf, axis=-1, prepend=0)


def reorder(pmf_by_dominance: np.ndarray, dominance: Sequence[str], states: Sequence[str]) -> np.ndarray:
    """From dominance order to the node's own state order (last axis)."""
    return pmf_by_dominance[..., [dominance.index(s) for s in states]]


def noisy_max_table(
    states: Sequence[str],
    dominance: Sequence[str],
    leak: Mapping[str, np.ndarray | float],
    parents: Sequence[tuple[str, Sequence[str], Mapping[str, Mapping[str, np.ndarray | float]]]],
    previous: bool = False,
    draws: int = 1,
) -> np.ndarray:
    """Full table of a noisy-MAX node over the given parents.

    Parameters
    ----------
    states, dominance : sequences of state names (node order, dominance order)
    leak : state -> push probability of the leak (ignored when ``previous``)
    parents : list of (parent id, parent states, {parent state: {child state: push}})
    previous : bool
        When True the first parent is the previous link of a divorcing chain (same
        states as the child): its state passes through as a push with probability one.
    draws : int
        Number of parameter draws; push probabilities are floats or arrays of that length.

    Returns
    -------
    ndarray of shape (draws, len(states), *parent cardinalities)
    """
    cards = [len(p[1]) for p in parents]
    table = np.zeros([draws, len(states), *cards])
    for combo in itertools.product(*(range(c) for c in cards)):
        pmfs = [] if previous else [push_distribution(dominance, leak, draws)]
        for position, (index, (_, parent_states, rows)) in enumerate(zip(combo, parents)):
            parent_state = parent_states[index]
            if previous and position == 0:
                pmf = np.zeros((draws, len(dominance)))
                pmf[:, dominance.index(parent_state)] = 1.0
            else:
                pmf = push_distribution(dominance, rows.get(parent_state), draws)
            pmfs.append(pmf)
        table[(slice(None), slice(None), *combo)] = reorder(max_of(pmfs), dominance, states)
    return table


def attribution_states(causes: Sequence[str], upto: int) -> list[str]:
    """States of the k-th link of the attribution chain: none, or (cause, count) so far."""
    return [NONE] + [f"{cause}|{count}" for cause in causes[:upto] for count in ("1", "2+")]


def attribution_step(causes: Sequence[str], k: int) -> tuple[list[str], list[str], np.ndarray]:
    """Table of link k (0-based) given link k-1 and whether cause k produces a lesion.

    Returns (previous states, states, table[state, previous state, produces state])
    with produces states ordered (absent, present). For k == 0 the previous link is
    absent and the table has shape (states, produces).
    """
    states = attribution_states(causes, k + 1)
    previous = attribution_states(causes, k) if k > 0 else [NONE]
    table = np.zeros((len(states), len(previous), 2))
    mine_first = states.index(f"{causes[k]}|1")
    mine_more = states.index(f"{causes[k]}|2+")
    for i, prev in enumerate(previous):
        table[states.index(prev), i, 0] = 1.0  # no new producer: attribution unchanged
        if prev == NONE:
            table[mine_first, i, 1] = 1.0
            continue
        cause, count = prev.split("|")
        # Producers so far; the capped state "2+" counts as two, so attribution is
        # exactly uniform for up to three simultaneous producers.
        seen = 1 if count == "1" else 2
        take_over = 1.0 / (seen + 1)
        table[mine_more, i, 1] += take_over
        table[states.index(f"{cause}|2+"), i, 1] += 1.0 - take_over
    if k == 0:
        return [], states, table[:, 0, :]
    return previous, states, table


def attribution_result(causes: Sequence[str], order: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Deterministic map from the last chain link to the cause of the index lesion.

    ``causes`` is the chain's order; ``order`` (the same causes, by default the chain's
    order) is the order of the result's states, so the chain can be arranged for speed
    while the result keeps the vocabulary's order.
    """
    last = attribution_states(causes, len(causes))
    if order is not None and sorted(order) != sorted(causes):
        raise ValueError("order must hold exactly the chain's causes")
    result = [NONE, *(causes if order is None else order)]
    table = np.zeros((len(result), len(last)))
    for i, state in enumerate(last):
        table[result.index(state.split("|")[0]), i] = 1.0
    return result, table
