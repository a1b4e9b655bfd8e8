"""The consultation report: a self-contained HTML page and its Markdown twin.

``write_report`` runs the full consultation of a case (posteriors with intervals,
evidence impact, next best tests, one-way sensitivity) and writes, under
``OUT/<case id>/``: ``report.html`` (figures embedded as PNG data, no external asset),
``report.md`` and the figures as PNG files beside it. Both say once, plainly, that this
is decision support and teaching, not a diagnosis, and record the package version, the
priors checksum, the scenario, the engine and the seed.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from .. import __version__  # noqa: E402
from . import plots  # noqa: E402
from ..analyses.api import Model  # noqa: E402
from ..analyses.consultation import DEFAULT_DRAWS, DEFAULT_SEED, DISCLAIMER, FullConsultation  # noqa: E402
from ..data.evidence import Case  # noqa: E402
from ..analyses.explain import cause_label  # noqa: E402
from ..foundation.formatting import percent  # noqa: E402
from ..foundation.paths import inside  # noqa: E402
from ..data.priors import Priors  # noqa: E402



@dataclass
class Report:
    html: Path
    markdown: Path
    figures: list[Path]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def write_report(priors: Priors, case: Case, out: Path | str = "reports", *, scenario: str | None = None,
                 draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED, engine: str = "compiled",
                 progress=None) -> Report:
    """Run the full consultation of ``case`` and write its HTML and Markdown report."""
    full = Model(priors, scenario or case.scenario).consult(
        case.evidence, case_id=case.id, assumed=case.assumed, engine=engine, draws=draws, seed=seed,
        sensitivity=True, progress=progress)
    folder = inside(out, case.id)  # a case id may be a path: it becomes a plain folder name
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = priors.vocabulary
    mass = priors.settings.credible_percent
    figures = {
        "differential": plots.draw_differential(
            full.differential, top=10, title=f"What produced the calcification: p_cause with {mass} intervals"),
        "groups": plots.draw_groups(full.groups, title=f"Pathogenetic groups: p_cause with {mass} intervals"),
        "impact": plots.draw_impact(full.evidence_impact, full.result.leader,
                                    title=f"What moved {cause_label(vocabulary, full.result.leader)}"),
        "tornado": plots.draw_tornado(full.sensitivity.head(10),
                                      title=f"What p_cause of {cause_label(vocabulary, full.result.leader)} hinges on"),
    }
    images = {name: _png(figure) for name, figure in figures.items()}
    for figure in figures.values():
        figure.clf()
    paths = []
    for name, data in images.items():
        path = folder / f"{name}.png"
        path.write_bytes(data)
        paths.append(path)
    sections = _sections(priors, case, full)
    html_path = folder / "report.html"
    html_path.write_text(_html(case, full, sections, images), encoding="utf-8")
    md_path = folder / "report.md"
    md_path.write_text(_markdown(case, full, sections), encoding="utf-8")
    return Report(html_path, md_path, paths)


# --------------------------------------------------------------------------- content
def _sections(priors: Priors, case: Case, full: FullConsultation) -> dict:
    """The report's tables as lists of rows (header first), shared by HTML and Markdown."""
    vocabulary = priors.vocabulary
    evidence = [["finding", "state", "kind", "stated by the source"]] + [
        [k, v, vocabulary.category_of(k), "assumed" if k in case.assumed else
         ("assumed in every consultation" if k not in case.evidence else "yes")]
        for k, v in full.result.evidence.items()]
    mass = priors.settings.credible_percent
    interval = f"{mass} interval"
    differential = [["#", "condition", "group", "p_cause", interval, "p_present", "prior"]]
    for rank, r in enumerate(full.differential.head(10).itertuples(), start=1):
        differential.append([str(rank), r.label, vocabulary.groups[r.group], percent(r.p_cause),
                             f"{percent(r.low)} - {percent(r.high)}", percent(r.p_present), percent(r.prior_cause)])
    low, high = full.other_interval()
    differential.append(["", "Other or idiopathic causes", "", percent(full.result.other_causes["p_cause"]),
                         f"{percent(low)} - {percent(high)}", "", percent(full.result.other_causes["prior_cause"])])
    groups = [["group", "p_cause", interval, "prior"]] + [
        [r.label, percent(r.p_cause), f"{percent(r.low)} - {percent(r.high)}", percent(r.prior_cause)]
        for r in full.groups.itertuples()]
    leader = full.result.leader
    impact_rows = full.evidence_impact[full.evidence_impact["cause"] == leader].sort_values("decibans", ascending=False)
    impact = [["finding", "likelihood ratio", "decibans", "p_cause without it", "effect"]] + [
        [f"{r.finding} = {r.state}", f"{r.likelihood_ratio:.3g}", f"{r.decibans:+.1f}", percent(r.p_without), r.direction]
        for r in impact_rows.itertuples()]
    tests = [["test", "information gain (bits)", "P(result changes the leader)", "results: probability -> leader's p_cause"]]
    for r in full.next_tests.head(5).itertuples():
        tests.append([r.finding, f"{r.information_gain:.3f}", percent(r.p_change_leader),
                      "; ".join(f"{x['state']} {percent(x['probability'])} -> {percent(x['leader_p_cause'])}" for x in r.results)])
    top = full.sensitivity.head(10)
    sensitivity = [["parameter", "kind", "range", "p_cause at low / high end", "source"]] + [
        [r.parameter, r.kind, f"{r.low:.3g} - {r.high:.3g}", f"{percent(r.p_at_low)} / {percent(r.p_at_high)}", r.source]
        for r in top.itertuples()]
    keys = list(dict.fromkeys(top["source"]))
    sources = [[key, priors.references[key].citation + (f" doi:{priors.references[key].doi}" if priors.references[key].doi else "")]
               for key in keys]
    judged = int((top["kind"] == "judgement").sum())
    return {"mass": mass, "evidence": evidence, "differential": differential, "groups": groups, "impact": impact,
            "tests": tests, "sensitivity": sensitivity, "sources": sources,
            "hinges": f"{judged} of the 10 parameters that move the leading p_cause most are judgements "
                      f"(no published figure); see their ranges below.",
            "leader": cause_label(vocabulary, leader)}


