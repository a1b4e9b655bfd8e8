"""Commands ``corpus`` (what the published cases hold), ``learn`` (counts for the lesion
tables) and ``evaluate`` (how often the network is right on them, out of sample).

``calcinosis corpus [--cases DIR] [--json]`` lists the patients and publications per
condition and group, how often each finding is stated, and the confirmation methods.
``calcinosis learn [--check]`` writes ``priors/corpus_counts.yaml`` from the corpus (or,
with ``--check``, exits 1 when the committed file is not what the corpus gives).
``calcinosis evaluate [--cases DIR] [--scenario-from-case] [--findings-only] [--json]
[--report [--out DIR]]`` scores every case (see :mod:`calcinosis.analyses.evaluation`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..foundation import stamp
from ..errors import CalcinosisError
from ..foundation.defaults import DEFAULT_SCENARIO


def _corpus_cases(priors, folder: Path | None):
    """The learning corpus, and the cases to score (the corpus itself by default)."""
    from ..data.corpus import corpus_dir, load_corpus
    corpus = load_corpus(None, priors.vocabulary)
    cases = corpus if folder is None or folder.resolve() == corpus_dir().resolve() else \
        load_corpus(folder, priors.vocabulary)
    return corpus, cases


def cmd_corpus(args: argparse.Namespace) -> int:
    from ..data.corpus import load_corpus
    from ..data.priors import load_priors
    priors = load_priors()
    corpus = load_corpus(args.cases, priors.vocabulary)
    conditions, groups, findings = corpus.per_condition(), corpus.per_group(), corpus.per_finding()
    duplicates = corpus.possible_duplicates()
    if args.json:
        stamp.dump(stamp.stamped({
            "folder": str(corpus.folder), "patients": len(corpus), "publications": len(corpus.publications),
            "by_condition": conditions.to_dict(orient="records"), "by_group": groups.to_dict(orient="records"),
            "by_finding": findings.to_dict(orient="records"), "confirmation": corpus.per_confirmation(),
            "publication_list": corpus.publication_table().to_dict(orient="records"),
            "possible_duplicates": [list(pair) for pair in duplicates],
        }, priors, None))
        return 0
    from rich.table import Table

    from .console import console as _console
    out = _console()
    view = Table(title=f"Published cases: {len(corpus)} patients from {len(corpus.publications)} publications "
                       f"({corpus.folder})", title_justify="left")
    for column in ("condition", "group", "patients", "publications"):
        view.add_column(column, justify="right" if column in ("patients", "publications") else "left")
    for row in conditions.itertuples():
        view.add_row(row.id, row.group, str(row.patients), str(row.publications))
    out.print(view)
    view = Table(title="By group", title_justify="left")
    for column in ("group", "patients", "publications", "conditions with patients"):
        view.add_column(column)
    for row in groups.itertuples():
        view.add_row(row.id, str(row.patients), str(row.publications), str(row.conditions))
    out.print(view)
    stated = ", ".join(f"{r.finding} {r.stated}" for r in findings.head(20).itertuples())
    out.print(f"Most often stated findings (patients): {stated}.")
    out.print("Confirmation: " + ", ".join(f"{k} {v}" for k, v in corpus.per_confirmation().items()) + ".")
    if duplicates:
        out.print("Same diagnosis and identical evidence in two publications (check they are two patients): "
                  + "; ".join(f"{a} ~ {b}" for a, b in duplicates) + ".")
    return 0


def cmd_learn(args: argparse.Namespace) -> int:
    from ..data.corpus import load_corpus
    from ..data.priors import load_priors
    from ..analyses.learning import count_corpus, write_counts
    from ..foundation.resources import priors_dir

    priors = load_priors(counts=False)
    if priors.learning is None:
        print(f"calcinosis: error: {priors_dir()}: no learning.yaml, so nothing is learned.", file=sys.stderr)
        return 2
    counts = count_corpus(priors, load_corpus(None, priors.vocabulary).cases)
    target = priors_dir() / "corpus_counts.yaml"
    if args.check:
        try:
            current = load_priors().counts
        except CalcinosisError:
            current = None
        if current is None or current.model_dump() != counts.model_dump():
            print(f"{target} is not what the corpus gives: run 'calcinosis learn'.")
            return 1
        print(f"{target} is up to date ({counts.corpus_cases} cases).")
        return 0
    write_counts(counts, target)
    rows = sum(len(r) for r in counts.rows.values())
    print(f"wrote {target}: {rows} lesion-table rows learned from {counts.corpus_cases} patients of "
          f"{counts.corpus_publications} publications.")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..data.priors import load_priors
    from .console import progress_steps
    from ..analyses.evaluation import evaluate

    priors = load_priors()
    corpus, cases = _corpus_cases(priors, args.cases)
    with progress_steps(len(cases.cases) + 3, "evaluation") as step:
        result = evaluate(priors, cases.cases, corpus, scenario_from_case=args.scenario_from_case,
                          findings_only=args.findings_only, progress=step)
    if args.report:
        from .evaluation_report import write_report
        from .modelcard import write_card

        path = write_report(result, priors, args.out)
        # The model card's evaluation section is this one, for the bundled corpus with each
        # case in its own population: write both so they never disagree.
        card = cases is corpus and args.scenario_from_case and not args.findings_only
        if card:
            write_card(priors, args.out, result)
        print(f"wrote {path} and {path.with_suffix('.html')} with their figures{' and the model card' if card else ''}")
        return 0
    if args.json:
        stamp.dump(stamp.stamped({"cases_folder": str(cases.folder), **result.to_dict()}, priors,
                                 "from each case" if args.scenario_from_case else DEFAULT_SCENARIO))
        return 0
    from rich.table import Table

    from .console import console as _console
    from .evaluation_report import METRIC_LABELS, metric_text
    out = _console()
    view = Table(title=f"Evaluation on {len(cases)} published cases ({result.options['protocol']}; "
                       f"scenario {'of each case' if args.scenario_from_case else DEFAULT_SCENARIO}"
                       f"{'; findings only' if args.findings_only else ''})", title_justify="left")
    view.add_column("protocol")
    for label in METRIC_LABELS.values():
        view.add_column(label, justify="right")
    for row in result.summary().to_dict(orient="records"):
        view.add_row(row["protocol"], *(metric_text(k, row.get(k)) for k in METRIC_LABELS))
    out.print(view)
    view = Table(title="Out of sample, per group", title_justify="left")
    view.add_column("group")
    for label in METRIC_LABELS.values():
        view.add_column(label, justify="right")
    for row in result.by("group").to_dict(orient="records"):
        view.add_row(row["group"], *(metric_text(k, row.get(k)) for k in METRIC_LABELS))
    out.print(view)
    out.print(f"{len(result.misses)} cases miss the top three out of sample (`--report` lists them).")
    return 0


def add_commands(sub) -> None:
    """Register ``corpus``, ``learn`` and ``evaluate`` on the main parser's subcommands."""
    corpus = sub.add_parser("corpus", help="patients, publications and findings of the published-case corpus")
    corpus.add_argument("--cases", type=Path, help="folder of published cases (default: evidence_examples/published)")
    corpus.add_argument("--json", action="store_true")
    corpus.set_defaults(run=cmd_corpus)

    learn = sub.add_parser("learn", help="count the corpus into priors/corpus_counts.yaml")
    learn.add_argument("--check", action="store_true", help="exit 1 if the committed counts are out of date")
    learn.set_defaults(run=cmd_learn)

    ev = sub.add_parser("evaluate", help="rank, calibration and errors of the network on published cases")
    ev.add_argument("--cases", type=Path, help="folder of published cases (default: the bundled corpus)")
    ev.add_argument("--scenario-from-case", action="store_true",
                    help="consult a child or a dialysis patient in the population the case names")
    ev.add_argument("--findings-only", action="store_true", help="leave known conditions out of the evidence")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--report", action="store_true", help="write reports/evaluation/ and the model card's section")
    ev.add_argument("--out", type=Path, default=Path("reports"), help="folder of the reports (default: reports/)")
    ev.set_defaults(run=cmd_evaluate)
