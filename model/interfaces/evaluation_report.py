"""The evaluation report: ``reports/evaluation/report.md``, its HTML twin and figures.

Written by ``calcinosis evaluate --report`` from an :class:`~calcinosis.analyses.evaluation.Evaluation`:
the protocol, the table of every protocol (prior alone, the network before learning, the
network out of sample, in sample), the metrics per group and per condition, the
reliability diagram and its table, the confusion matrix of groups, and every case that
misses the top three with the finding that counted most against its diagnosis. The same
Markdown (without its title) is the evaluation section of the model card.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import numpy as np

from .. import __version__
from ..analyses.consultation import DISCLAIMER
from ..analyses.evaluation import HEADLINE, Evaluation
from ..foundation.formatting import percent
from ..data.priors import Priors

METRIC_LABELS = {"cases": "cases", "top1": "top-1", "top3": "top-3", "top5": "top-5", "mrr": "MRR",
                 "brier": "Brier", "log_loss": "log loss", "ece": "ECE"}
PROTOCOL_LABELS = {
    "prior": "prior alone (the case mix, no finding)",
    "judgement": "network before learning (lesion tables as judged)",
    "network": "network, out of sample (leave one publication out)",
    "in_sample": "network, in sample (scored on the cases it learned from)",
}


def metric_text(key: str, value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if key == "cases":
        return str(int(value))
    if key.startswith("top"):
        return f"{value * 100:.0f}%"
    return f"{value:.3f}"


def _table(rows: list[list]) -> str:
    head, *body = rows
    cell = lambda c: str(c).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(cell(c) for c in head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in body])


def _metrics_rows(records: list[dict], key: str, labels: dict | None = None) -> list[list]:
    rows = [[key, *METRIC_LABELS.values()]]
    for r in records:
        rows.append([(labels or {}).get(r[key], r[key]), *(metric_text(k, r.get(k)) for k in METRIC_LABELS)])
    return rows


def png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def reliability_figure(result: Evaluation):
    """Observed frequency against predicted p_cause of the leader, per bin, for the
    network before learning and out of sample; the diagonal is perfect calibration."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.2, 4.6))
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for protocol, colour in (("judgement", "tab:orange"), (HEADLINE, "tab:blue")):
        table = result.calibration(protocol)
        filled = table[table["n"] > 0]
        ax.plot(filled["predicted"], filled["observed"], "o-", color=colour,
                label=f"{PROTOCOL_LABELS[protocol].split(' (')[0]}")
        for row in filled.itertuples():
            ax.annotate(str(row.n), (row.predicted, row.observed), fontsize=7, xytext=(3, 3),
                        textcoords="offset points", color=colour)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted p_cause of the leading condition (bin mean)")
    ax.set_ylabel("observed: the leader is the diagnosis")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Reliability diagram (numbers: cases per bin)", fontsize=10)
    return figure


def per_condition_figure(result: Evaluation):
    """Top-3 per condition: the network before learning and out of sample."""
    from matplotlib.figure import Figure

    before, after = result.by("diagnosis", "judgement"), result.by("diagnosis", HEADLINE)
    shown = after[after["cases"] > 0]
    figure = Figure(figsize=(7.5, 0.28 * len(shown) + 1.4))
    ax = figure.subplots()
    y = np.arange(len(shown))[::-1]
    ax.barh(y + 0.2, before.loc[shown.index, "top3"], height=0.4, color="tab:orange", label="before learning")
    ax.barh(y - 0.2, shown["top3"], height=0.4, color="tab:blue", label="out of sample")
    ax.set_yticks(y, [f"{d} (n={int(n)})" for d, n in zip(shown["diagnosis"], shown["cases"])], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of cases with the diagnosis in the top three")
    ax.legend(fontsize=8, loc="lower right")
    return figure


def confusion_figure(result: Evaluation):
    from matplotlib.figure import Figure

    table = result.confusion()
    figure = Figure(figsize=(6.4, 4.4))
    ax = figure.subplots()
    ax.imshow(table.to_numpy(), cmap="Blues")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=40, ha="right", fontsize=7)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=7)
    for (i, j), value in np.ndenumerate(table.to_numpy()):
        if value:
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8)
    ax.set_xlabel("group of highest p_cause (out of sample)")
    ax.set_ylabel("group of the diagnosis")
    return figure


FIGURES = {"reliability.png": reliability_figure, "top3_by_condition.png": per_condition_figure,
           "confusion_groups.png": confusion_figure}


