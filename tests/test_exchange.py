"""Exchange formats: each written file reads back to the same posteriors on every bundled case."""

import json

import pytest

from calcinosis import load_priors
from calcinosis.interfaces.cli import main
from calcinosis.inference.exchange import export_network, safe_state

from .conftest import fast_first, inference_for


@pytest.fixture(scope="module")
def priors():
    return load_priors()


@pytest.mark.parametrize("fmt", fast_first(["bif", "xmlbif", "xdsl", "uai"]))
def test_round_trip_same_posteriors(priors, tmp_path, fmt):
    result = export_network(priors, fmt, tmp_path / f"calcinosis.{fmt}")
    assert result.cases_checked >= 30
    assert result.max_abs_difference <= 1e-9


def test_net_round_trip(priors, tmp_path):
    """Hugin NET opens in another tool: pyAgrum reads the file back (pgmpy's NET reader takes
    over ten minutes on this network). pgmpy's NET writer rounds each probability to a few
    significant digits, so the read-back posteriors agree to that precision, not to 1e-9."""
    result = export_network(priors, "net", tmp_path / "calcinosis.net")
    assert result.reader.startswith("pyAgrum")
    assert result.cases_checked >= 30
    assert result.max_abs_difference <= 1e-3


def test_net_is_written_with_identifier_states(priors, tmp_path):
    path = tmp_path / "calcinosis.net"
    export_network(priors, "net", path, check=False)
    text = path.read_text()
    assert "node lesion_cause" in text and "|2+" not in text and "_n2plus" in text


def test_state_names_become_identifiers():
    assert safe_state("gout|2+") == "gout_n2plus"
    assert safe_state("present") == "present"


def test_export_command_writes_metadata(tmp_path, capsys):
    out = tmp_path / "net.uai"
    assert main(["export", "--format", "uai", "--out", str(out), "--scenario", "dialysis_unit", "--no-check"]) == 0
    meta = json.loads((tmp_path / "net.uai.json").read_text())
    assert meta["scenario"] == "dialysis_unit" and meta["priors_sha256"] and meta["version"]
    assert len(meta["uai_variables"]) == len(inference_for("dialysis_unit").network.nodes)
    first = load_priors().attribution_chain[0]
    assert meta["state_names"]["attribution__01"][f"{first}|2+"] == f"{first}_n2plus"


def test_export_to_a_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["export", "--format", "bif", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
