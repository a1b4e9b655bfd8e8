"""What the web page computes: plain data in, JSON-ready dicts out, no HTTP.

Every answer of the page comes from here, so that it can be tested without a browser:

* :func:`page_metadata`: the vocabulary grouped as the page shows it, scenarios, bundled cases;
* :func:`quick_differential` (exact posteriors and evidence impact, tens of milliseconds) and
  :func:`full_consultation` (``Model.consult`` with intervals over
  :data:`INTERACTIVE_DRAWS` parameter draws and the next best tests);
* :func:`case_from_upload` and :func:`bundled_case`: case files, validated against the vocabulary;
* :func:`consultation_report`: the HTML report of ``report.write_report``, in a temporary folder;
* :func:`walkthrough_steps`, :func:`lesson_data`, :func:`network_diagram`: the teaching view;
* :func:`case_mix` and :func:`sweep`: the what-if view. A sweep varies the occurrence of one
  condition in a scenario through the command line's own sweep (:func:`whatif.sweep` of
  ``prevalence.CONDITION``), so the page and ``calcinosis sweep`` give the same numbers.

Computations hold one lock: the engines and their caches are shared and not thread-safe.
"""

from __future__ import annotations

import tempfile
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ... import __version__
from ...analyses.api import Model, bundled_model
from ...analyses.consultation import DEFAULT_DRAWS, DEFAULT_SEED, DISCLAIMER
from ...errors import CalcinosisError, EvidenceError, ScenarioError, allowed, suggestion
from ...data.evidence import Case, bundled_cases, case_from_mapping
from ...analyses.explain import evidence_impact
from ...inference.posteriors import require_calcification
from ...network.assembly import CALCIFICATION, get_scenario
from ...foundation.paths import file_stem
from ...data.priors import OTHER_CAUSES, Priors, row_interval
from ...analyses.whatif import PRESENT, sweep as whatif_sweep
from ...foundation.yamlio import parse_yaml

# Parameter draws of the intervals while the user clicks: about 0.3 s instead of about 2 s
# for the default; the downloaded report uses consultation.DEFAULT_DRAWS.
INTERACTIVE_DRAWS = 100
SWEEP_DRAWS = 40         # parameter draws per swept value (the band)
MAX_SWEEP_POINTS = 12
MAX_UPLOAD_BYTES = 100_000  # a case file is a few hundred bytes; this leaves room for long notes
CATEGORY_TITLES = {"context": "Context and risk factors", "clinical": "Clinical", "laboratory": "Laboratory",
                   "imaging": "Imaging"}

LOCK = threading.RLock()


def model() -> Model:
    """The page's model of the bundled priors: it owns every network and engine the page builds."""
    return bundled_model()


def priors() -> Priors:
    return model().priors


def _inference(scenario: str):
    return model().for_scenario(scenario).inference()


def _scenario_id(name: str | None) -> str:
    return get_scenario(priors(), name).id


def _evidence(raw) -> dict[str, str]:
    evidence = priors().vocabulary.check_evidence(raw or {}, "page evidence")
    require_calcification(evidence)
    return evidence


# --------------------------------------------------------------------------- metadata and cases
def page_metadata() -> dict:
    p = priors()
    vocabulary = p.vocabulary
    categories = [{"id": name, "title": CATEGORY_TITLES.get(name, name),
                   "findings": [{"id": f, "label": vocabulary.label(f), "states": list(vocabulary.findings[f])}
                                for f in ids if f != CALCIFICATION]}
                  for name, ids in vocabulary.categories.items()]
    categories.append({"id": "conditions", "title": "Known conditions",
                       "findings": [{"id": c, "label": e["label"], "states": ["absent", "present"]}
                                    for c, e in vocabulary.conditions.items()]})
    cases = []
    for path in bundled_cases():
        case = bundled_case(path.stem)
        cases.append({"stem": path.stem, "title": case.title})
    return {
        "version": __version__, "priors_sha256": p.checksum, "disclaimer": DISCLAIMER,
        "interactive_draws": INTERACTIVE_DRAWS,
        "credible_percent": p.settings.credible_percent,
        "report_draws": DEFAULT_DRAWS, "max_upload_bytes": MAX_UPLOAD_BYTES,
        "categories": categories,
        "conditions": [{"id": c, "label": e["label"], "group": e["group"]} for c, e in vocabulary.conditions.items()],
        "groups": vocabulary.groups,
        "scenarios": [{"id": s.id, "label": s.label, "description": s.description} for s in p.scenarios.values()],
        "cases": cases,
        "lessons": list(_lesson_names()),
    }


@lru_cache(maxsize=64)
def bundled_case(stem: str) -> Case:
    """A bundled case by file stem; only the files of ``evidence_examples/`` can be named."""
    paths = {p.stem: p for p in bundled_cases()}
    if stem not in paths:
        raise EvidenceError(f"no bundled case '{stem}'. Allowed: {allowed(paths)}.{suggestion(stem, paths)}")
    from ...data.evidence import load_case

    return load_case(paths[stem], priors().vocabulary)


