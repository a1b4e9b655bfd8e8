"""The committed model card is what `calcinosis validate --report` generates, and it carries
the version, priors checksum, scenario and the disclaimer."""

from pathlib import Path

import pytest

from calcinosis import __version__
from calcinosis.interfaces.modelcard import build_card

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_committed_card_matches_generated(priors, evaluation):
    card = build_card(priors, evaluation)
    committed = (ROOT / "reports" / "model-card.md").read_text(encoding="utf-8")
    assert committed == card.markdown, "reports/model-card.md is stale: run `calcinosis validate --report`"
    assert (ROOT / "reports" / "model-card" / "targets.png").read_bytes()[:4] == b"\x89PNG"
    assert priors.checksum in committed and f"version {__version__}" in committed
    assert "scenario `general_population`" in committed
    assert committed.count("this is not a diagnosis") >= 1
    # every failing target is listed with its reason
    for row in card.targets[~card.targets["passed"]].itertuples():
        assert row.known_failure and row.known_failure in committed
