"""Population what-ifs: scenario algebra, case mix, test values, interventions, sweeps."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcinosis import CompiledEngine, ScenarioError, build_tables
from calcinosis.interfaces.cli import main
from calcinosis.errors import EvidenceError
from calcinosis.network.assembly import CALCIFICATION, LESION_CAUSE
from calcinosis.network.scenarios import build_whatif, intervene
from calcinosis.analyses.uncertainty import ParameterDraws
from calcinosis.analyses.whatif import compare, engine_for_whatif, parse_output, summarize, sweep

DRAWS = 20


@pytest.fixture(scope="module")
def general(priors):
    return summarize(priors, "general_adult", draws=DRAWS)


@pytest.fixture(scope="module")
def dialysis(priors):
    return summarize(priors, "dialysis_unit", draws=DRAWS)


def test_case_mix_and_group_mix_sum_to_one(general, dialysis):
    for summary in (general, dialysis):
        assert summary.case_mix["p"].sum() == pytest.approx(1, abs=1e-9)
        assert summary.group_mix["p"].sum() + summary.case_mix.set_index("id").loc["other_causes", "p"] \
            == pytest.approx(1, abs=1e-9)
        assert (summary.case_mix["low"] <= summary.case_mix["high"]).all()
    assert 1_000 < general.per_100k < 100_000
    assert general.interval[0] < general.p_calcification < general.interval[1]


def test_likelihood_ratios_and_predictive_values_follow_bayes(priors, general):
    signs = general.signs
    signs = signs[np.isfinite(signs["lr_pos"]) & np.isfinite(signs["lr_neg"])]  # 0/0 for states absent in adults
    assert len(signs) > 1000
    assert np.allclose(signs["lr_pos"], signs["sensitivity"] / (1 - signs["specificity"]), rtol=1e-9)
    assert np.allclose(signs["lr_neg"], (1 - signs["sensitivity"]) / signs["specificity"], rtol=1e-9)
    # PPV and NPV against direct inference: P(group | calcification, finding state).
    engine = CompiledEngine(build_tables(priors, "general_adult"))
    causes = engine.tables.states[LESION_CAUSE]
    metabolic = [c for c, e in priors.vocabulary.conditions.items() if e["group"] == "metabolic_acquired"]
    for finding, state in [("sedimentation_sign", "present"), ("serum_phosphate", "high"), ("lesion_site", "hand_digits")]:
        row = signs[(signs.finding == finding) & (signs.state == state) & (signs.group == "metabolic_acquired")].iloc[0]
        rows = [{CALCIFICATION: "present", finding: state}]
        others = [s for s in priors.vocabulary.findings[finding] if s != state]
        direct = engine.query(rows, [LESION_CAUSE]).marginals[LESION_CAUSE][0, 0]
        assert row.ppv == pytest.approx(sum(direct[causes.index(c)] for c in metabolic), rel=1e-7)
        # NPV: P(not group | calcification, finding in any other state), via soft evidence.
        lam = np.array([[float(s in others) for s in priors.vocabulary.findings[finding]]])
        given_not = engine.query([{CALCIFICATION: "present"}], [LESION_CAUSE],
                                 lambdas={finding: lam}).marginals[LESION_CAUSE][0, 0]
        assert row.npv == pytest.approx(1 - sum(given_not[causes.index(c)] for c in metabolic), rel=1e-7)


def test_more_ckd_means_a_more_metabolic_case_mix(priors, general):
    doubled = summarize(priors, build_whatif(priors, "general_adult", ["prevalence.chronic_kidney_disease=0.011"]),
                        draws=DRAWS)
    share = lambda s: s.group_mix.set_index("id").loc["metabolic_acquired", "p"]  # noqa: E731
    assert share(doubled) > share(general)
    mix = lambda s: s.case_mix.set_index("id")["p"]  # noqa: E731
    assert mix(doubled)["chronic_kidney_disease"] > 1.5 * mix(general)["chronic_kidney_disease"]


def test_dialysis_ranks_ckd_related_causes_far_higher(general, dialysis):
    rank = lambda s, c: list(s.case_mix["id"]).index(c) + 1  # noqa: E731
    for cause in ("chronic_kidney_disease", "gout"):
        assert rank(dialysis, cause) <= 3 < rank(general, cause) or rank(dialysis, cause) < rank(general, cause)
    ckd = lambda s: s.case_mix.set_index("id").loc["chronic_kidney_disease", "p"]  # noqa: E731
    assert ckd(dialysis) > 20 * ckd(general)
    table = compare.__globals__["Comparison"]([general, dialysis]).table("group_mix")
    assert table.loc["metabolic_acquired", "diff: dialysis_unit"] > 0.1


def _p(engine, evidence, node, state="present"):
    marginal = engine.query([evidence], [node]).marginals[node][0, 0]
    return float(marginal[engine.tables.states[node].index(state)])


def test_intervention_differs_from_conditioning_on_a_confounded_pair(priors):
    tables = build_tables(priors, "general_adult")
    seen = CompiledEngine(tables)
    done = CompiledEngine(intervene(tables, {"chronic_kidney_disease": "present"}))
    assert tables.parents["chronic_kidney_disease"]  # the original tables are not modified
    baseline = _p(seen, {}, "calcific_tendinitis")
    # Age and sex cause both: CKD patients are older and more often men, among whom tendinitis is rarer ...
    assert _p(seen, {"chronic_kidney_disease": "present"}, "calcific_tendinitis") < 0.95 * baseline
    # ... but giving someone CKD does not cause tendinitis.
    assert _p(done, {}, "calcific_tendinitis") == pytest.approx(baseline, rel=1e-9)
    # CKD causes gout: do raises it, but less than conditioning (which also selects older men).
    gout_do, gout_seen = _p(done, {}, "gout"), _p(seen, {"chronic_kidney_disease": "present"}, "gout")
    assert _p(seen, {}, "gout") < gout_do < gout_seen
    # Intervening on an effect leaves its causes alone; conditioning on it does not.
    on_effect = CompiledEngine(intervene(tables, {"serum_calcium": "high"}))
    hpt = _p(seen, {}, "primary_hyperparathyroidism")
    assert _p(on_effect, {}, "primary_hyperparathyroidism") == pytest.approx(hpt, rel=1e-9)
    assert _p(seen, {"serum_calcium": "high"}, "primary_hyperparathyroidism") > 5 * hpt


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_interventions_equal_pgmpy_do(priors, data):
    """do(X = x) by graph surgery on the compiled tables equals pgmpy's ``do`` (incoming edges
    removed) followed by the evidence X = x, on the real network, to 1e-9."""
    from pgmpy.inference import VariableElimination

    from calcinosis import Model

    import networkx as nx

    tables = build_tables(priors, "general_adult")
    targets = ("gout", "serum_calcium", "calcific_tendinitis", LESION_CAUSE)
    graph = nx.DiGraph([(p, n) for n, ps in tables.parents.items() for p in ps])
    vocabulary = priors.vocabulary
    # A public node with causes of its own and an effect on some target: the surgery matters.
    candidates = sorted(n for n in [*vocabulary.findings, *vocabulary.conditions] if tables.parents.get(n)
                        and any(t in nx.descendants(graph, n) for t in targets))
    node = data.draw(st.sampled_from(candidates))
    state = data.draw(st.sampled_from(tables.states[node]))
    done = CompiledEngine(intervene(tables, {node: state}))
    reference = VariableElimination(Model(priors, "general_adult").to_pgmpy().do([node]))
    for target in [t for t in targets if t != node]:
        factor = reference.query([target], evidence={node: state}, show_progress=False)
        expected = [factor.values[factor.name_to_no[target][s]] for s in tables.states[target]]
        np.testing.assert_allclose(done.query([{}], [target]).marginals[target][0, 0], expected, atol=1e-9,
                                   err_msg=f"do({node}={state}), {target}")


def test_intervention_equals_conditioning_on_a_root(priors):
    whatif = build_whatif(priors, "general_adult", do=["high_dose_vitamin_d_intake=present"])
    done = engine_for_whatif(priors, whatif)
    seen = CompiledEngine(build_tables(priors, "general_adult"))
    for node in ("hypervitaminosis_d", "serum_calcium"):
        state = "present" if node == "hypervitaminosis_d" else "high"
        assert _p(done, {}, node, state) == pytest.approx(_p(seen, {"high_dose_vitamin_d_intake": "present"}, node, state),
                                                          rel=1e-9)


def test_scenario_algebra_validates_and_records_provenance(priors):
    whatif = build_whatif(priors, "general_adult", ["age_group=older", "prevalence.gout=0.08"])
    assert whatif.scenario.population["age_group"].probabilities["older"] == 1
    row = whatif.scenario.occurrence["gout"]
    assert row.source == "user_override" and "--set prevalence.gout=0.08" in row.locator
    low, high = row.interval["present"]
    assert low < 0.08 < high
    engine = engine_for_whatif(priors, whatif)
    assert _p(engine, {}, "gout") == pytest.approx(0.08, rel=1e-9)  # holds in the scenario's own population
    assert _p(engine, {}, "age_group", "older") == 1
    with pytest.raises(ScenarioError, match="Did you mean 'prevalence.chronic_kidney_disease'"):
        build_whatif(priors, "general_adult", ["prevalence.chronic_kidny_disease=0.1"])
    with pytest.raises(ScenarioError, match="Did you mean 'older'"):
        build_whatif(priors, "general_adult", ["age_group=olde"])
    with pytest.raises(ScenarioError, match=r"\[0, 1\]"):
        build_whatif(priors, "general_adult", ["prevalence.gout=2"])
    with pytest.raises(ScenarioError, match="is a finding"):
        build_whatif(priors, "general_adult", ["serum_calcium=high"])
    with pytest.raises(ScenarioError, match="Did you mean 'dialysis_unit'"):
        build_whatif(priors, "dialysis_units")
    with pytest.raises(EvidenceError, match="Did you mean 'serum_calcium'"):
        build_whatif(priors, "general_adult", do=["serum_calcum=high"])


def test_custom_scenario_file_extends_a_preset(priors, tmp_path):
    path = tmp_path / "older_dialysis.yaml"
    path.write_text("base: dialysis_unit\nid: older_dialysis\npopulation:\n  age_group:\n"
                    "    probabilities: {child: 0, young_adult: 0, middle_aged: 0.2, older: 0.8}\n"
                    "    concentration: 50\n    source: user_override\n    locator: local audit 2024\n"
                    "    kind: literature\n")
    whatif = build_whatif(priors, str(path))
    assert whatif.scenario.occurrence["chronic_kidney_disease"].probabilities["present"] == 1
    assert _p(engine_for_whatif(priors, whatif), {}, "age_group", "older") == pytest.approx(0.8)
    path.write_text("base: dialysis_unit\npopulaton: {}\n")
    with pytest.raises(ScenarioError, match="Did you mean 'population'"):
        build_whatif(priors, str(path))


def test_draws_do_not_depend_on_order_or_chunking(priors):
    row = priors.conditions["gout"].occurrence
    whole = ParameterDraws(priors, 30, 7).probabilities(row)["present"]
    other = ParameterDraws(priors, 30, 7)
    other.probabilities(priors.conditions["chronic_kidney_disease"].occurrence)
    assert np.array_equal(other.probabilities(row)["present"], whole)
    assert np.array_equal(ParameterDraws(priors, 30, 7, start=10, stop=20).probabilities(row)["present"], whole[10:20])
    assert not np.array_equal(ParameterDraws(priors, 30, 8).probabilities(row)["present"], whole)


def test_the_page_and_the_command_line_give_the_same_case_mix_interval(priors):
    """One draws mechanism: the web page's case mix and `calcinosis whatif` agree for the
    same scenario, draws and seed."""
    from calcinosis.foundation.defaults import DEFAULT_SEED
    from calcinosis.interfaces.web import service

    page = {c["id"]: c for c in service.case_mix(["dialysis_unit"])["scenarios"][0]["causes"]}
    command_line = summarize(priors, "dialysis_unit", draws=service.INTERACTIVE_DRAWS, seed=DEFAULT_SEED)
    for row in command_line.case_mix.itertuples():
        assert page[row.id]["p_cause"] == pytest.approx(row.p, abs=1e-9)
        assert [page[row.id]["low"], page[row.id]["high"]] == pytest.approx([row.low, row.high], abs=1e-6), row.id


def test_sweep_traces_outputs_with_bands(priors):
    table = sweep(priors, "prevalence.chronic_kidney_disease", 0.0055, 0.022, 3,
                  outputs=["metabolic|sedimentation_sign=present", "p_calcification"], draws=DRAWS)
    metabolic = table[table.output.str.startswith("metabolic")]
    assert metabolic["p"].is_monotonic_increasing
    assert (metabolic["low"] <= metabolic["high"]).all()
    with pytest.raises(EvidenceError, match="Did you mean 'dystrophic'"):
        parse_output(priors, "dystrophc|sedimentation_sign=present")
    with pytest.raises(EvidenceError, match="Did you mean 'gout'"):
        parse_output(priors, "present:gut")


def test_whatif_cli_json_and_errors(tmp_path, capsys):
    assert main(["whatif", "--scenario", "rheumatology_clinic", "--draws", "4", "--json",
                 "--csv", str(tmp_path / "w.csv")]) == 0
    payload = json.loads(capsys.readouterr().out)
    for key in ("scenario", "p_calcification_per_100k", "case_mix", "group_mix", "signs"):
        assert key in payload
    assert set(payload["case_mix"][0]) >= {"id", "group", "p", "interval"}
    assert set(payload["group_mix"][0]) >= {"id", "p", "interval"}
    assert set(payload["signs"][0]) >= {"finding", "state", "group", "sensitivity", "specificity", "lr_pos",
                                        "lr_neg", "ppv", "npv"}
    assert (tmp_path / "w.csv").read_text().startswith("section,scenario,id")
    assert main(["whatif", "--set", "prevalence.goutt=0.1", "--draws", "4"]) == 2
    assert "Did you mean 'prevalence.gout'" in capsys.readouterr().err
    assert main(["sweep", "prevalence.gout", "--from", "0.02", "--to", "0.08", "--steps", "2", "--draws", "4",
                 "--figure", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 5000
