"""Shared fixtures: the priors and the networks are built once per test session."""

from functools import lru_cache
from pathlib import Path

import pytest

from calcinosis import build_network, load_priors
from calcinosis.inference.posteriors import engine_for

ROOT = Path(__file__).resolve().parent.parent
SHARED_VOCABULARY = ROOT.parent / "shared" / "spec" / "vocabulary.yaml"


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
def engine():
    """The default (compiled) engine."""
    return inference_for("general_adult")


@pytest.fixture(scope="session")
def reference():
    """pgmpy's variable elimination, the reference the compiled engine is held to."""
    return inference_for("general_adult", "pgmpy")


def pytest_terminal_summary(terminalreporter):
    """Print how many malformed and fuzzed inputs the robustness tests tried."""
    from .tried import TRIED

    if TRIED:
        terminalreporter.write_line("robustness inputs tried: " + ", ".join(
            f"{kind} {count}" for kind, count in sorted(TRIED.items())) + f"; {sum(TRIED.values())} in all")
