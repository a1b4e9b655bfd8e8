"""Shared fixtures: the priors and the networks are built once per test session.

Under pytest-xdist (the whole suite runs on two workers) each worker keeps OpenBLAS to one
thread (two workers each spinning two BLAS threads on two cores stall one another); the
evaluation is computed by one worker and read by the other, and the headless browsers take
turns, both through file locks in the folder the workers share (pytest-xdist's recipe for
work done once per run); the workers' tallies of tried inputs are summed."""

import os
import pickle
from functools import lru_cache
from pathlib import Path

import pytest
from filelock import FileLock
from threadpoolctl import threadpool_limits

from calcinosis import build_network, load_priors
from calcinosis.inference.posteriors import engine_for

ROOT = Path(__file__).resolve().parent.parent
SHARED_VOCABULARY = ROOT.parent / "shared" / "spec" / "vocabulary.yaml"

if os.environ.get("PYTEST_XDIST_WORKER"):
    threadpool_limits(1)


def fast_first(values, keep: int = 1, ids=None, several: bool = False) -> list:
    """Parameters for ``pytest.mark.parametrize`` of which the first ``keep`` run in the fast
    tier (``pytest -m "not slow"``) and the rest only in the whole suite, so that the fast tier
    still runs every such test once. ``several``: each value is a tuple of several arguments."""
    values = list(values)
    if ids is None or callable(ids):
        ids = [ids(v) if callable(ids) else None for v in values]
    return [pytest.param(*(value if several else (value,)), id=name, marks=() if n < keep else pytest.mark.slow)
            for n, (value, name) in enumerate(zip(values, ids))]


@lru_cache(maxsize=None)
def network_for(scenario: str = "general_adult"):
    return build_network(load_priors(), scenario)


@lru_cache(maxsize=None)
def inference_for(scenario: str = "general_adult", engine: str = "compiled"):
    return engine_for(network_for(scenario), engine)


@pytest.fixture(scope="session")
def priors():
    return load_priors()


@pytest.fixture(scope="session")
def corpus(priors):
    from calcinosis.data.corpus import load_corpus

    return load_corpus(None, priors.vocabulary)


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory, worker_id):
    """A folder of this run that every xdist worker sees (the session's own without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def evaluation(priors, corpus, shared_dir):
    """The out-of-sample evaluation of the published cases, each in its own scenario, as
    `calcinosis evaluate --scenario-from-case` computes it (about a minute): computed once
    per run, by whichever worker asks first."""
    from calcinosis.analyses.evaluation import evaluate

    stored = shared_dir / "evaluation.pickle"
    with FileLock(f"{stored}.lock"):
        if stored.is_file():
            return pickle.loads(stored.read_bytes())
        result = evaluate(priors, corpus.cases, corpus, scenario_from_case=True)
        stored.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture
def one_browser(shared_dir):
    """Hold while a test drives a headless browser: two at once crash on two cores."""
    with FileLock(str(shared_dir / "browser.lock")):
        yield


@pytest.fixture(scope="session")
def engine():
    """The default (compiled) engine."""
    return inference_for("general_adult")


@pytest.fixture(scope="session")
def reference():
    """pgmpy's variable elimination, the reference the compiled engine is held to."""
    return inference_for("general_adult", "pgmpy")


def pytest_sessionfinish(session):
    """A worker hands its tally of tried inputs to the controller."""
    from .tried import TRIED

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["tried"] = dict(TRIED)


def pytest_testnodedown(node, error):
    """The controller adds up the tallies of its workers (pytest-xdist's hook)."""
    from .tried import TRIED

    TRIED.update(getattr(node, "workeroutput", {}).get("tried", {}))


def pytest_terminal_summary(terminalreporter):
    """Print how many malformed and fuzzed inputs the robustness tests tried."""
    from .tried import TRIED

    if TRIED:
        terminalreporter.write_line("robustness inputs tried: " + ", ".join(
            f"{kind} {count}" for kind, count in sorted(TRIED.items())) + f"; {sum(TRIED.values())} in all")
