"""The ``calcinosis`` command line: consult, cases, nodes, priors.

Every command prints a readable table by default and one JSON object with
``--json``. Bad input (an unknown id or state, malformed YAML, a missing file,
impossible evidence, corrupted priors) ends with a one-paragraph message on
standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


from .. import __version__
from ..foundation import stamp
from .console import console as _console, progress_steps
from ..foundation.formatting import percent as _percent
from ..foundation.defaults import DEFAULT_DRAWS, DEFAULT_SEED, DISCLAIMER, ENGINE_NAMES
from ..errors import CalcinosisError
from ..foundation.limits import count



# --------------------------------------------------------------------------- consult
def _interval(low: float, high: float) -> str:
    return f"{_percent(low)}-{_percent(high)}"


def cmd_consult(args: argparse.Namespace) -> int:
    from ..analyses.api import Model
    from rich.table import Table
    from ..data.evidence import load_case, parse_assignments
    from ..data.priors import load_priors
    priors = load_priors()
    case = load_case(args.case, priors.vocabulary)
    evidence = dict(case.evidence)
    evidence.update(parse_assignments(args.set, priors.vocabulary))
    with progress_steps(4, "consultation") as step:
        model = Model(priors, args.scenario or case.scenario)
        full = model.consult(evidence, case_id=case.id, assumed=case.assumed, engine=args.engine,
                             draws=args.draws, seed=args.seed, progress=step)
    result = full.result
    if args.json:
        payload = full.to_dict(case={"id": case.id, "title": case.title, "source": case.source,
                                     "diagnosis": case.diagnosis})
        stamp.dump(payload)  # strict JSON: an undefined figure is null, never NaN
        return 0
    out = _console()
    scenario = priors.scenarios.get(result.scenario)
    out.print(f"[bold]{case.title}[/bold]  ({case.id})")
    out.print(f"Source: {case.source}")
    out.print(f"Scenario: {result.scenario}" + (f" - {scenario.label}" if scenario else ""))
    shown = ", ".join(f"{k}={v}" + (" (assumed)" if k in case.assumed else "") for k, v in result.evidence.items())
    out.print(f"Evidence: {shown}\n")
    mass = priors.settings.credible_percent
    table = Table(title=f"Differential: what produced the calcification ({mass} intervals over {full.draws} "
                        f"parameter draws, seed {full.seed})", title_justify="left")
    for column, justify in (("#", "right"), ("condition", "left"), ("group", "left"), ("p_cause", "right"),
                            (f"{mass} interval", "right"), ("p_present", "right"), ("prior", "right")):
        table.add_column(column, justify=justify)
    differential = full.differential
    rows = differential if args.all else differential.head(args.top)
    for rank, row in enumerate(rows.itertuples(), start=1):
        table.add_row(str(rank), row.label, priors.vocabulary.groups[row.group], _percent(row.p_cause),
                      _interval(row.low, row.high), _percent(row.p_present), _percent(row.prior_cause))
    out.print(table)
    low, high = full.other_interval()
    out.print(f"Other or idiopathic causes: p_cause {_percent(result.other_causes['p_cause'])} "
              f"({_interval(low, high)}; prior {_percent(result.other_causes['prior_cause'])})\n")
    groups = Table(title="Pathogenetic groups", title_justify="left")
    for column, justify in (("group", "left"), ("p_cause", "right"), (f"{mass} interval", "right"), ("prior", "right")):
        groups.add_column(column, justify=justify)
    for row in full.groups.itertuples():
        groups.add_row(row.label, _percent(row.p_cause), _interval(row.low, row.high), _percent(row.prior_cause))
    out.print(groups)
    _print_impact(out, full, priors)
    _print_tests(out, full, priors)
    if case.diagnosis:
        out.print(f"Reference diagnosis of the source: {priors.vocabulary.conditions[case.diagnosis]['label']} "
                  f"(rank {result.rank_of(case.diagnosis)}).")
    out.print(f"\n[italic]{DISCLAIMER}[/italic]")
    return 0


def _print_impact(out: Console, full, priors) -> None:
    from rich.table import Table
    import numpy as np
    leader = full.result.leader
    impact = full.evidence_impact[full.evidence_impact["cause"] == leader]
    if impact.empty:
        return
    table = Table(title=f"Evidence impact on the leader ({priors.vocabulary.conditions[leader]['label']}): "
                        f"likelihood ratio of each finding given all the others", title_justify="left")
    for column, justify in (("finding", "left"), ("LR", "right"), ("decibans", "right"),
                            ("p_cause without", "right"), ("effect", "left")):
        table.add_column(column, justify=justify)
    for row in impact.sort_values("decibans", ascending=False).itertuples():
        finite = np.isfinite(row.decibans)
        table.add_row(f"{row.finding}={row.state}", f"{row.likelihood_ratio:.3g}" if finite else "-",
                      f"{row.decibans:+.1f}" if finite else "-", _percent(row.p_without),
                      row.direction if finite else row.note.split(":")[0])
    out.print(table)


def _print_tests(out: Console, full, priors, top: int = 5) -> None:
    from rich.table import Table
    table = Table(title="Next best tests (expected information gain on the cause)", title_justify="left")
    for column, justify in (("test", "left"), ("gain (bits)", "right"), ("P(changes leader)", "right"),
                            ("results: probability -> leader's p_cause", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in full.next_tests.head(top).itertuples():
        results = "; ".join(f"{r['state']} {_percent(r['probability'])} -> {_percent(r['leader_p_cause'])}"
                            for r in row.results)
        table.add_row(row.finding, f"{row.information_gain:.3f}", _percent(row.p_change_leader), results)
    out.print(table)


# --------------------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    from ..data.evidence import load_case
    from ..data.priors import load_priors
    from .report import write_report

    priors = load_priors()
    case = load_case(args.case, priors.vocabulary)
    with progress_steps(5, "report") as step:
        report = write_report(priors, case, args.out, scenario=args.scenario, draws=args.draws, seed=args.seed,
                              engine=args.engine, progress=step)
    print(f"wrote {report.html} and {report.markdown} ({len(report.figures)} figures)")
    return 0


# --------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    from rich.table import Table
    from ..data.priors import load_priors
    from . import bench

    priors = load_priors()
    with progress_steps(6, "benchmark") as step:
        results = bench.run(priors, queries=args.queries, seed=args.seed, batch_patients=args.batch_patients,
                            mixed_patients=args.mixed_patients, progress=step)
    if args.json:
        stamp.dump(stamp.stamped(results, priors, None))
        return 0
    table = Table(title=f"Benchmark ({results['queries']} random consultation queries, "
                        f"{results['observed_findings_per_query']} findings each; medians)", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("pgmpy VariableElimination, ms per query", results["pgmpy_ve_ms"]),
        ("pyAgrum LazyPropagation (targets set, 1 thread), ms per new patient", results.get("pyagrum_ms")),
        ("pyAgrum LazyPropagation, ms per repeated patient", results.get("pyagrum_ms_repeated")),
        ("compiled engine, ms per new pattern of findings (planning included)", results["engine_ms_batch1_cold"]),
        ("compiled engine, ms per patient of a planned pattern", results["engine_ms_batch1"]),
        ("compiled engine, batch 100, ms per patient", results["engine_ms_batch100"]),
        (f"compiled engine, batch {results['large_batch_patients']:,} (one pattern), ms per patient",
         results["engine_ms_large_batch"]),
        (f"Model.posteriors, {results['mixed_patients']:,} patients stating 2-7 random findings each, ms per patient",
         results["mixed_ms_per_patient"]),
        ("  its peak memory traced, MB", results["mixed_memory_mb"]),
        ("speed-up vs pgmpy (planned pattern)", results["speedup_vs_pgmpy"]),
        ("speed-up vs pyAgrum, new pattern / new patient", results.get("speedup_vs_pyagrum_new")),
        ("speed-up vs pyAgrum, planned pattern / repeated patient", results.get("speedup_vs_pyagrum_repeated")),
        ("speed-up vs pyAgrum, batch 100", results.get("speedup_vs_pyagrum_batch100")),
        (f"full consultation in a running process, {results.get('full_consult_case')} (1000 draws), s",
         results["full_consult_s"]),
        ("cold command line: consult --json on that case (priors, tables, draws and plans cached on disk), s",
         results["cli_consult_cold_s"]),
        ("cold command line: --help, s", results["cli_help_s"]),
        ("flops per query (plan arithmetic), a batch of one pattern", results["flops_per_query"]),
        ("flops per query, one patient alone (findings folded into the tables)", results["flops_per_query_alone"]),
        (f"achieved GFLOP/s at batch {results['large_batch_patients']:,}", results["achieved_gflops_large_batch"]),
        ("this machine's dense matrix product, GFLOP/s", results["machine_gflops_dgemm"]),
        ("memory of the compiled engine, MB (peak while planning and querying)", results["engine_memory_mb"]),
        ("largest difference from pgmpy's posteriors", results["pgmpy_max_difference"]),
        ("largest difference from pyAgrum's posteriors", results.get("pyagrum_max_difference")),
    ]
    for name, value in rows:
        table.add_row(name, "n/a" if value is None else f"{value:.4g}")
    _console().print(table)
    if results.get("pyagrum_note"):
        print(results["pyagrum_note"])
    return 0


# --------------------------------------------------------------------------- nodes
def cmd_nodes(args: argparse.Namespace) -> int:
    from rich.table import Table
    from ..network.assembly import build_network
    from ..data.priors import load_priors
    priors = load_priors()
    network = build_network(priors, args.scenario)
    nodes = network.nodes.values() if args.all else network.public_nodes()
    if args.json:
        payload = {"nodes": [{"id": n.id, "kind": n.kind, "states": list(n.states), "parents": list(n.parents),
                              "label": n.label, "group": n.group, "category": n.category} for n in nodes]}
        stamp.dump(stamp.stamped(payload, priors, network.scenario.id))
        return 0
    table = Table(title=f"Nodes ({'all' if args.all else 'public; --all adds the latent ones'})", title_justify="left")
    for column in ("id", "kind", "states", "parents"):
        table.add_column(column, overflow="fold")
    for n in nodes:
        table.add_row(n.id, n.kind if not n.category or n.kind == "condition" else f"{n.kind} ({n.category})",
                      ", ".join(n.states), ", ".join(n.parents))
    _console().print(table)
    return 0


# --------------------------------------------------------------------------- priors
def cmd_priors(args: argparse.Namespace) -> int:
    from rich.table import Table
    from ..data.priors import load_priors
    priors = load_priors()
    table = priors.parameter_table()
    counts = table["kind"].value_counts().reindex(["literature", "derived", "judgement"], fill_value=0)
    summary = {kind: int(n) for kind, n in counts.items()}
    summary["literature_or_derived_share"] = (summary["literature"] + summary["derived"]) / len(table)
    if args.sensitivity:
        from ..data.evidence import bundled_cases, load_case
        from ..analyses.sensitivity import TOP, top_parameters, trusted_share
        cases = [load_case(p, priors.vocabulary) for p in bundled_cases()]
        with progress_steps(len(cases), "sensitivity") as step:
            sensitive = top_parameters(priors, cases, progress=step)
        trusted, distinct = trusted_share(sensitive)
        summary["sensitive"] = {"cases": len(cases), "top": TOP, "parameters": distinct,
                                "literature_or_derived": trusted, "share": trusted / distinct}
    if args.json:
        stamp.dump(stamp.stamped({"parameters": table.to_dict(orient="records"),
                                  "summary": {"total": len(table), **summary}}, priors, "all"))
        return 0
    out = _console()
    view = Table(title="Parameters", title_justify="left")
    for column in ("parameter", "value", "interval", "kind", "source"):
        view.add_column(column, overflow="fold")
    for row in table.itertuples():
        view.add_row(row.parameter, f"{row.value:.4g}", f"[{row.low:.3g}, {row.high:.3g}]", row.kind, row.source)
    out.print(view)
    out.print(f"{len(table)} parameters: {summary['literature']} literature, {summary['derived']} derived, "
              f"{summary['judgement']} judgement ({_percent(summary['literature_or_derived_share'])} literature or "
              "derived; goal 70%).")
    if args.sensitivity:
        sens = summary["sensitive"]
        out.print(f"In some bundled case's top-{sens['top']} sensitivity list ({sens['cases']} cases): "
                  f"{sens['parameters']} parameters, {sens['literature_or_derived']} literature or derived "
                  f"({_percent(sens['share'])}; goal 90%).")
    else:
        out.print("Add --sensitivity for the share among the parameters the bundled cases hinge on.")
    return 0


# --------------------------------------------------------------------------- cases
def cmd_cases(args: argparse.Namespace) -> int:
    from rich.table import Table
    from ..data.priors import load_priors
    from ..analyses.evaluation import case_rankings
    table = case_rankings(args.folder, args.engine)
    ranked = table.dropna(subset=["rank"])
    summary = {"cases": len(ranked), "top1": int((ranked["rank"] == 1).sum()), "top3": int((ranked["rank"] <= 3).sum())}
    if args.json:
        stamp.dump(stamp.stamped({"cases": table.to_dict(orient="records"), "summary": summary}, load_priors(),
                                 "per case"))
        return 0
    view = Table(title="Bundled cases: rank of the reference diagnosis", title_justify="left")
    for column in ("case", "diagnosis", "rank", "p_cause", "leader"):
        view.add_column(column, overflow="fold")
    for row in table.itertuples():
        view.add_row(row.case, str(row.diagnosis), str(int(row.rank)) if row.rank == row.rank else "-",
                     _percent(row.p_cause) if row.p_cause == row.p_cause else "-",
                     f"{row.leader} ({_percent(row.leader_p_cause)})")
    out = _console()
    out.print(view)
    out.print(f"{summary['top1']}/{summary['cases']} ranked first, {summary['top3']}/{summary['cases']} in the top three.")
    return 0


# --------------------------------------------------------------------------- main
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: same status, no traceback
        self.print_usage(sys.stderr)
        self.exit(2, f"calcinosis: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="calcinosis", description="Why does this patient have calcium deposits in soft tissue? "
                     "A literature-parameterised Bayesian network. " + DISCLAIMER)
    parser.add_argument("--version", action="version", version=f"calcinosis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    consult = sub.add_parser("consult", help="ranked differential for a case file")
    consult.add_argument("case", type=Path, help="case file (YAML), e.g. evidence_examples/paparo2011_fig01_*.yaml")
    consult.add_argument("--scenario", help="population (default: the case's, else general_population)")
    consult.add_argument("--set", action="append", metavar="ID=STATE", help="add or change a finding (repeatable)")
    consult.add_argument("--json", action="store_true", help="one JSON object on standard output")
    consult.add_argument("--top", type=count("top"), default=10, help="rows of the differential to show (1-100, default 10)")
    consult.add_argument("--all", action="store_true", help="show every condition")
    consult.add_argument("--engine", choices=list(ENGINE_NAMES), default="compiled",
                         help="inference engine (default: compiled; pgmpy is the reference)")
    consult.add_argument("--draws", type=count("draws"), default=DEFAULT_DRAWS,
                         help=f"parameter draws for the intervals (1-10,000, default {DEFAULT_DRAWS})")
    consult.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    consult.set_defaults(run=cmd_consult)

    report = sub.add_parser("report", help="HTML and Markdown consultation report for a case file")
    report.add_argument("case", type=Path)
    report.add_argument("--out", type=Path, default=Path("reports"), help="folder (default: reports/)")
    report.add_argument("--scenario")
    report.add_argument("--engine", choices=list(ENGINE_NAMES), default="compiled")
    report.add_argument("--draws", type=count("draws"), default=DEFAULT_DRAWS, help="1-10,000")
    report.add_argument("--seed", type=int, default=DEFAULT_SEED)
    report.set_defaults(run=cmd_report)

    bench = sub.add_parser("bench", help="time the compiled engine against pgmpy and pyAgrum")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--queries", type=count("queries"), default=20, help="random consultation queries (default 20)")
    bench.add_argument("--seed", type=int, default=DEFAULT_SEED)
    bench.add_argument("--batch-patients", type=count("batch_patients"), default=10_000,
                       help="patients of the large batch of one pattern (100-100,000, default 10,000)")
    bench.add_argument("--mixed-patients", type=count("mixed_patients"), default=10_000,
                       help="patients of the mixed batch given to Model.posteriors (100-100,000, default 10,000)")
    bench.set_defaults(run=cmd_bench)

    nodes = sub.add_parser("nodes", help="every node with its states, kind and parents")
    nodes.add_argument("--json", action="store_true")
    nodes.add_argument("--all", action="store_true", help="include latent nodes")
    nodes.add_argument("--scenario")
    nodes.set_defaults(run=cmd_nodes)

    cases = sub.add_parser("cases", help="rank of the reference diagnosis for every bundled case")
    cases.add_argument("--json", action="store_true")
    cases.add_argument("--folder", type=Path, help="folder of case files (default: evidence_examples/)")
    cases.add_argument("--engine", choices=list(ENGINE_NAMES), default="compiled")
    cases.set_defaults(run=cmd_cases)

    listing = sub.add_parser("priors", help="every parameter with its value, interval, kind and source")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--sensitivity", action="store_true",
                         help="also the provenance of the parameters in each bundled case's top-ten sensitivity "
                              "list (one-way sensitivity on every bundled case; about a minute)")
    listing.set_defaults(run=cmd_priors)

    # The other commands live beside the concern they serve.
    from . import corpus_cli, teaching_cli, validation_cli, whatif_cli
    from .web import screenshots, server

    corpus_cli.add_commands(sub)      # corpus, learn, evaluate
    teaching_cli.add_commands(sub)    # teach, lesson, plot
    whatif_cli.add_commands(sub)      # whatif, sweep, simulate
    validation_cli.add_commands(sub)  # validate, export
    server.add_commands(sub)          # serve
    screenshots.add_commands(sub)     # screenshots
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CalcinosisError as exc:
        print(f"calcinosis: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"calcinosis: error: {exc.filename or 'file'}: {exc.strerror}.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
