"""Same inputs and seed give byte-identical JSON, and every JSON output names the version,
the priors checksum and the scenario."""

import json

import pytest

from calcinosis import __version__, load_priors
from calcinosis.interfaces.cli import main
from calcinosis.data.evidence import bundled_cases

from .conftest import fast_first

CASE = str(next(p for p in bundled_cases() if "fig09" in p.name))


def _twice(argv, capsys):
    outputs = []
    for _ in range(2):
        assert main(argv) == 0
        outputs.append(capsys.readouterr().out)
    return outputs


@pytest.mark.parametrize("argv", fast_first([
    ["nodes", "--json", "--scenario", "dialysis_unit"],
    ["consult", CASE, "--json", "--draws", "50", "--seed", "5"],
    ["priors", "--json"],
    ["cases", "--json"],
    ["validate", "--json"],  # the default 1000 draws: with fewer, a target at the edge of its interval can flip
], keep=2))
def test_json_is_byte_identical_and_stamped(capsys, argv):
    first, second = _twice(argv, capsys)
    assert first == second
    payload = json.loads(first)
    assert payload["version"] == __version__
    assert payload["priors_sha256"] == load_priors().checksum
    assert payload["scenario"]
    if argv[0] == "nodes":
        assert payload["scenario"] == "dialysis_unit"


def test_export_metadata_is_byte_identical(tmp_path, capsys):
    texts = []
    for _ in range(2):
        assert main(["export", "--format", "xdsl", "--out", str(tmp_path / "n.xdsl"), "--no-check"]) == 0
        texts.append(((tmp_path / "n.xdsl").read_bytes(), (tmp_path / "n.xdsl.json").read_text()))
    assert texts[0] == texts[1]
    meta = json.loads(texts[0][1])
    assert meta["scenario"] == "general_population" and meta["version"] == __version__


@pytest.mark.parametrize("argv, scenario", fast_first([
    (["lesson", "base-rates", "--json"], None),
    (["sweep", "prevalence.gout", "--from", "0.01", "--to", "0.05", "--steps", "2", "--draws", "4", "--json"],
     "general_population"),
    (["whatif", "--scenario", "dialysis_unit", "--json"], "dialysis_unit"),
    (["teach", CASE, "--json"], None),
    (["corpus", "--json"], None),
], keep=2, several=True))
def test_every_json_output_carries_the_stamp(capsys, argv, scenario):
    """The what-if, teaching and corpus commands name the model behind their numbers too."""
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["version"] == __version__
    assert payload["priors_sha256"] == load_priors().checksum
    assert "scenario" in payload
    if scenario:
        assert payload["scenario"] == scenario
