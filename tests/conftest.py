"""Shared fixtures: the priors and the networks are built once per test session."""

from functools import lru_cache
from pathlib import Path

import pytest

from calcinosis import ExactInference, build_network, load_priors

ROOT = Path(__file__).resolve().parent.parent
SHARED_VOCABULARY = ROOT.parent / "shared" / "spec" / "vocabulary.yaml"


@lru_cache(maxsize=None)
def inference_for(scenario: str = "general_adult") -> ExactInference:
    return ExactInference(build_network(load_priors(), scenario))


@pytest.fixture(scope="session")
def priors():
    return load_priors()


@pytest.fixture(scope="session")
def engine():
    return inference_for("general_adult")
