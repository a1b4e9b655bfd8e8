"""The public vocabulary is a contract: every id and state is accepted as spelled."""

import pytest
import yaml

from calcinosis import EvidenceError, load_vocabulary
from calcinosis.data.vocabulary import CONDITION_STATES

from .conftest import ROOT, SHARED_VOCABULARY


CONTRACT = ROOT / "tests" / "contract" / "vocabulary.yaml"  # the public vocabulary as published, kept here


def contract():
    return yaml.safe_load(CONTRACT.read_text())


def test_the_kept_contract_is_the_published_one():
    """The copy in the repository is the published vocabulary (checked where it is at hand)."""
    if not SHARED_VOCABULARY.exists():
        pytest.skip("the published vocabulary is not beside this checkout")
    assert yaml.safe_load(SHARED_VOCABULARY.read_text()) == contract()


def test_project_copy_keeps_the_contract():
    spec, ours = contract(), yaml.safe_load((ROOT / "priors" / "vocabulary.yaml").read_text())
    for key in ("groups", "conditions", "findings"):
        for node, value in spec[key].items():
            assert ours[key][node] == value, f"{key}.{node} differs from the contract"


def test_every_node_of_the_contract_is_in_the_network(engine):
    spec = contract()
    nodes = engine.network.nodes
    for cid in spec["conditions"]:
        assert nodes[cid].states == CONDITION_STATES
    for fid, states in spec["findings"].items():
        assert list(nodes[fid].states) == states, fid


def test_every_id_and_state_is_accepted_as_evidence(engine):
    spec = contract()
    vocabulary = load_vocabulary()
    for fid, states in spec["findings"].items():
        for state in states:
            assert vocabulary.check_evidence({fid: state}) == {fid: state}
    for cid in spec["conditions"]:
        for state in CONDITION_STATES:
            assert vocabulary.check_evidence({cid: state}) == {cid: state}


def test_each_state_of_each_finding_is_possible_in_a_consultation(engine):
    """Every single finding state can be entered in a consultation of an adult
    (age_group child is impossible in the adult default population by definition)."""
    spec = contract()
    for fid, states in spec["findings"].items():
        for state in states:
            evidence = {fid: state}
            if fid == "age_group" and state == "child":
                continue
            assert engine.is_possible({**evidence, "soft_tissue_calcification": evidence.get(
                "soft_tissue_calcification", "present")}), (fid, state)


@pytest.mark.parametrize("evidence, fragment", [
    ({"serum_phosphat": "high"}, "Did you mean 'serum_phosphate'?"),
    ({"serum_phosphate": "hihg"}, "Allowed: 'low', 'normal', 'high'. Did you mean 'high'?"),
    ({"ana": True}, "YAML reads yes/no/true/false as booleans"),
    ({"lesion_site": "wrist"}, "state 'wrist' is not valid for node 'lesion_site'"),
    ({3: "present"}, "unknown node 3"),
])
def test_bad_evidence_names_key_state_and_closest(evidence, fragment):
    with pytest.raises(EvidenceError) as info:
        load_vocabulary().check_evidence(evidence, "case.yaml: evidence")
    assert fragment in str(info.value)
    assert str(info.value).startswith("case.yaml: evidence")


def test_evidence_must_be_a_mapping():
    with pytest.raises(EvidenceError, match="must be a mapping"):
        load_vocabulary().check_evidence(["ana", "positive"])