def section(result: Evaluation, figure_folder: str) -> str:
    """The evaluation as Markdown (headed '## Evaluation on published cases')."""
    options = result.options
    summary = result.summary().to_dict(orient="records")
    headline = next(r for r in summary if r["protocol"] == HEADLINE)
    out = ["## Evaluation on published cases\n"]
    out.append(
        f"{headline['cases']} published patients (`evidence_examples/published/`), each consulted "
        f"{'in the population it comes from (a child in the paediatric scenario, a dialysis patient in the dialysis unit)' if options['scenario_from_case'] else 'in the general adult population'}"
        f"{', findings only (known conditions left out)' if options['findings_only'] else ', with the conditions known before the lesion as evidence'}. "
        f"Protocol: {options['protocol']}: the lesion tables are learned from {options['learning_cases']} patients of "
        f"{options['learning_publications']} publications, and each case is scored by the model learned without "
        "its own publication, so every figure below but the last row is out of sample. Ranks are among the "
        "conditions (ties count against the diagnosis); Brier and log loss (nats) are over all causes; ECE is the "
        "expected calibration error of the leading condition's p_cause in ten equal bins. How the corpus was "
        "gathered (stored public case reports, case series and teaching files, searched condition by condition), "
        "its inclusion rule and its coverage are in the README (\"Published cases\"); `calcinosis corpus` lists "
        "it.\n")
    out.append(_table(_metrics_rows(summary, "protocol", PROTOCOL_LABELS)) + "\n")
    out.append("### Per group (out of sample)\n")
    out.append(_table(_metrics_rows(result.by("group").to_dict(orient="records"), "group")) + "\n")
    out.append("### Per condition (out of sample; before learning in brackets)\n")
    before = {r["diagnosis"]: r for r in result.by("diagnosis", "judgement").to_dict(orient="records")}
    rows = [["condition", "cases", "top-1", "top-3", "MRR", "mean p_cause of the diagnosis"]]
    for r in result.by("diagnosis").to_dict(orient="records"):
        if not r["cases"]:
            rows.append([r["diagnosis"], "0", "-", "-", "-", "-"])
            continue
        b = before[r["diagnosis"]]
        rows.append([r["diagnosis"], str(r["cases"]), f"{metric_text('top1', r['top1'])} ({metric_text('top1', b['top1'])})",
                     f"{metric_text('top3', r['top3'])} ({metric_text('top3', b['top3'])})",
                     metric_text("mrr", r["mrr"]), f"{percent(r['mean_p_true'])} ({percent(b['mean_p_true'])})"])
    out.append(_table(rows) + "\n")
    out.append(f"![top-3 per condition]({figure_folder}/top3_by_condition.png)\n")
    out.append("### Calibration (out of sample)\n")
    calibration = result.calibration()
    rows = [["predicted p_cause of the leader", "cases", "mean predicted", "observed"]]
    for r in calibration.itertuples():
        rows.append([f"{r.low:.1f}-{r.high:.1f}", str(r.n), percent(r.predicted) if r.n else "-",
                     percent(r.observed) if r.n else "-"])
    out.append(_table(rows) + "\n")
    out.append(f"![reliability diagram]({figure_folder}/reliability.png)\n")
    out.append("### Confusion of groups (out of sample)\n")
    confusion = result.confusion()
    rows = [["group of the diagnosis \\ leading group", *confusion.columns]]
    rows += [[index, *map(str, row)] for index, row in zip(confusion.index, confusion.to_numpy())]
    out.append(_table(rows) + "\n")
    out.append(f"![confusion of groups]({figure_folder}/confusion_groups.png)\n")
    out.append(f"### Cases outside the top three (out of sample): {len(result.misses)}\n")
    out.append("`against` is the finding whose removal raises the odds of the diagnosis most, with its likelihood "
               "ratio for the diagnosis given all the other findings (below 1: it counted against); `-` when no "
               "finding counted against it and the base rate decided.\n")
    rows = [["case", "diagnosis", "rank", "p_cause of the diagnosis", "leader", "against", "LR"]]
    for r in result.misses.itertuples():
        counted = r.likelihood_ratio is not None and np.isfinite(r.likelihood_ratio) and r.likelihood_ratio < 1
        rows.append([r.id, r.diagnosis, str(r.rank), percent(r.p_true), f"{r.leader} ({percent(r.p_leader)})",
                     r.against if counted else "-", f"{r.likelihood_ratio:.3g}" if counted else "-"])
    out.append(_table(rows) + "\n")
    return "\n".join(out)


def write_report(result: Evaluation, priors: Priors, out: Path | str = "reports") -> Path:
    """Write ``OUT/evaluation/report.md``, ``report.html`` (figures embedded) and the figures."""
    folder = Path(out) / "evaluation"
    folder.mkdir(parents=True, exist_ok=True)
    images = {}
    for name, make in FIGURES.items():
        images[name] = png(make(result))
        (folder / name).write_bytes(images[name])
    body = section(result, ".")
    header = (f"# Evaluation on published cases\n\n> **{DISCLAIMER}**\n\nGenerated by `calcinosis evaluate "
              f"{'--scenario-from-case ' if result.options['scenario_from_case'] else ''}--report` (version "
              f"{__version__}; priors sha256 `{priors.checksum}`).\n\n")
    markdown = header + body.split("\n", 1)[1]
    path = folder / "report.md"
    path.write_text(markdown, encoding="utf-8")
    (folder / "report.html").write_text(_html(markdown, images), encoding="utf-8")
    return path


def _html(markdown: str, images: dict[str, bytes]) -> str:
    """A small Markdown-to-HTML rendering of this report's own constructs (headings,
    paragraphs, quotes, tables, images), with the figures embedded."""
    parts, table = [], []

    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", text)

    def flush():
        if table:
            head, _, *body = table
            cells = lambda line, tag: "".join(f"<{tag}>{inline(c.strip())}</{tag}>"  # noqa: E731
                                              for c in re.split(r"(?<!\\)\|", line.strip().strip("|")))
            parts.append("<table><thead><tr>" + cells(head, "th") + "</tr></thead><tbody>"
                         + "".join("<tr>" + cells(r, "td") + "</tr>" for r in body) + "</tbody></table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if not line.strip():
            continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            parts.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("!["):
            alt, name = re.match(r"!\[(.*?)\]\(\./(.*?)\)", line).groups()
            data = base64.b64encode(images[name]).decode()
            parts.append(f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></p>')
        elif line.startswith(">"):
            parts.append(f"<blockquote>{inline(line.lstrip('> '))}</blockquote>")
        else:
            parts.append(f"<p>{inline(line)}</p>")
    flush()
    style = ("body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;font-size:.85em;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:.2em .5em;text-align:left}img{max-width:100%}blockquote{border-left:4px solid #c33;"
             "margin:1em 0;padding:.5em 1em;background:#fdf3f3}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Evaluation on published cases"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
