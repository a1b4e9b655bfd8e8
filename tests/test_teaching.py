"""Teaching: the step-by-step walkthrough, its arithmetic, the lessons and the quiz."""

import json
import re
from pathlib import Path

import networkx as nx
import pytest

from calcinosis import load_case
from calcinosis.analyses import teaching
from calcinosis.interfaces.cli import main

from .conftest import ROOT, inference_for

FIG9 = ROOT / "evidence_examples" / "paparo2011_fig09_calcified_tophus_peroneal_ckd.yaml"
FIG4 = ROOT / "evidence_examples" / "paparo2011_fig04_ssc_thumb_pulp.yaml"


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err




def teach_json(capsys, *extra):
    status, out, err = run(capsys, "teach", FIG9, "--json", *extra)
    assert status == 0, err
    return json.loads(out)


def test_walkthrough_final_equals_direct_inference_in_any_order(capsys):
    first = teach_json(capsys)
    order = list(reversed(first["order"]))
    second = teach_json(capsys, "--order", ",".join(order))
    direct = inference_for("general_adult").consult(load_case(FIG9).evidence).differential
    for payload in (first, second):
        assert {"steps", "final"} <= set(payload)
        assert {"finding", "state", "likelihood_ratio", "posterior"} <= set(payload["steps"][0])
        assert len(payload["steps"]) == 6
        for row in direct.itertuples():
            assert payload["final"][row.id] == pytest.approx(row.p_cause, abs=1e-9)
        assert payload["steps"][-1]["posterior"] == payload["final"]
    assert [s["finding"] for s in second["steps"]] == order
    # different intermediate steps: after the first finding the posteriors differ
    gout_first = [s["posterior"]["gout"] for s in first["steps"][:-1]]
    gout_second = [s["posterior"]["gout"] for s in second["steps"][:-1]]
    assert all(abs(a - b) > 1e-3 for a, b in zip(gout_first, gout_second))
    # and the same finding has a different likelihood ratio at a different step
    lr_first = {s["finding"]: s["likelihood_ratio"]["gout"] for s in first["steps"]}
    lr_second = {s["finding"]: s["likelihood_ratio"]["gout"] for s in second["steps"]}
    assert lr_first["gout_flares_history"] != pytest.approx(lr_second["gout_flares_history"], rel=0.05)


def test_odds_times_likelihood_ratio_is_the_posterior_exactly():
    walk = teaching.case_walkthrough(FIG4, top=3)
    for step in walk.steps[1:]:
        for u in step.updates:
            assert u.prior_odds * u.likelihood_ratio == pytest.approx(u.posterior_odds, rel=1e-9)
            assert u.posterior_odds / (1 + u.posterior_odds) == pytest.approx(step.posterior[u.condition], rel=1e-7)
            assert u.prior == pytest.approx(walk.steps[step.index - 1].posterior[u.condition], rel=1e-7)


NUM = r"([0-9.]+(?:e[-+][0-9]+)?)"


def test_printed_arithmetic_multiplies_out_to_the_printed_posterior(capsys):
    status, out, _ = run(capsys, "teach", FIG9)
    assert status == 0
    lines = re.findall(rf"posterior odds = prior odds x LR = {NUM} x {NUM} = {NUM}  ->  P\(H\) = odds / \(1 \+ odds\) = "
                       rf"{NUM}%", out)
    ratios = re.findall(rf"LR = P\(.*?\) / P\(.*?\) = {NUM} / {NUM} = {NUM}", out)
    assert len(lines) == 6 * 3 and len(ratios) == 6 * 3
    for prior, lr, post, percent in lines:
        prior, lr, post, percent = map(float, (prior, lr, post, percent))
        assert prior * lr == pytest.approx(post, rel=0.015)
        assert post / (1 + post) == pytest.approx(percent / 100, rel=0.01)
    for given_h, given_not_h, lr in ratios:
        assert float(given_h) / float(given_not_h) == pytest.approx(float(lr), rel=0.015)
    # the printed posterior is the next step's printed prior
    befores = re.findall(rf"before: P\(H\) = {NUM}%", out)
    assert befores[3] == lines[0][3]
    assert out.count("not a diagnosis") == 1


def test_teach_figure_and_order_errors(capsys, tmp_path):
    figure = tmp_path / "trajectory.png"
    status, out, _ = run(capsys, "teach", FIG9, "--figure", figure)
    assert status == 0 and figure.stat().st_size > 10_000
    status, _, err = run(capsys, "teach", FIG9, "--order", "gout_flare_history")
    assert status == 2 and "Did you mean 'gout_flares_history'" in err and "Traceback" not in err
    status, _, err = run(capsys, "teach", FIG9, "--order", "sex,sex")
    assert status == 2 and "twice" in err
    status, _, err = run(capsys, "teach", FIG9, "--figure", tmp_path / "x.pdf")
    assert status == 2 and ".png or .svg" in err


