"""The epidemiologic what-if commands: ``whatif``, ``sweep`` and ``simulate``.

``whatif`` prints the population summaries of a scenario (or several side by side with
``--compare``), ``sweep`` traces outputs over a range of one parameter, ``simulate``
writes a simulated cohort. Scenario options are shared: ``--scenario`` (a preset or a
YAML file), ``--set key=value`` (repeatable) and ``--do id=state`` (repeatable);
``--dask ADDRESS`` runs the chunks on a Dask cluster instead of the local cores.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path


from ..foundation.defaults import DEFAULT_SEED
from ..foundation import stamp
from ..errors import ScenarioError
from ..data.vocabulary import split_assignment
from .console import console
from ..foundation.formatting import percent
from ..foundation.defaults import DEFAULT_SCENARIO, DISCLAIMER
from ..foundation.limits import count


def _num(x) -> str:
    if x is None or x != x:
        return "-"
    return "inf" if x == float("inf") else f"{x:.3g}"


@contextmanager
def _client(address: str | None):
    """A Dask client for ``--dask ADDRESS``, or None (local cores)."""
    from ..foundation.extras import require
    if not address:
        yield None
        return
    Client = require("dask.distributed", "--dask").Client
    try:
        client = Client(address, timeout=10)
    except (OSError, TimeoutError) as exc:
        raise ScenarioError(f"--dask {address}: cannot reach the Dask scheduler ({exc}).") from None
    try:
        yield client
    finally:
        client.close()


def _scenario_options(parser: argparse.ArgumentParser, scenario: bool = True) -> None:
    if scenario:
        parser.add_argument("--scenario", help="a preset of priors/scenarios (default general_population) or a YAML file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change the population: prevalence.<condition>=P[LOW,HIGH], <condition>=present|absent, "
                             "<context>=<state> (a stratum), population.<context>.<state>=P (repeatable)")
    parser.add_argument("--do", action="append", default=[], metavar="ID=STATE",
                        help="intervention (graph surgery): force a node to a state for everybody (repeatable)")
    parser.add_argument("--dask", metavar="ADDRESS", help="run the chunks on this Dask scheduler (default: local cores)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")


# --------------------------------------------------------------------------- whatif
def _summary_tables(out: Console, summary, findings: list[str] | None, top_signs: int) -> None:
    from rich.table import Table
    out.print(f"[bold]{summary.label}[/bold]  ({summary.scenario})" +
              (f"  interventions: {', '.join(summary.interventions)}" if summary.interventions else ""))
    low, high = summary.interval
    out.print(f"P(soft-tissue calcification): {summary.per_100k:,.0f} per 100,000 "
              f"({low * 1e5:,.0f}-{high * 1e5:,.0f}; {summary.credible_mass:.0%} interval over {summary.draws} draws)\n")
    groups = Table(title="Case mix by group: P(group | calcification)", title_justify="left")
    for column, justify in (("group", "left"), ("p", "right"), ("interval", "right")):
        groups.add_column(column, justify=justify)
    for r in summary.group_mix.itertuples():
        groups.add_row(r.label, percent(r.p), f"{percent(r.low)}-{percent(r.high)}")
    out.print(groups)
    mix = Table(title="Case mix by condition: P(cause | calcification)", title_justify="left")
    for column, justify in (("cause", "left"), ("group", "left"), ("p", "right"), ("interval", "right")):
        mix.add_column(column, justify=justify)
    for r in summary.case_mix.head(12).itertuples():
        mix.add_row(r.label, r.group, percent(r.p), f"{percent(r.low)}-{percent(r.high)}")
    out.print(mix)
    signs = summary.signs
    if findings:
        signs = signs[signs["finding"].isin(findings)]
        title = "Finding states as tests of each group and top cause (given a calcification)"
    else:
        signs = signs[signs["target_kind"] == "group"].sort_values("lr_pos", ascending=False).head(top_signs)
        title = (f"The {top_signs} finding states with the largest LR+ for a group (--finding ID for one finding; "
                 f"--json or --csv for all)")
    table = Table(title=title, title_justify="left")
    for column in ("finding=state", "target", "sens", "spec", "LR+ (interval)", "LR-", "PPV (interval)", "NPV"):
        table.add_column(column, justify="left" if column in ("finding=state", "target") else "right")
    for r in signs.itertuples():
        table.add_row(f"{r.finding}={r.state}", r.group, percent(r.sensitivity), percent(r.specificity),
                      f"{_num(r.lr_pos)} ({_num(r.lr_pos_low)}-{_num(r.lr_pos_high)})", _num(r.lr_neg),
                      f"{percent(r.ppv)} ({percent(r.ppv_low)}-{percent(r.ppv_high)})", percent(r.npv))
    out.print(table)


def cmd_whatif(args: argparse.Namespace) -> int:
    from rich.table import Table
    from ..data.evidence import parse_assignments
    from ..data.priors import load_priors
    from ..network.scenarios import build_whatif
    from ..analyses.whatif import Comparison, summarize

    priors = load_priors()
    if args.finding:
        unknown = [f for f in args.finding if f not in priors.vocabulary.findings]
        if unknown:
            parse_assignments([f"{unknown[0]}=x"], priors.vocabulary, "--finding")
    names = args.compare or [args.scenario]
    if args.compare and args.scenario:
        raise ScenarioError("--compare lists the scenarios to compare; do not combine it with --scenario.")
    whatifs = [build_whatif(priors, name, args.set, args.do) for name in names]
    with _client(args.dask) as client:
        summaries = [summarize(priors, w, draws=args.draws, seed=args.seed, client=client) for w in whatifs]
    comparison = Comparison(summaries)
    if args.csv:
        comparison.to_frame().to_csv(args.csv, index=False)
    if args.json:
        payload = summaries[0].to_dict() if len(summaries) == 1 else comparison.to_dict()
        payload["disclaimer"] = DISCLAIMER
        stamp.dump(stamp.stamped(payload, priors, ",".join(names) if args.compare else whatifs[0].id))
        return 0
    out = console(width=140)
    if len(summaries) == 1:
        _summary_tables(out, summaries[0], args.finding, args.top)
    else:
        for title, section in (("Case mix by group", "group_mix"), ("Case mix by condition (top 12)", "case_mix")):
            frame = comparison.table(section).head(12)
            table = Table(title=f"{title}: P(cause | calcification); differences against {summaries[0].scenario}",
                          title_justify="left")
            table.add_column("id")
            for column in frame.columns:
                table.add_column(column, justify="right", overflow="fold")
            for identifier, row in frame.iterrows():
                table.add_row(identifier, *[(f"{100 * v:+.1f} pts" if str(c).startswith("diff") else percent(v))
                                            for c, v in row.items()])
            out.print(table)
        for s in summaries:
            out.print(f"P(calcification) in {s.scenario}: {s.per_100k:,.0f} per 100,000 "
                      f"({s.interval[0] * 1e5:,.0f}-{s.interval[1] * 1e5:,.0f})")
        if args.finding:
            for s in summaries:
                _summary_tables(out, s, args.finding, args.top)
    if args.csv:
        out.print(f"wrote {args.csv}")
    out.print(f"\n[italic]{DISCLAIMER}[/italic]")
    return 0


# --------------------------------------------------------------------------- sweep
def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.table import Table
    from ..data.priors import load_priors
    from ..analyses.whatif import sweep, sweep_figure

    priors = load_priors()
    with _client(args.dask) as client:
        table = sweep(priors, args.parameter, args.start, args.stop, args.steps, outputs=args.output or ["metabolic"],
                      scenario=args.scenario, sets=args.set, do=args.do, draws=args.draws, seed=args.seed,
                      log=args.log, client=client)
    if args.figure:
        figure = sweep_figure(table)
        figure.savefig(args.figure, dpi=120)
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.json:
        stamp.dump(stamp.stamped({"parameter": args.parameter, "rows": table.to_dict(orient="records"),
                                  "draws": args.draws, "seed": args.seed, "disclaimer": DISCLAIMER},
                                 priors, args.scenario or DEFAULT_SCENARIO))
        return 0
    out = console(width=140)
    view = Table(title=f"Sweep of {args.parameter} ({args.draws} parameter draws)", title_justify="left")
    for column in ("value", "output", "p", "interval"):
        view.add_column(column, justify="left" if column == "output" else "right")
    for r in table.itertuples():
        view.add_row(f"{r.value:.4g}", r.output, percent(r.p), f"{percent(r.low)}-{percent(r.high)}")
    out.print(view)
    for path in (args.figure, args.csv):
        if path:
            out.print(f"wrote {path}")
    out.print(f"\n[italic]{DISCLAIMER}[/italic]")
    return 0


# --------------------------------------------------------------------------- simulate
def cmd_simulate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..analyses.cohort import simulate
    from ..data.priors import load_priors
    from ..network.scenarios import build_whatif

    priors = load_priors()
    if args.out.suffix not in (".parquet", ".csv"):
        raise ScenarioError(f"--out {args.out}: the file must end in .parquet or .csv.")
    evidence = {}
    for item in args.condition_on:
        node, state = split_assignment(item, "--condition-on", "chronic_kidney_disease=present", ScenarioError)
        evidence[node] = state
    whatif = build_whatif(priors, args.scenario, args.set, args.do)
    bar = Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} patients"),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())
    with bar, _client(args.dask) as client:
        task = bar.add_task("simulate", total=args.n)
        cohort = simulate(priors, whatif, args.n, seed=args.seed, condition_on=evidence, method=args.method,
                          chunk=args.chunk, client=client, progress=lambda done, total: bar.update(task, completed=done))
    cohort.write(args.out)
    print(f"wrote {args.out}: {len(cohort.frame):,} patients of {cohort.scenario} ({cohort.method}"
          f"{', ' + str(cohort.drawn) + ' drawn' if evidence and args.method == 'rejection' else ''}), seed {args.seed}.")
    print(DISCLAIMER)
    return 0


def add_commands(sub) -> None:
    """Register ``whatif``, ``sweep`` and ``simulate`` on the main parser's subcommands."""
    from ..foundation.defaults import WHATIF_DRAWS as DEFAULT_DRAWS

    whatif = sub.add_parser("whatif", help="population summaries: P(calcification), case mix, sensitivity, "
                                           "specificity, LR and predictive values of every finding")
    _scenario_options(whatif)
    whatif.add_argument("--compare", nargs="+", metavar="SCENARIO", help="several scenarios side by side")
    whatif.add_argument("--finding", action="append", metavar="ID", help="show these findings' test values")
    whatif.add_argument("--top", type=count("top"), default=12, help="finding states shown without --finding (1-100, default 12)")
    whatif.add_argument("--draws", type=count("interval_draws"), default=DEFAULT_DRAWS,
                        help=f"parameter draws for the intervals (default {DEFAULT_DRAWS})")
    whatif.add_argument("--json", action="store_true", help="one JSON object on standard output")
    whatif.add_argument("--csv", type=Path, help="write every figure as one long table")
    whatif.set_defaults(run=cmd_whatif)

    sweep = sub.add_parser("sweep", help="trace outputs over a range of one --set parameter, with bands")
    sweep.add_argument("parameter", help="a --set key, e.g. prevalence.chronic_kidney_disease")
    sweep.add_argument("--from", dest="start", type=float, required=True)
    sweep.add_argument("--to", dest="stop", type=float, required=True)
    sweep.add_argument("--steps", type=count("steps"), default=5, help="2-101 (default 5)")
    sweep.add_argument("--log", action="store_true", help="geometric steps")
    sweep.add_argument("--output", action="append", metavar="TARGET[|ID=STATE,...]",
                       help="e.g. 'metabolic|sedimentation_sign=present', a group, a condition, p_calcification, "
                            "'present:gout' (the condition present, not its share of the causes) (repeatable; "
                            "default metabolic)")
    _scenario_options(sweep)
    sweep.add_argument("--draws", type=count("interval_draws"), default=DEFAULT_DRAWS, help="2-10,000")
    sweep.add_argument("--figure", type=Path, help="save the figure (.png or .svg)")
    sweep.add_argument("--csv", type=Path)
    sweep.add_argument("--json", action="store_true")
    sweep.set_defaults(run=cmd_sweep)

    simulate = sub.add_parser("simulate", help="simulate a cohort of patients (forward sampling)")
    _scenario_options(simulate)
    simulate.add_argument("-n", type=count("patients"), default=10_000, help="patients (1-10,000,000, default 10,000)")
    simulate.add_argument("--condition-on", action="append", default=[], metavar="ID=STATE",
                          help="evidence every patient matches (repeatable)")
    simulate.add_argument("--method", choices=["rejection", "weighting"], default="rejection")
    simulate.add_argument("--chunk", type=count("chunk"), default=100_000, help="patients per chunk (1,000-1,000,000, default 100,000)")
    simulate.add_argument("--out", type=Path, required=True, help="cohort.parquet or cohort.csv")
    simulate.set_defaults(run=cmd_simulate)
