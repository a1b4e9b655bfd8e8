"""Commands ``validate`` (literature targets, model card) and ``export`` (exchange formats).

``calcinosis validate [--json] [--report [--out DIR]]`` computes every target of
``priors/targets.yaml`` with its credible interval and marks pass or fail; it exits 0 when
every failure is a recorded ``known_failure`` and 1 when an unexpected one appears.
``--report`` writes the model card. ``calcinosis export --format F --out FILE`` writes
the network for another tool, reads it back, checks the posteriors on the bundled
cases and writes ``FILE.json`` beside it (the metadata: version, priors checksum,
scenario, state-name mapping, UAI variable order, the check).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..foundation import stamp
from ..foundation.defaults import DEFAULT_DRAWS, DEFAULT_SEED
from ..foundation.limits import count

DRAWS, SEED = DEFAULT_DRAWS, DEFAULT_SEED


def cmd_validate(args: argparse.Namespace) -> int:
    from ..data.priors import load_priors
    from ..analyses.targets import pass_rule, validate_targets

    priors = load_priors()
    if args.report:
        from .modelcard import write_card

        path = write_card(priors, args.out)
        print(f"wrote {path} and its figures in {path.parent / 'model-card'}")
        return 0
    table = validate_targets(priors, draws=args.draws, seed=args.seed)
    unexpected = table[~table["passed"] & table["known_failure"].isna()]
    if args.json:
        records = [{k: v for k, v in r.items()} for r in table.to_dict(orient="records")]
        stamp.dump(stamp.stamped({"rule": pass_rule(priors.settings), "draws": args.draws, "seed": args.seed,
                                  "targets": records,
                                  "summary": {"targets": len(table), "passed": int(table["passed"].sum()),
                                              "unexpected_failures": len(unexpected)}},
                                 priors, "per target"))
        return 1 if len(unexpected) else 0
    from rich.markup import escape
    from rich.table import Table

    from .console import console as _console
    from ..foundation.formatting import percent as _percent
    mass = priors.settings.credible_percent
    view = Table(title=f"Literature targets (implied {mass} interval over {args.draws} draws, seed {args.seed})",
                 title_justify="left")
    for column in ("target", "scenario", "published", "implied", f"{mass} interval", "result"):
        view.add_column(column, overflow="fold")
    for r in table.itertuples():
        published = (_percent(r.published_low) if r.published_low == r.published_high
                     else f"{_percent(r.published_low)}-{_percent(r.published_high)}")
        result = "pass" if r.passed else ("fail (known)" if r.known_failure else "[bold red]FAIL[/bold red]")
        view.add_row(r.target, r.scenario, published, _percent(r.implied),
                     f"{_percent(r.low)}-{_percent(r.high)}", result)
    out = _console()
    out.print(view)
    out.print(f"Rule: {escape(pass_rule(priors.settings))}.")
    out.print(f"{int(table['passed'].sum())}/{len(table)} targets pass; "
              f"{len(table) - int(table['passed'].sum()) - len(unexpected)} known failures (see the model card); "
              f"{len(unexpected)} unexpected.")
    return 1 if len(unexpected) else 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..data.priors import load_priors
    from ..inference.exchange import TOOLS, export_network

    priors = load_priors()
    result = export_network(priors, args.format, args.out, scenario=args.scenario, check=not args.no_check)
    meta = stamp.stamped({
        "file": str(result.path), "format": result.format, "opened_by": TOOLS[result.format],
        "state_names": result.state_names, "uai_variables": result.variables,
        "check": {"cases": result.cases_checked, "max_abs_difference": result.max_abs_difference,
                  "reader": result.reader},
    }, priors, result.scenario)
    meta_path = Path(f"{result.path}.json")
    with open(meta_path, "w", encoding="utf-8") as handle:
        stamp.dump(meta, handle)
    if args.json:
        stamp.dump(meta)
        return 0
    check = ("not checked (--no-check)" if result.max_abs_difference is None else
             f"read back by {result.reader} and checked on {result.cases_checked} bundled cases: "
             f"largest difference of a posterior "
             f"{result.max_abs_difference:.2g}")
    print(f"wrote {result.path} ({result.format}, scenario {result.scenario}; opens in {TOOLS[result.format]}); "
          f"{check}; metadata in {meta_path}")
    return 0


def add_commands(sub) -> None:
    """Register ``validate`` and ``export`` on the main parser's subcommands."""
    from ..foundation.defaults import EXCHANGE_FORMATS as FORMATS

    validate = sub.add_parser("validate", help="check the network against published figures (priors/targets.yaml)")
    validate.add_argument("--json", action="store_true")
    validate.add_argument("--report", action="store_true", help="write the model card (reports/model-card.md)")
    validate.add_argument("--out", type=Path, default=Path("reports"), help="folder of the model card")
    validate.add_argument("--draws", type=count("interval_draws"), default=DRAWS, help="2-10,000 (default 1000)")
    validate.add_argument("--seed", type=int, default=SEED)
    validate.set_defaults(run=cmd_validate)

    export = sub.add_parser("export", help="write the network for GeNIe, SamIam, Hugin, Netica or UAI solvers")
    export.add_argument("--format", required=True, choices=list(FORMATS))
    export.add_argument("--out", required=True, type=Path, help="file to write (metadata goes to FILE.json)")
    export.add_argument("--scenario")
    export.add_argument("--json", action="store_true", help="print the metadata as JSON")
    export.add_argument("--no-check", action="store_true", help="skip reading the file back")
    export.set_defaults(run=cmd_export)