def _meta(full: FullConsultation) -> str:
    return (f"calcinosis {__version__}; priors sha256 {full.priors_sha256[:16]}...; scenario {full.result.scenario}; "
            f"engine {full.engine}; {full.draws} parameter draws, seed {full.seed}")


# --------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 7px;text-align:left}
th{background:#f3f3f3}.note{background:#fff6e0;border-left:4px solid #e0a800;padding:.6em 1em}
.meta{color:#666;font-size:.85em}img{max-width:100%;display:block;margin:.5em 0}
"""

# Marks each figure once the browser has decoded it, so a test can check that the page renders them.
_SCRIPT = """
window.addEventListener('load',function(){document.querySelectorAll('img').forEach(function(i){
i.setAttribute('data-rendered',(i.complete&&i.naturalWidth>0)?'yes':'no');});});
"""


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(images: dict, name: str, alt: str) -> str:
    data = base64.b64encode(images[name]).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _html(case: Case, full: FullConsultation, sections: dict, images: dict) -> str:
    s = sections
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Consultation: {html.escape(case.title)}</title><style>{_CSS}</style>",
        f"<script>{_SCRIPT}</script></head><body>",
        f"<h1>{html.escape(case.title)}</h1>",
        f"<p class='note'>{html.escape(DISCLAIMER)}</p>",
        f"<p>Case <code>{html.escape(case.id)}</code>. Source: {html.escape(case.source)}</p>",
        f"<p class='meta'>{html.escape(_meta(full))}</p>",
        "<h2>The case and its evidence</h2>", _html_table(s["evidence"]),
        "<h2>Differential: what produced the calcification</h2>",
        _img(images, "differential", f"p_cause with {sections['mass']} intervals"), _html_table(s["differential"]),
        "<h2>Pathogenetic groups</h2>", _img(images, "groups", "group posteriors"), _html_table(s["groups"]),
        f"<h2>Evidence impact on the leader: {html.escape(s['leader'])}</h2>",
        "<p>Likelihood ratio of each finding given all the others: the odds of the leader with the finding "
        "divided by its odds without it (10 log10 LR in decibans).</p>",
        _img(images, "impact", "evidence impact"), _html_table(s["impact"]),
        "<h2>Next best tests</h2>", _html_table(s["tests"]),
        "<h2>What the answer hinges on</h2>", f"<p>{html.escape(s['hinges'])}</p>",
        _img(images, "tornado", "one-way sensitivity"), _html_table(s["sensitivity"]),
        "<h2>Sources of the parameters that matter most</h2>", _html_table([["key", "citation"]] + s["sources"]),
        "</body></html>",
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------- Markdown
def _md_table(rows: list[list[str]]) -> str:
    def cell(c):
        return str(c).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _markdown(case: Case, full: FullConsultation, sections: dict) -> str:
    s = sections
    return "\n\n".join([
        f"# {case.title}",
        f"> {DISCLAIMER}",
        f"Case `{case.id}`. Source: {case.source}",
        f"_{_meta(full)}_",
        "## The case and its evidence", _md_table(s["evidence"]),
        "## Differential: what produced the calcification", f"![p_cause with {sections['mass']} intervals](differential.png)",
        _md_table(s["differential"]),
        "## Pathogenetic groups", "![group posteriors](groups.png)", _md_table(s["groups"]),
        f"## Evidence impact on the leader: {s['leader']}",
        "Likelihood ratio of each finding given all the others (10 log10 LR in decibans).",
        "![evidence impact](impact.png)", _md_table(s["impact"]),
        "## Next best tests", _md_table(s["tests"]),
        "## What the answer hinges on", s["hinges"], "![one-way sensitivity](tornado.png)",
        _md_table(s["sensitivity"]),
        "## Sources of the parameters that matter most", _md_table([["key", "citation"]] + s["sources"]),
    ]) + "\n"
