"""Benchmark of the compiled engine against pgmpy and pyAgrum, measured in one run.

On the same network and the same random partial-evidence queries (a *consultation
query* = the posterior of all the conditions and of the cause of the lesion), it times:
pgmpy's ``VariableElimination``; pyAgrum's ``LazyPropagation`` set up as its users set it
up (one inference object, the query's targets set, one thread; optional: the ``bench``
extra installs it) for a new and for a repeated patient; this package's compiled engine
for a new pattern of observed findings (planning included, not traced) and a planned one,
at batch sizes 1, 100 and 10,000 of one pattern (``--batch-patients``), and
``Model.posteriors`` on 10,000 patients (``--mixed-patients``) who each state different
findings (time and traced peak memory); the full uncertainty-aware consultation (1000
draws, evidence impact, next best tests) on the bundled case with the most findings, in a
running process and as a cold command line; the arithmetic of the contraction plan (flops
per query) beside the rate this machine reaches on a dense matrix product; and the memory
of the compiled engine.
Every figure is a median of repeated timings, and every ratio uses figures of this run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ..foundation import cache
from ..analyses.api import Model
from ..analyses.consultation import DEFAULT_SEED
from ..inference.engine import CompiledEngine
from ..errors import ImpossibleEvidenceError
from ..inference.posteriors import ExactInference
from ..network.assembly import CALCIFICATION, LESION_CAUSE, Network, build_network
from ..data.priors import Priors


@contextmanager
def _no_disk_cache():
    """Plans compiled afresh: the on-disk cache turned off for the duration."""
    previous = os.environ.get(cache.CACHE_VARIABLE)
    os.environ[cache.CACHE_VARIABLE] = "off"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[cache.CACHE_VARIABLE]
        else:
            os.environ[cache.CACHE_VARIABLE] = previous


def random_queries(network: Network, count: int, observed: int, seed: int) -> list[dict[str, str]]:
    """``count`` possible evidence sets of ``observed`` random public findings each (adults)."""
    rng = np.random.default_rng(seed)
    vocabulary = network.priors.vocabulary
    nodes = [n for n in vocabulary.findings if n != CALCIFICATION]
    reference = ExactInference(network)
    queries = []
    while len(queries) < count:
        chosen = rng.choice(nodes, size=observed, replace=False)
        evidence = {n: str(rng.choice(network.nodes[n].states)) for n in chosen}
        evidence[CALCIFICATION] = "present"
        if evidence.get("age_group") == "child":
            continue
        if reference.evidence_probability(evidence) > 0:
            queries.append(evidence)
    return queries


def _median_ms(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def _pyagrum_network(network: Network):
    import pyagrum as gum

    tables = network.tables
    bn = gum.BayesNet("calcinosis")
    for node, states in tables.states.items():
        bn.add(gum.LabelizedVariable(node, node, list(states)))
    for node, parents in tables.parents.items():
        for parent in parents:
            bn.addArc(parent, node)
    for node, parents in tables.parents.items():
        array = tables.arrays[node][0]
        cpt = bn.cpt(node)
        for index in np.ndindex(*array.shape[1:]):
            cpt[{p: int(i) for p, i in zip(parents, index)}] = array[(slice(None), *index)].tolist()
    return bn


def run(priors: Priors, queries: int = 20, observed: int = 8, seed: int = DEFAULT_SEED,
        batch_patients: int = 10_000, mixed_patients: int = 10_000,
        progress: Callable[[str], None] | None = None) -> dict:
    """Measure everything listed in the module docstring; returns a JSON-ready dict."""
    step = progress or (lambda _: None)
    network = build_network(priors)
    targets = [*priors.vocabulary.conditions, LESION_CAUSE]
    evidence = random_queries(network, queries, observed, seed)
    results: dict = {"queries": queries, "observed_findings_per_query": observed, "seed": seed,
                     "nodes": len(network.nodes), "largest_table": network.largest_table()}

    step("pgmpy VariableElimination")
    reference = ExactInference(network)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pgmpy_times = [_median_ms(lambda e=e: reference.marginals(e, targets), 1) for e in evidence]
        pgmpy_answers = [reference.marginals(e, targets) for e in evidence[:5]]
    results["pgmpy_ve_ms"] = float(np.median(pgmpy_times))

    step("pyAgrum LazyPropagation")
    try:
        import pyagrum as gum
    except ImportError:
        results["pyagrum_ms"] = None
        results["pyagrum_note"] = "pyAgrum is not installed: pip install -e '.[bench]'"
    else:
        bn = _pyagrum_network(network)
        # As its users set it up: one inference object built once, the query's targets set
        # (so only their marginals are computed), one thread like the other engines here.
        inference = gum.LazyPropagation(bn)
        inference.setNumberOfThreads(1)
        inference.setTargets(set(targets))

        def agrum(e):
            inference.eraseAllEvidence()
            inference.setEvidence(e)
            inference.makeInference()
            return [inference.posterior(t) for t in targets]

        agrum(evidence[0])
        # A new patient (evidence changed since the last query) and a repeated one.
        results["pyagrum_ms"] = float(np.median([_median_ms(lambda e=e: agrum(e), 1) for e in evidence]))
        results["pyagrum_ms_repeated"] = float(np.median([_repeated_ms(agrum, e, 5) for e in evidence]))
        results["pyagrum_version"] = gum.__version__
        check = CompiledEngine(network.tables)
        results["pyagrum_max_difference"] = max(
            float(np.abs(np.array([posterior[{t: s}] for s in network.nodes[t].states])
                         - check.query([e], [t]).marginals[t][0, 0]).max())
            for e in evidence for t, posterior in zip(targets, agrum(e)))

    step("compiled engine")
    # The cold path (a new pattern of observed findings: planning included) is timed
    # without tracing and without the disk cache of plans, which an earlier run of the same
    # patterns would have filled; the memory is measured on a second, fresh engine under tracemalloc.
    engine = CompiledEngine(network.tables)
    with _no_disk_cache():
        cold = [_median_ms(lambda e=e: engine.query([e], targets), 1) for e in evidence]
    results["engine_ms_batch1_cold"] = float(np.median(cold))
    tracemalloc.start()
    traced = CompiledEngine(network.tables)
    for e in evidence:
        traced.query([e], targets)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    results["engine_ms_batch1"] = float(np.median([_median_ms(lambda e=e: engine.query([e], targets), 5)
                                                   for e in evidence]))
    for batch, key in ((100, "engine_ms_batch100"), (batch_patients, "engine_ms_large_batch")):
        rng = np.random.default_rng(seed + batch)
        pattern = list(evidence[0])
        rows = [{n: str(rng.choice(network.nodes[n].states)) for n in pattern} for _ in range(batch)]
        for row in rows:
            row[CALCIFICATION] = "present"
            if row.get("age_group") == "child":
                row["age_group"] = "older"
        engine.query(rows[:batch], targets)
        repeat = 5 if batch <= 100 else 2
        results[key] = _median_ms(lambda r=rows: engine.query(r, targets), repeat) / batch
    results["large_batch_patients"] = batch_patients
    results["engine_memory_mb"] = peak / 2**20
    results["pgmpy_max_difference"] = max(
        float(np.abs(answer[t] - engine.query([e], [t]).marginals[t][0, 0]).max())
        for e, answer in zip(evidence, pgmpy_answers) for t in targets)

    step("arithmetic")
    flops = [_flops(engine, sorted(e), targets) for e in evidence]
    results["flops_per_query"] = float(np.median(flops))
    results["flops_per_query_alone"] = float(np.median([_flops(engine, sorted(e), targets, folded=True)
                                                        for e in evidence]))
    results["achieved_gflops_large_batch"] = results["flops_per_query"] / (results["engine_ms_large_batch"] / 1000) / 1e9
    size = 1500
    a, b = np.random.default_rng(0).random((size, size)), np.random.default_rng(1).random((size, size))
    results["machine_gflops_dgemm"] = 2 * size**3 / (_median_ms(lambda: a @ b, 3) / 1000) / 1e9

    step(f"mixed batch of {mixed_patients:,} patients")
    results.update(_mixed_batch(priors, network, mixed_patients, seed))

    step("full consultation")
    case_path, case = _hardest_case(priors)
    results["full_consult_case"] = case_path.stem
    model = Model(priors)
    model.consult(case, seed=seed)  # plans compiled once, as in repeated use
    results["full_consult_s"] = _median_ms(lambda: model.consult(case, seed=seed), 3) / 1000

    step("cold command line")
    command = [sys.executable, "-m", "calcinosis", "consult", str(case_path), "--json"]
    results["cli_consult_cold_s"] = _median_ms(lambda: subprocess.run(command, capture_output=True, check=True), 3) / 1000
    results["cli_help_s"] = _median_ms(
        lambda: subprocess.run([sys.executable, "-m", "calcinosis", "--help"], capture_output=True, check=True), 3) / 1000

    results["speedup_vs_pgmpy"] = results["pgmpy_ve_ms"] / results["engine_ms_batch1"]
    results["speedup_vs_pgmpy_batch100"] = results["pgmpy_ve_ms"] / results["engine_ms_batch100"]
    if results.get("pyagrum_ms"):
        results["speedup_vs_pyagrum_new"] = results["pyagrum_ms"] / results["engine_ms_batch1_cold"]
        results["speedup_vs_pyagrum_repeated"] = results["pyagrum_ms_repeated"] / results["engine_ms_batch1"]
        results["speedup_vs_pyagrum_batch100"] = results["pyagrum_ms"] / results["engine_ms_batch100"]
    else:
        results.update(speedup_vs_pyagrum_new=None, speedup_vs_pyagrum_repeated=None, speedup_vs_pyagrum_batch100=None)
    return results


def _mixed_batch(priors: Priors, network: Network, patients: int, seed: int) -> dict:
    """``Model.posteriors`` on ``patients`` rows that each state 2 to 7 findings drawn at
    random (a registry extract, say): ms per patient and the peak memory traced."""
    rng = np.random.default_rng(seed)
    findings = [f for f in priors.vocabulary.findings if f != CALCIFICATION]
    rows = []
    for _ in range(patients):
        chosen = rng.choice(findings, size=int(rng.integers(2, 8)), replace=False)
        row = {f: str(rng.choice(network.nodes[f].states)) for f in chosen}
        if row.get("age_group") == "child":  # a child is impossible with some adult-only findings
            row["age_group"] = "older"
        rows.append(row)
    frame = pd.DataFrame(rows)
    model = Model(priors)
    model.posteriors(frame.head(2))  # the network built, as in a running process
    tracemalloc.start()
    start = time.perf_counter()
    try:
        model.posteriors(frame)
        seconds = time.perf_counter() - start
    except ImpossibleEvidenceError:  # a random row may still be impossible; measured on the possible ones
        frame = frame[[_possible(model, r) for r in rows]]
        start = time.perf_counter()
        model.posteriors(frame)
        seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"mixed_patients": len(frame), "mixed_ms_per_patient": 1000 * seconds / len(frame),
            "mixed_memory_mb": peak / 2**20}


def _possible(model: Model, row: dict) -> bool:
    try:
        model.posteriors(pd.DataFrame([row]))
        return True
    except ImpossibleEvidenceError:
        return False


def _hardest_case(priors: Priors):
    """The bundled case with the most stated findings (the largest plans), and its evidence."""
    from ..data.evidence import bundled_cases, load_case

    cases = [(path, load_case(path, priors.vocabulary)) for path in bundled_cases()]
    path, case = max(cases, key=lambda pc: (len(pc[1].evidence), pc[0].name))
    return path, case.evidence


def _repeated_ms(function, argument, repeat: int) -> float:
    """Median ms of ``function(argument)`` called again with the same argument."""
    function(argument)
    return _median_ms(lambda: function(argument), repeat)


def _flops(engine: CompiledEngine, observed: list[str], targets: list[str], folded: bool = False) -> float:
    """Floating-point operations of one query (batch 1, one draw) along the plan's paths;
    ``folded``: the plan of a patient asked alone, whose findings are sliced out of the tables."""
    import opt_einsum

    plan = engine.plan(observed, targets, folded=observed if folded else ())
    ops = [o for _, o in plan.collect + plan.distribute] + list(plan.marginals.values()) + [plan.evidence]
    sizes = {0: 1, 1: 1, **{engine.label[n]: c for n, c in engine.card.items()}}
    total = 0.0
    for o in ops:
        shapes = [tuple(sizes[label] for label in labels) for labels in o.labels]
        _, info = opt_einsum.contract_path(o.equation(), *shapes, shapes=True, optimize=o.path)
        total += float(info.opt_cost)
    return total
