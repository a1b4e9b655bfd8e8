"""The model card: what the network is for, how it is built, how well it reproduces the
literature and the bundled cases, and where it is weak, generated from the code and priors.

``build_card(priors)`` returns the Markdown text and the figures; ``write_card`` writes
``reports/model-card.md`` and ``reports/model-card/*.png``. Everything in it is computed
(no hand-written number), deterministic for the same priors, version and seed, and the
test suite checks that the committed card is what the command generates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from .. import __version__
from ..analyses.consultation import DISCLAIMER
from ..inference.engine import CompiledEngine
from ..foundation.formatting import fine_percent
from ..network.assembly import DEFAULT_SCENARIO, LESION_CAUSE, build_network
from ..data.priors import Priors
from ..analyses.targets import pass_rule, validate_targets
from ..foundation.defaults import DEFAULT_DRAWS, DEFAULT_SEED

FIGURE_DIR = "model-card"
DRAWS, SEED = DEFAULT_DRAWS, DEFAULT_SEED


@dataclass
class Card:
    markdown: str
    figures: dict[str, bytes] = field(default_factory=dict)
    targets: pd.DataFrame | None = None


def structure(priors: Priors, scenario: str = DEFAULT_SCENARIO) -> dict:
    """Node counts by kind, arcs, the largest table and two treewidth figures."""
    network = build_network(priors, scenario)
    kinds = pd.Series([n.kind for n in network.nodes.values()]).value_counts()
    tables = network.tables
    largest = max(tables.arrays, key=lambda n: tables.arrays[n][0].size)
    engine = CompiledEngine(tables)
    observed = sorted(n for n in priors.vocabulary.nodes if n in tables.states)
    plan = engine.plan(observed, [LESION_CAUSE])
    clique = max(plan.cliques, key=len)
    moral = nx.moral_graph(engine.graph).to_undirected()
    bound, _ = nx.algorithms.approximation.treewidth_min_fill_in(moral)
    return {"nodes": len(network.nodes), "kinds": {k: int(v) for k, v in kinds.items()},
            "arcs": engine.graph.number_of_edges(), "largest_table": (largest, int(tables.arrays[largest][0].size)),
            "largest_clique": len(clique), "largest_clique_entries": int(plan.largest_clique),
            "treewidth_bound": int(bound)}


def provenance_tables(priors: Priors) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts and shares by kind, judgement parameters grouped by file and node)."""
    table = priors.parameter_table()
    counts = table["kind"].value_counts().reindex(["literature", "derived", "judgement"], fill_value=0)
    summary = pd.DataFrame({"kind": counts.index, "parameters": counts.values,
                            "share": counts.values / len(table)})
    judged = table[table["kind"] == "judgement"]
    grouped = (judged.groupby(["file", "node"], sort=True)
               .agg(parameters=("parameter", "size"), sources=("source", lambda s: ", ".join(sorted(set(s)))))
               .reset_index())
    return summary, grouped


def influential(joined: pd.DataFrame, top: int = 12) -> pd.DataFrame:
    """Parameters that move the leader's p_cause most over the cases of ``joined``
    (:func:`calcinosis.analyses.sensitivity.top_parameters`), largest swing first."""
    # Swings equal to rounding error (two engines' last bits) are ties, broken by the parameter's name.
    best = (joined.assign(rank=joined["swing"].round(9))
            .sort_values(["rank", "parameter"], ascending=[False, True], kind="stable")
            .drop_duplicates("parameter").head(top))
    counts = joined.groupby("parameter")["case"].nunique()
    best = best.assign(cases=best["parameter"].map(counts))
    return best[["parameter", "kind", "source", "value", "low", "high", "swing", "case", "cause", "cases"]]


