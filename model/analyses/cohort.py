"""Simulated cohorts: forward (ancestral) sampling of patients from a what-if's tables.

Patients are drawn node by node in the causal order of the tables, vectorised over a
chunk of patients with numpy. Chunk k is seeded with ``SeedSequence([seed, k])``, so a
cohort depends only on the seed and the chunk size, never on how many chunks run at
once or where (local threads or a ``dask.distributed.Client``).

Conditioning (``condition_on``) is evidence, not intervention (that is ``--do``):

* ``rejection``: patients are drawn until ``n`` match the evidence (exact draws from
  the conditional distribution; the number needed is planned from the exact
  probability of the evidence, so impossible evidence is refused at once);
* ``weighting`` (likelihood weighting): the evidence nodes are set to their states
  and each patient carries ``weight`` = P(evidence | its parents); estimates are
  weighted averages. Use it when the evidence is rare.

The cohort is a pandas DataFrame of the public nodes (conditions, findings) and
``lesion_cause``, as categoricals, written to Parquet (pyarrow) or CSV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import EvidenceError, ImpossibleEvidenceError, ScenarioError
from ..foundation.defaults import DEFAULT_SEED
from ..foundation.extras import require
from ..network.assembly import LESION_CAUSE, Tables
from ..data.vocabulary import ALL_NODES_HINT, check_states
from ..data.priors import Priors
from ..network.scenarios import WhatIf, build_whatif
from .whatif import engine_for_whatif, parallel_map, workers

CHUNK = 100_000
METHODS = ("rejection", "weighting")
MAX_PATIENTS_PER_MATCH = 10_000  # rejection gives up when the evidence is rarer than one in this many


@dataclass
class Cohort:
    """A simulated cohort: ``frame`` (one row per patient) and how it was drawn."""

    frame: pd.DataFrame
    scenario: str
    seed: int
    method: str
    condition_on: dict
    drawn: int  # patients drawn in all (more than len(frame) with rejection)

    def rate(self, node: str, state: str, given: Mapping[str, str] | None = None) -> tuple[float, float]:
        """Estimated P(node = state | given) in the cohort and its standard error (weighted if weighted)."""
        frame = self.frame
        mask = np.ones(len(frame), dtype=bool)
        for key, value in (given or {}).items():
            mask &= (frame[key] == value).to_numpy()
        hit = (frame[node] == state).to_numpy()[mask].astype(float)
        if "weight" in frame:
            w = frame["weight"].to_numpy()[mask]
            p = float((w * hit).sum() / w.sum())
            ess = w.sum() ** 2 / (w ** 2).sum()
            return p, math.sqrt(p * (1 - p) / ess)
        p = float(hit.mean())
        return p, math.sqrt(p * (1 - p) / hit.size)

    def write(self, path: Path | str) -> Path:
        """Write ``.parquet`` (pyarrow) or ``.csv``."""
        path = Path(path)
        if path.suffix == ".parquet":
            require("pyarrow", f"--out {path.name} (Parquet)")
            self.frame.to_parquet(path, index=False)
        elif path.suffix == ".csv":
            self.frame.to_csv(path, index=False)
        else:
            raise ScenarioError(f"--out {path}: the file must end in .parquet or .csv; got '{path.suffix or 'none'}'.")
        return path


def _order(tables: Tables) -> list[str]:
    graph = nx.DiGraph([(p, n) for n, ps in tables.parents.items() for p in ps])
    graph.add_nodes_from(tables.parents)
    return list(nx.lexicographical_topological_sort(graph))


def _public(tables: Tables) -> list[str]:
    return [n for n, info in tables.info.items() if info.kind != "latent" or n == LESION_CAUSE]


def sample_chunk(tables: Tables, size: int, seed: int, index: int, evidence: Mapping[str, str] | None = None,
                 weighting: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Codes of every node for ``size`` patients (chunk ``index`` of the master ``seed``),
    and the likelihood weights (all ones unless ``weighting``)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    evidence = dict(evidence or {})
    codes: dict[str, np.ndarray] = {}
    weights = np.ones(size)
    for node in _order(tables):
        table = tables.arrays[node][0]                       # (states, *parent states): the point estimate
        states = table.shape[0]
        columns = table.reshape(states, -1).T                # (parent combinations, states)
        parents = tables.parents[node]
        if parents:
            flat = np.ravel_multi_index([codes[p] for p in parents], table.shape[1:])
        else:
            flat = np.zeros(size, dtype=np.intp)
        u = rng.random(size)  # drawn for every node, so the stream does not depend on the evidence
        if weighting and node in evidence:
            state = tables.states[node].index(evidence[node])
            weights *= columns[flat, state]
            codes[node] = np.full(size, state, dtype=np.int16)
            continue
        cumulative = np.cumsum(columns, axis=1)[flat]        # (size, states)
        drawn = (u[:, None] >= cumulative[:, :-1]).sum(axis=1)
        codes[node] = drawn.astype(np.int16)
    return codes, weights


def _chunk_task(task):
    tables, size, seed, index, evidence, weighting, keep = task
    codes, weights = sample_chunk(tables, size, seed, index, evidence, weighting)
    mask = np.ones(size, dtype=bool)
    if evidence and not weighting:
        for node, state in evidence.items():
            mask &= codes[node] == tables.states[node].index(state)
    return {n: codes[n][mask] for n in keep}, weights[mask], int(size)


def simulate(priors: Priors, whatif: WhatIf | str | None = None, n: int = 10_000, *, seed: int = DEFAULT_SEED,
             condition_on: Mapping[str, str] | None = None, method: str = "rejection", chunk: int = CHUNK,
             client=None, progress: Callable[[int, int], None] | None = None) -> Cohort:
    """Simulate ``n`` patients of a what-if (optionally given evidence).

    Parameters
    ----------
    condition_on : dict, optional
        Evidence (node -> state) the patients must match.
    method : 'rejection' or 'weighting'
    chunk : int
        Patients per chunk (the unit of parallel work and of seeding).
    client : dask.distributed.Client, optional
        Run the chunks on a Dask cluster instead of the local cores.
    progress : callable, optional
        Called with (patients done, patients wanted) after each batch of chunks.

    Raises
    ------
    EvidenceError, ImpossibleEvidenceError, ScenarioError
    """
    if not isinstance(n, int) or n < 1:
        raise ScenarioError(f"-n: the number of patients must be a positive integer; got {n!r}.")
    if not isinstance(chunk, int) or chunk < 1:
        raise ScenarioError(f"--chunk: must be a positive integer; got {chunk!r}.")
    if method not in METHODS:
        raise ScenarioError(f"--method: '{method}' is not a sampling method. Allowed: 'rejection', 'weighting'.")
    if not isinstance(whatif, WhatIf):
        whatif = build_whatif(priors, whatif)
    engine = engine_for_whatif(priors, whatif)
    tables = engine.tables
    evidence = _check_evidence(tables, condition_on)
    p_evidence = 1.0
    if evidence:
        p_evidence = float(engine.query([evidence], []).probability[0, 0])
        if p_evidence <= 0:
            raise ImpossibleEvidenceError(
                f"--condition-on: the evidence {evidence} has probability zero in scenario '{whatif.id}'; "
                f"no patient can match it.", evidence)
        if method == "rejection" and p_evidence * MAX_PATIENTS_PER_MATCH < 1:
            raise EvidenceError(f"--condition-on: the evidence has probability {p_evidence:.3g}: rejection would "
                                f"draw more than {MAX_PATIENTS_PER_MATCH:,} patients per match; use --method weighting.")
    weighting = method == "weighting"
    keep = _public(tables)
    wanted = n if weighting or not evidence else math.ceil(n / p_evidence * 1.05) + 1
    parts: list = []
    matched, next_index, drawn = 0, 0, 0
    while matched < n:
        count = max(1, math.ceil(wanted / chunk)) if not parts else max(workers(client), 1)
        sizes = [chunk] * count
        if weighting or not evidence:  # exactly n patients: the last chunk is short
            sizes = [min(chunk, n - matched - i * chunk) for i in range(count)]
            sizes = [s for s in sizes if s > 0]
        tasks = [(tables, size, seed, next_index + i, evidence, weighting, keep) for i, size in enumerate(sizes)]
        next_index += len(tasks)
        for result in parallel_map(_chunk_task, tasks, client):
            parts.append(result)
            matched += len(result[1])
            drawn += result[2]
        if progress:
            progress(min(matched, n), n)
    codes = {node: np.concatenate([p[0][node] for p in parts])[:n] for node in keep}
    frame = pd.DataFrame({node: pd.Categorical.from_codes(codes[node], categories=tables.states[node])
                          for node in keep})
    if weighting:
        frame["weight"] = np.concatenate([p[1] for p in parts])[:n]
    return Cohort(frame, whatif.id, seed, method, evidence, drawn)


def _check_evidence(tables: Tables, evidence: Mapping[str, str] | None) -> dict[str, str]:
    return check_states(evidence or {}, tables.states, "--condition-on", ALL_NODES_HINT)
