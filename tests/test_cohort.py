"""Simulated cohorts agree with exact inference; chunks, seeds and Dask do not change them."""

import numpy as np
import pandas as pd
import pytest

from calcinosis import CompiledEngine, build_tables
from calcinosis.interfaces.cli import main
from calcinosis.analyses.cohort import simulate
from calcinosis.errors import EvidenceError, ImpossibleEvidenceError
from calcinosis.network.assembly import CALCIFICATION, LESION_CAUSE
from calcinosis.analyses.whatif import sweep


@pytest.fixture(scope="module")
def exact(priors):
    return CompiledEngine(build_tables(priors, "dialysis_unit"))


def _exact(engine, evidence, node):
    marginal = engine.query([evidence], [node]).marginals[node][0, 0]
    return dict(zip(engine.tables.states[node], marginal))


def test_cohort_frequencies_match_exact_probabilities(priors, exact):
    cohort = simulate(priors, "dialysis_unit", 200_000, seed=5, chunk=50_000)
    assert len(cohort.frame) == 200_000 and "lesion_cause" in cohort.frame and "gout" in cohort.frame
    for node, state in [(CALCIFICATION, "present"), ("gout", "present"), ("serum_phosphate", "high"),
                        ("age_group", "older"), ("chronic_kidney_disease", "present")]:
        estimate, se = cohort.rate(node, state)
        truth = _exact(exact, {}, node)[state]
        assert abs(estimate - truth) <= 4 * max(se, 1e-12), (node, estimate, truth)


@pytest.mark.parametrize("method", ["rejection", "weighting"])
def test_conditioned_cohorts_match_the_exact_case_mix(priors, exact, method):
    evidence = {CALCIFICATION: "present", "sedimentation_sign": "present"}
    cohort = simulate(priors, "dialysis_unit", 4_000 if method == "rejection" else 20_000, seed=3,
                      condition_on=evidence, method=method)
    assert (cohort.frame["sedimentation_sign"] == "present").all()
    truth = _exact(exact, evidence, LESION_CAUSE)
    for cause in ("chronic_kidney_disease", "gout", "calcific_tendinitis"):
        estimate, se = cohort.rate(LESION_CAUSE, cause)
        assert abs(estimate - truth[cause]) <= 4 * se, (cause, estimate, truth[cause])


def test_cohorts_are_seeded_and_errors_are_clear(priors):
    a = simulate(priors, "general_adult", 3_000, seed=11, chunk=1_000)
    b = simulate(priors, "general_adult", 3_000, seed=11, chunk=1_000)
    c = simulate(priors, "general_adult", 3_000, seed=12, chunk=1_000)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert not a.frame.equals(c.frame)
    with pytest.raises(ImpossibleEvidenceError):
        simulate(priors, "general_adult", 10, condition_on={"age_group": "child"})
    with pytest.raises(EvidenceError, match="Did you mean 'serum_calcium'"):
        simulate(priors, "general_adult", 10, condition_on={"serum_calcum": "high"})


@pytest.mark.slow
def test_a_million_patients_in_seconds(priors):
    import time

    start = time.perf_counter()
    cohort = simulate(priors, "general_adult", 1_000_000, seed=1)
    assert len(cohort.frame) == 1_000_000
    assert time.perf_counter() - start < 60


@pytest.mark.slow
def test_dask_cluster_gives_the_same_results(priors):
    from dask.distributed import Client, LocalCluster

    local_cohort = simulate(priors, "general_adult", 4_000, seed=9, chunk=1_000,
                            condition_on={CALCIFICATION: "present"})
    local_sweep = sweep(priors, "prevalence.gout", 0.02, 0.06, 2, outputs=["metabolic"], draws=8)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        remote_cohort = simulate(priors, "general_adult", 4_000, seed=9, chunk=1_000,
                                 condition_on={CALCIFICATION: "present"}, client=client)
        remote_sweep = sweep(priors, "prevalence.gout", 0.02, 0.06, 2, outputs=["metabolic"], draws=8, client=client)
    pd.testing.assert_frame_equal(local_cohort.frame, remote_cohort.frame)
    pd.testing.assert_frame_equal(local_sweep, remote_sweep)


def test_simulate_cli_writes_parquet_and_csv(tmp_path, capsys):
    assert main(["simulate", "--scenario", "rheumatology_clinic", "-n", "500", "--condition-on",
                 "soft_tissue_calcification=present", "--out", str(tmp_path / "c.parquet")]) == 0
    frame = pd.read_parquet(tmp_path / "c.parquet")
    assert len(frame) == 500 and (frame[CALCIFICATION] == "present").all()
    assert main(["simulate", "-n", "100", "--out", str(tmp_path / "c.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "c.csv")) == 100
    assert main(["simulate", "-n", "100", "--out", str(tmp_path / "c.txt")]) == 2
    assert ".parquet or .csv" in capsys.readouterr().err