def _md(rows: list[list[str]]) -> str:
    def cell(c):
        return str(c).replace("|", "\\|").replace("\n", " ")
    head, *body = rows
    lines = ["| " + " | ".join(cell(c) for c in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def _targets_figure(targets: pd.DataFrame, mass: str) -> bytes:
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.32 * len(targets) + 1.2))
    y = np.arange(len(targets))[::-1]
    for yi, row in zip(y, targets.itertuples()):
        colour = "tab:blue" if row.passed else "tab:red"
        ax.plot([row.low, row.high], [yi, yi], color=colour, lw=3, solid_capstyle="butt")
        ax.plot([row.implied], [yi], "o", color=colour, ms=4)
        ax.plot([row.published_low, row.published_high], [yi - 0.25, yi - 0.25], color="black", lw=1.5,
                marker="|" if row.published_low == row.published_high else None, ms=8)
    ax.set_yticks(y, targets["target"])
    ax.set_xscale("logit")
    ax.set_xlabel(f"probability (logit scale): implied {mass} interval (colour) and published figure (black)")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def build_card(priors: Priors, evaluation=None) -> Card:
    """The model card's Markdown and figures (see the module docstring); ``evaluation``
    (the published cases, each in its own scenario) is computed when not given."""
    from ..data.corpus import load_corpus
    from ..analyses.evaluation import case_rankings, evaluate
    from .evaluation_report import FIGURES, png, section
    from ..data.evidence import bundled_cases, load_case
    from ..analyses.sensitivity import TOP as SENSITIVE_TOP, TRUSTED_KINDS, top_parameters, trusted_share

    if evaluation is None:
        corpus = load_corpus(None, priors.vocabulary)
        evaluation = evaluate(priors, corpus.cases, corpus, scenario_from_case=True)

    s = structure(priors)
    summary, judged = provenance_tables(priors)
    targets = validate_targets(priors, draws=DRAWS, seed=SEED)
    rankings = case_rankings()
    bundled = [load_case(p, priors.vocabulary) for p in bundled_cases()]
    sensitive = top_parameters(priors, bundled)
    top = influential(sensitive)
    trusted, distinct = trusted_share(sensitive)
    ranked = rankings.dropna(subset=["rank"])
    n_pass = int(targets["passed"].sum())
    kinds = s["kinds"]
    out: list[str] = []
    add = out.append
    mass = priors.settings.credible_percent
    add("# Model card: calcinosis\n")
    add(f"> **{DISCLAIMER}**\n")
    add(f"Generated by `calcinosis validate --report` (version {__version__}; priors sha256 `{priors.checksum}`; "
        f"scenario `{DEFAULT_SCENARIO}` for the structure and sensitivity, each target and case in its own "
        f"scenario; {DRAWS} parameter draws, seed {SEED}). Do not edit by hand: the tests compare this file "
        "with the command's output.\n")
    add("## Intended use\n")
    add("- Teaching the differential diagnosis of soft-tissue calcification and Bayesian reasoning (base rates, "
        "explaining away, the value of a test) on a network whose every number has a source.\n"
        "- Decision support for a clinician who already has the imaging and laboratory findings: a ranked, "
        "honest differential with intervals, showing which findings move it and which test would help most.\n")
    add("## Not for\n")
    add("- Diagnosing a patient, or deciding treatment, without a clinician who knows the patient.\n"
        "- Screening populations or estimating prevalence: occurrences are taken from the literature, not "
        "learned from data, and many imaging parameters are judgements.\n"
        f"- Conditions outside the {kinds.get('condition', 0)} modelled (vascular calcification of large arteries "
        "as the index lesion, phleboliths, calcified haematoma, fat necrosis, calcifying tumours other than the "
        "three sarcomas): they fall under \"other causes\".\n"
        "- Populations unlike the scenarios.\n")
    add("## Structure\n")
    add(_md([["measure", "value"],
             ["nodes", str(s["nodes"])],
             *[[f"nodes: {k}", str(kinds.get(k, 0))] for k in ("condition", "risk_factor", "finding", "latent")],
             ["arcs", str(s["arcs"])],
             ["largest table", f"{s['largest_table'][0]} ({s['largest_table'][1]:,} entries)"],
             ["largest clique of the compiled junction tree (every public node observed)",
              f"{s['largest_clique']} variables ({s['largest_clique_entries']:,} entries): treewidth of that "
              f"triangulation {s['largest_clique'] - 1}"],
             ["treewidth upper bound (networkx min-fill-in on the moral graph)", str(s["treewidth_bound"])]]))
    add("")
    add("## Parameter provenance\n")
    add(_md([["kind", "parameters", "share"],
             *[[r.kind, str(r.parameters), fine_percent(r.share)] for r in summary.itertuples()],
             ["total", str(int(summary["parameters"].sum())), "100%"]]))
    lit = summary.set_index("kind").reindex(list(TRUSTED_KINDS))["parameters"].fillna(0).sum()
    add(f"\nLiterature or derived: **{fine_percent(lit / summary['parameters'].sum())} of all parameters** (goal: 70%) and "
        f"**{fine_percent(trusted / distinct)} of the {distinct} parameters in some bundled case's top-{SENSITIVE_TOP} "
        "sensitivity list** (goal: 90%; see Most influential parameters).\n")
    add("\nJudgement parameters (no published figure; each cites the qualitative statement it rests on and has "
        "a wide range), grouped by file and node:\n")
    add(_md([["file", "node", "judgement parameters", "sources"],
             *[[r.file, r.node, str(r.parameters), r.sources] for r in judged.itertuples()]]))
    add("")
    add("## Literature targets\n")
    add(f"`priors/targets.yaml` lists published figures that the assembled network must reproduce as implied "
        f"quantities, P(query | given) in a scenario, computed exactly; the interval is the central {mass} over "
        f"{DRAWS} parameter draws. Rule: {pass_rule(priors.settings)}. Targets marked *direct* check a figure "
        f"that is also the input of one parameter (that the assembly keeps it); the others are implied by several "
        f"parameters.\n")
    add(f"**{n_pass} of {len(targets)} targets pass.**\n")
    add(f"![Implied intervals and published figures]({FIGURE_DIR}/targets.png)\n")
    rows = [["target", "scenario", "P(query given ...)", "published", "implied", f"{mass} interval", "result",
             "source"]]
    for r in targets.itertuples():
        published = fine_percent(r.published_low) if r.published_low == r.published_high else \
            f"{fine_percent(r.published_low)}-{fine_percent(r.published_high)}"
        rows.append([f"{r.label}{' (direct)' if r.direct else ''}", r.scenario, f"{r.query} given {r.given}",
                     published, fine_percent(r.implied), f"{fine_percent(r.low)}-{fine_percent(r.high)}",
                     "pass" if r.passed else "**fail**", f"{r.source}: {r.locator}"])
    add(_md(rows))
    failed = targets[~targets["passed"]]
    if len(failed):
        add("\nTargets that fail, and why (the priors were not tuned to make them pass):\n")
        for r in failed.itertuples():
            add(f"- **{r.label}** ({fine_percent(r.implied)} implied, published {fine_percent(r.published_low)}"
                f"{'' if r.published_low == r.published_high else '-' + fine_percent(r.published_high)}): "
                f"{r.known_failure or 'no reason recorded.'}")
    add("")
    add("## Bundled cases\n")
    top1, top3 = int((ranked["rank"] == 1).sum()), int((ranked["rank"] <= 3).sum())
    add(f"Rank of the reference diagnosis among the modelled conditions (by p_cause) for the {len(ranked)} bundled "
        f"cases: **top-1 {top1}/{len(ranked)} ({fine_percent(top1 / len(ranked))}), top-3 {top3}/{len(ranked)} "
        f"({fine_percent(top3 / len(ranked))})**.\n")
    add(_md([["case", "scenario", "diagnosis", "rank", "p_cause", "leader"],
             *[[r.case, r.scenario, str(r.diagnosis), str(int(r.rank)), fine_percent(r.p_cause),
                f"{r.leader} ({fine_percent(r.leader_p_cause)})"] for r in ranked.itertuples()]]))
    add("")
    add(section(evaluation, FIGURE_DIR))
    add("## Most influential parameters\n")
    add(f"One-way sensitivity on the {len(bundled)} bundled cases, each in its own scenario: each parameter moved "
        "alone to the ends of its range; swing = change of the leading cause's p_cause. "
        f"{distinct} distinct parameters appear among the {SENSITIVE_TOP} largest swings of some case; "
        f"**{trusted} of them ({fine_percent(trusted / distinct)}) are literature or derived** (goal: 90%). The largest "
        f"swing of each parameter over the cases, and in how many cases it is among the {SENSITIVE_TOP} largest:\n")
    add(_md([["parameter", "kind", "value [range]", "swing", "case (leader)", "cases"],
             *[[r.parameter, r.kind, f"{r.value:.3g} [{r.low:.3g}, {r.high:.3g}]", fine_percent(r.swing),
                f"{r.case} ({r.cause})", str(r.cases)] for r in top.itertuples()]]))
    add("")
    add("## Known limitations\n")
    add("- Lesion signs are independent given the cause of the lesion; correlated signs are counted as separate "
        "evidence.\n"
        "- Noisy-MAX findings add the population background (leak, age) on top of a condition's published "
        "frequency, which overstates findings that are common in the population (see the failing targets).\n"
        "- Relative risks combine multiplicatively; a crude ratio used as a relative risk can count a "
        "confounder twice (the ratio of CKD for gout is now adjusted; others are crude).\n"
        "- Only advanced CKD's production of a calcification depends on the mineral state (phosphate).\n"
        f"- {kinds and fine_percent(float(summary.set_index('kind').loc['judgement', 'share']))} of the parameters are "
        "judgements, mostly cells of the lesion's imaging tables; their ranges are wide and they dominate "
        "the sensitivity of several cases.\n"
        f"- {int((ranked['rank'] > 3).sum())} bundled cases miss the top three (see the table above and the "
        "README); they are kept as they are.\n"
        f"- {len(evaluation.misses)} published cases miss the top three out of sample (listed above with the "
        "finding that counted most against their diagnosis).\n")
    add(f"---\n{DISCLAIMER}\n")
    markdown = "\n".join(out)
    figures = {"targets.png": _targets_figure(targets, mass)}
    figures.update({name: png(make(evaluation)) for name, make in FIGURES.items()})
    return Card(markdown, figures, targets)


def write_card(priors: Priors, out: Path | str = "reports", evaluation=None) -> Path:
    """Write ``model-card.md`` and its figures under ``out``; return the Markdown path."""
    out = Path(out)
    card = build_card(priors, evaluation)
    (out / FIGURE_DIR).mkdir(parents=True, exist_ok=True)
    for name, data in card.figures.items():
        (out / FIGURE_DIR / name).write_bytes(data)
    path = out / "model-card.md"
    path.write_text(card.markdown, encoding="utf-8")
    return path