def case_from_upload(name: str, text: str) -> Case:
    """Validate an uploaded case file (its text): size, safe YAML, vocabulary."""
    name = Path(str(name or "uploaded case")).name[:80]  # a label for messages, never opened
    if len(text.encode("utf-8", errors="replace")) > MAX_UPLOAD_BYTES:
        raise EvidenceError(f"{name}: the file is larger than {MAX_UPLOAD_BYTES:,} bytes; a case file is a short "
                            f"YAML text (see 'Writing a case file' in the README).")
    data = parse_yaml(text, EvidenceError, name)
    case = case_from_mapping(data, priors().vocabulary, name)
    if case.scenario is not None:
        try:
            get_scenario(priors(), case.scenario)
        except ScenarioError as exc:
            raise EvidenceError(f"{name}: {exc}") from None
    return case


def case_to_dict(case: Case) -> dict:
    return {"id": case.id, "title": case.title, "source": case.source, "scenario": case.scenario,
            "evidence": case.evidence, "assumed": list(case.assumed), "diagnosis": case.diagnosis,
            "note": case.note}


# --------------------------------------------------------------------------- consultation
def quick_differential(scenario: str | None, raw_evidence) -> dict:
    """Exact differential, groups and evidence impact (no intervals): what moves at once."""
    evidence = _evidence(raw_evidence)
    with LOCK:
        inference = _inference(_scenario_id(scenario))
        evidence.setdefault(CALCIFICATION, "present")
        result = inference.consult(evidence)
        impact = evidence_impact(inference, evidence)
    return {
        "scenario": result.scenario, "evidence": result.evidence, "leader": result.leader,
        "differential": result.differential.to_dict(orient="records"),
        "groups": result.groups.to_dict(orient="records"),
        "other_causes": result.other_causes,
        "evidence_impact": impact.to_dict(orient="records"),
    }


def full_consultation(scenario: str | None, raw_evidence, draws: int = INTERACTIVE_DRAWS) -> dict:
    """``Model.consult(...).to_dict()``: intervals over ``draws`` parameter draws and next tests."""
    evidence = _evidence(raw_evidence)
    with LOCK:
        full = model().for_scenario(_scenario_id(scenario)).consult(evidence, draws=draws, seed=DEFAULT_SEED)
        payload = full.to_dict()
    payload["leader"] = full.result.leader
    return payload


def consultation_report(scenario: str | None, raw_evidence, case: dict | None = None,
                        draws: int | None = None) -> tuple[str, str]:
    """The HTML consultation report (by default with the default draws) and a file name for the download."""
    evidence = _evidence(raw_evidence)
    case = case or {}
    case_id = file_stem(case.get("id") if isinstance(case.get("id"), str) else "", fallback="web_consultation")
    title = case.get("title") if isinstance(case.get("title"), str) else "Consultation from the web page"
    source = case.get("source") if isinstance(case.get("source"), str) else "Evidence entered on the web page"
    assumed = tuple(a for a in case.get("assumed") or () if isinstance(a, str) and a in evidence)
    record = Case(id=case_id, title=title[:200], source=source[:300], evidence=evidence, assumed=assumed,
                  scenario=_scenario_id(scenario))
    from ..report import write_report

    with LOCK, tempfile.TemporaryDirectory(prefix="calcinosis-report-") as folder:
        report = write_report(priors(), record, folder, scenario=record.scenario, draws=draws or DEFAULT_DRAWS)
        text = report.html.read_text(encoding="utf-8")
    return text, f"calcinosis_report_{case_id}.html"


# --------------------------------------------------------------------------- teaching
def walkthrough_steps(scenario: str | None, raw_evidence, order: list[str] | None = None) -> dict:
    """The step-by-step walkthrough of the evidence with the arithmetic of every update."""
    from ...analyses.teaching import explain_update, walkthrough

    evidence = _evidence(raw_evidence)
    with LOCK:
        w = walkthrough(evidence, inference=_inference(_scenario_id(scenario)), order=order)
    payload = w.to_dict()
    payload["labels"] = w.labels
    payload["explanations"] = [[explain_update(u, s.finding, s.state) for u in s.updates] for s in w.steps[1:]]
    return payload


def _lesson_names():
    from ...analyses.teaching import LESSONS

    return LESSONS


@lru_cache(maxsize=8)
def lesson_data(name: str) -> dict:
    from ...analyses.teaching import lesson

    with LOCK:
        result = lesson(name)
    data = result.to_dict()
    data["tables"] = {k: _records(v) for k, v in result.tables.items()}
    return data


def _records(table) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def _plain(value):
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    return value if isinstance(value, (str, int, type(None))) else str(value)


@lru_cache(maxsize=1)
def network_diagram() -> dict:
    """Nodes (x, y, layer, group, kind, label) and arcs of the taught network (plots.teaching_graph)."""
    from ..plots import network_layout, teaching_graph

    with LOCK:
        network = _inference(_scenario_id(None)).network
        graph = teaching_graph(network)
        layout = network_layout(network, graph)
    nodes = [{"id": r.node, "layer": r.layer, "group": r.group if isinstance(r.group, str) else None, "label": r.label, "x": float(r.x), "y": float(r.y),
              "kind": graph.nodes[r.node].get("kind")} for r in layout.itertuples()]
    return {"nodes": nodes, "edges": [[a, b] for a, b in graph.edges()]}