def test_d_separation_lesson_agrees_with_networkx_and_pgmpy():
    network = inference_for("general_adult").network
    lesson = teaching.lesson("d-separation")
    questions = lesson.data["questions"]
    assert {q["independent"] for q in questions} == {True, False}
    for q in questions:
        observed = set(q["given"])
        separated = nx.is_d_separator(network.graph, {q["x"]}, {q["y"]}, observed)
        assert q["independent"] == separated
        assert q["independent"] == (not network.model.is_dconnected(q["x"], q["y"], observed=list(observed)))
        if q["independent"]:
            n = q["numbers"]
            assert n["p_x_given"] == pytest.approx(n["p_x_given_y"], rel=1e-9)
        else:  # the active trail is a real trail of the graph
            trail = q["active_trail"]
            assert trail[0] == q["x"] and trail[-1] == q["y"]
            assert all(network.graph.has_edge(a, b) or network.graph.has_edge(b, a) for a, b in zip(trail, trail[1:]))


def test_d_separation_agrees_on_random_questions():
    import random

    network = inference_for("general_adult").network
    graph = network.graph
    nodes = sorted(graph.nodes)
    rng = random.Random(7)
    for _ in range(300):
        x, y, *given = rng.sample(nodes, 2 + rng.randrange(4))
        expected = nx.is_d_separator(graph, {x}, {y}, set(given))
        assert (teaching.active_trail(graph, x, y, given) is None) == expected


def test_lessons_say_what_they_teach(capsys):
    explaining = teaching.lesson("explaining-away").tables["autoimmune causes"]
    assert (explaining["p_cause, calcification + CKD"] < explaining["p_cause, calcification"]).all()
    # p_present: CKD is associated with some of these diseases in the population (through age and sex);
    # given the calcification that association is explained away, so CKD raises p_present less (or
    # lowers it) than it raises P(present) in the population.
    given_calcification = explaining["p_present, calcification + CKD"] / explaining["p_present, calcification"]
    in_population = explaining["P(present | CKD), population"] / explaining["P(present), population"]
    assert (given_calcification < in_population).all()
    assert (given_calcification < 1).sum() >= 4
    base = teaching.lesson("base-rates").data["rows"]
    assert base[1]["posterior_p"] > 5 * base[0]["posterior_p"]
    order = teaching.lesson("order").data
    assert order["final"]["file order"] == pytest.approx(order["final"]["other order"], rel=1e-9)
    assert order["lr_product"]["file order"] == pytest.approx(order["lr_product"]["other order"], rel=1e-9)
    value = teaching.lesson("test-value").data["answers"]
    assert value[1]["information_bits"] > value[0]["information_bits"] > value[2]["information_bits"]
    present = teaching.lesson("present-vs-cause").tables["differential"].set_index("condition")
    ckd = present.loc["Advanced chronic kidney disease / dialysis"]
    assert ckd["p_present"] == pytest.approx(1.0) and ckd["p_cause"] < 0.01
    for name in teaching.LESSONS:
        status, out, err = run(capsys, "lesson", name)
        assert status == 0, err
        assert out.count("not a diagnosis") == 1
    status, out, _ = run(capsys, "lesson", "d-separation", "--json", "--ask", "raynaud_phenomenon,skin_thickening",
                         "--given", "systemic_sclerosis=present")
    assert status == 0 and json.loads(out)["data"]["questions"][0]["independent"] is False
    status, _, err = run(capsys, "lesson", "basrates")
    assert status == 2 and "Did you mean 'base-rates'" in err
    status, _, err = run(capsys, "lesson", "d-separation", "--ask", "raynaud,skin_thickening")
    assert status == 2 and "unknown node 'raynaud'" in err


def test_quiz_reveals_the_network_answer():
    questions = teaching.quiz_questions()
    assert len(questions) >= 5
    q = questions[1]
    answer = teaching.quiz_answer(q)
    text = teaching.reveal(q, 0.5)
    assert teaching.percent(answer) in text and "too high" in text
    with pytest.raises(teaching.EvidenceError):
        teaching.reveal(q, 250)


def test_lessons_and_quiz_are_data_checked_against_the_vocabulary(tmp_path):
    """lessons.yaml holds what the lessons and the quiz show; a misspelt id is refused with
    the file, the key and the closest id."""
    import yaml as yamllib

    from calcinosis.errors import EvidenceError

    source = Path(teaching.__file__).with_name("lessons.yaml")
    content = yamllib.safe_load(source.read_text(encoding="utf-8"))
    assert [q.prompt for q in teaching.quiz_questions()] == [q["prompt"] for q in content["quiz"]]
    content["quiz"][1]["evidence"] = {"lesion_sit": "hand_digits"}
    broken = tmp_path / "lessons.yaml"
    broken.write_text(yamllib.safe_dump(content), encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"lessons.yaml: quiz\[1\].*'lesion_sit'.*Did you mean 'lesion_site'"):
        teaching._content(broken)