# --------------------------------------------------------------------------- what-if
def case_mix(scenarios: list[str]) -> dict:
    """P(lesion_cause | calcification present) in each scenario, with intervals over draws."""
    from ...analyses.uncertainty import posterior_intervals

    rows = []
    with LOCK:
        for name in scenarios:
            scenario = get_scenario(priors(), name)
            result = _inference(scenario.id).consult({CALCIFICATION: "present"})
            bands = posterior_intervals(priors(), scenario, {}, INTERACTIVE_DRAWS, DEFAULT_SEED)
            bands = bands[bands["measure"] == "p_cause"].set_index("id")
            causes = [{"id": r.id, "label": r.label, "group": r.group, "p_cause": r.p_cause,
                       "low": float(bands.loc[r.id, "low"]), "high": float(bands.loc[r.id, "high"])}
                      for r in result.differential.itertuples()]
            causes.append({"id": OTHER_CAUSES, "label": "Other or idiopathic causes", "group": None,
                           "p_cause": result.other_causes["p_cause"],
                           "low": float(bands.loc[OTHER_CAUSES, "low"]), "high": float(bands.loc[OTHER_CAUSES, "high"])})
            rows.append({"scenario": scenario.id, "label": scenario.label, "causes": causes})
    return {"scenarios": rows, "draws": INTERACTIVE_DRAWS}


def default_sweep_range(scenario: str | None, condition: str) -> dict:
    """The stated interval of the condition's occurrence (the scenario's own figure if it has
    one) and the occurrence the network now implies in the scenario's population."""
    p = priors()
    _check_condition(condition)
    target = get_scenario(p, scenario)
    row = target.occurrence.get(condition) or p.conditions[condition].occurrence
    low, high = row_interval(row, "present", p.settings)
    with LOCK:
        current = float(_inference(target.id).posterior(condition, {})[1])
    return {"low": float(low), "high": float(high), "current": current, "stated": float(row.probabilities["present"]),
            "given": row.given}


def _check_condition(condition: str) -> None:
    conditions = priors().vocabulary.conditions
    if condition not in conditions:
        raise EvidenceError(f"'{condition}' is not a condition id. Allowed: {allowed(conditions)}."
                            f"{suggestion(condition, conditions)}")


def sweep(scenario: str | None, condition: str, low: float, high: float, points: int, target: str,
          measure: str, raw_evidence) -> dict:
    """``measure`` (p_cause or p_present) of ``target`` as the occurrence of ``condition`` in
    the scenario's population goes from ``low`` to ``high`` (log-spaced), with the point
    estimate and the central credible interval over parameter draws at each value: the
    command line's ``calcinosis sweep prevalence.CONDITION --log`` (:func:`whatif.sweep`)."""
    p = priors()
    _check_condition(condition)
    if target != OTHER_CAUSES:
        _check_condition(target)
    if measure not in ("p_cause", "p_present") or (measure == "p_present" and target == OTHER_CAUSES):
        raise EvidenceError(f"measure: '{measure}' is not valid here. Allowed: 'p_cause', 'p_present' "
                            f"(other causes have only p_cause).")
    if not (isinstance(points, int) and 2 <= points <= MAX_SWEEP_POINTS):
        raise EvidenceError(f"points: give a whole number from 2 to {MAX_SWEEP_POINTS}; got {points!r}.")
    if not (0 < low < high <= 1):
        raise ScenarioError(f"sweep range: need 0 < low < high <= 1 (probabilities of the condition being "
                            f"present); got low={low!r}, high={high!r}.")
    evidence = _evidence(raw_evidence)
    evidence.setdefault(CALCIFICATION, "present")
    if evidence[CALCIFICATION] != "present":
        raise EvidenceError("evidence: a sweep of the causes needs soft_tissue_calcification=present.")
    base = get_scenario(p, scenario)
    given = ",".join(f"{node}={state}" for node, state in evidence.items() if node != CALCIFICATION)
    output = (PRESENT if measure == "p_present" else "") + target + (f"|{given}" if given else "")
    with LOCK:
        table = whatif_sweep(p, f"prevalence.{condition}", low, high, points, outputs=[output], scenario=base,
                             draws=SWEEP_DRAWS, seed=DEFAULT_SEED, log=True)
    return {"scenario": base.id, "condition": condition, "target": target, "measure": measure,
            "values": table["value"].tolist(), "point": table["p"].tolist(), "low": table["low"].tolist(),
            "high": table["high"].tolist(), "draws": SWEEP_DRAWS, "credible_mass": p.settings.credible_mass,
            "evidence": evidence}


__all__ = ["CalcinosisError", "INTERACTIVE_DRAWS", "page_metadata", "bundled_case", "case_from_upload",
           "quick_differential", "full_consultation", "consultation_report", "walkthrough_steps", "lesson_data",
           "network_diagram", "case_mix", "default_sweep_range", "sweep"]
