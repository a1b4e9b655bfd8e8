"""The teaching commands of the command line: ``teach``, ``lesson`` and ``plot``.

:func:`add_commands` registers them on the ``calcinosis`` parser. Each prints words
(or one JSON object with ``--json``) and saves figures with matplotlib's Agg backend
as PNG or SVG, chosen by the file's suffix. Bad input raises the package's errors,
which ``calcinosis.interfaces.cli.main`` turns into a one-paragraph message and exit status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..foundation import stamp
from ..errors import CalcinosisError, EvidenceError
from ..data.vocabulary import split_assignment
from ..foundation.limits import count

FIGURE_SUFFIXES = (".png", ".svg")


def _agg() -> None:
    import matplotlib

    matplotlib.use("Agg")


def save_figure(figure, path: Path) -> Path:
    """Save a figure as PNG or SVG (by suffix), creating the folder; returns the path."""
    path = Path(path)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise CalcinosisError(f"{path}: a figure is saved as .png or .svg; got the suffix '{path.suffix or '(none)'}'.")
    _agg()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight")
    return path


def _order(text: str | None) -> list[str] | None:
    return [item for item in text.split(",")] if text else None


def _walkthrough(args: argparse.Namespace):
    from ..data.evidence import load_case, parse_assignments
    from ..data.priors import load_priors
    from ..analyses.teaching import walkthrough

    priors = load_priors()
    case = load_case(args.case, priors.vocabulary)
    evidence = {**case.evidence, **parse_assignments(getattr(args, "set", None), priors.vocabulary)}
    return walkthrough(evidence, scenario=args.scenario or case.scenario, order=_order(getattr(args, "order", None)),
                       top=getattr(args, "top", 3), case=case)


def cmd_teach(args: argparse.Namespace) -> int:
    from ..analyses import teaching
    from ..analyses.teaching import render_walkthrough

    walk = _walkthrough(args)
    if args.figure:
        from .plots import draw_trajectory

        _agg()
        save_figure(draw_trajectory(walk), args.figure)
    if args.json:
        payload = walk.to_dict()
        if args.figure:
            payload["figure"] = str(args.figure)
        stamp.dump(stamp.stamped(payload, teaching.engine(walk.scenario).network.priors, walk.scenario))
        return 0
    print(render_walkthrough(walk))
    if args.figure:
        print(f"\nFigure of the trajectory: {args.figure}")
    return 0


def cmd_lesson(args: argparse.Namespace) -> int:
    from ..analyses import teaching

    options = {}
    if args.name == "d-separation" and (args.ask or args.given):
        if not args.ask or args.ask.count(",") != 1:
            raise EvidenceError(f"--ask: expected two node ids separated by a comma (e.g. raynaud_phenomenon,"
                                f"skin_thickening); got {args.ask!r}.")
        x, y = (part.strip() for part in args.ask.split(","))
        given = {}
        for item in args.given or []:
            key, state = split_assignment(item, "--given", "systemic_sclerosis=present")
            given[key] = state
        options["questions"] = [(x, y, given)]
    elif args.ask or args.given:
        raise EvidenceError("--ask and --given belong to the lesson d-separation.")
    result = teaching.lesson(args.name, **options)
    if args.json:
        stamp.dump(stamp.stamped(result.to_dict(), teaching.engine(None).network.priors, None))
        return 0
    print(result.render())
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from ..data.priors import load_priors
    _agg()
    from . import plots
    from ..network.assembly import build_network
    from ..analyses.teaching import DISCLAIMER

    what = args.what
    if what == "network":
        if args.target:
            raise EvidenceError(f"plot network takes no argument; got {args.target!r}.")
        figure = plots.draw_network(build_network(load_priors(), args.scenario))
    elif what == "neighbourhood":
        if not args.target:
            raise EvidenceError("plot neighbourhood needs a node id, e.g. `calcinosis plot neighbourhood serum_calcium`.")
        figure = plots.draw_neighbourhood(build_network(load_priors(), args.scenario), args.target, args.radius)
    else:
        if not args.target:
            raise EvidenceError("plot case needs a case file, e.g. `calcinosis plot case evidence_examples/"
                                "paparo2011_fig09_calcified_tophus_peroneal_ckd.yaml --out case.png`.")
        args.case = Path(args.target)
        walk = _walkthrough(args)
        draw = {"all": plots.draw_case, "bars": lambda w: plots.draw_prior_posterior(w.final_differential),
                "trajectory": plots.draw_trajectory, "odds": plots.draw_odds,
                "lr": plots.draw_likelihood_ratios}[args.kind]
        figure = draw(walk)
    path = save_figure(figure, args.out)
    print(f"Wrote {path} ({path.stat().st_size} bytes). {DISCLAIMER}")
    return 0


def add_commands(sub) -> None:
    """Register ``teach``, ``lesson`` and ``plot`` on the ``calcinosis`` sub-parsers."""
    from ..foundation.defaults import LESSON_NAMES as LESSONS

    teach = sub.add_parser("teach", help="add a case's findings one at a time: odds, likelihood ratios, posteriors")
    teach.add_argument("case", type=Path, help="case file (YAML)")
    teach.add_argument("--order", metavar="ID1,ID2,...", help="findings to add first, in this order")
    teach.add_argument("--scenario", help="population (default: the case's, else general_population)")
    teach.add_argument("--set", action="append", metavar="ID=STATE", help="add or change a finding (repeatable)")
    teach.add_argument("--top", type=count("top"), default=3, help="hypotheses followed step by step (1-100, default 3)")
    teach.add_argument("--figure", type=Path, metavar="FILE", help="save the trajectory figure (.png or .svg)")
    teach.add_argument("--json", action="store_true", help="one JSON object: steps and final")
    teach.set_defaults(run=cmd_teach)

    lesson = sub.add_parser("lesson", help=f"a lesson on Bayesian reasoning: {', '.join(LESSONS)}")
    lesson.add_argument("name", help=", ".join(LESSONS))
    lesson.add_argument("--ask", metavar="X,Y", help="d-separation: the two nodes to ask about")
    lesson.add_argument("--given", action="append", metavar="ID=STATE", help="d-separation: an observed node")
    lesson.add_argument("--json", action="store_true")
    lesson.set_defaults(run=cmd_lesson)

    plot = sub.add_parser("plot", help="draw the network, a node's neighbourhood or a case (PNG or SVG)")
    plot.add_argument("what", choices=("network", "neighbourhood", "case"))
    plot.add_argument("target", nargs="?", help="the node id (neighbourhood) or the case file (case)")
    plot.add_argument("--out", type=Path, required=True, metavar="FILE", help="output file, .png or .svg")
    plot.add_argument("--scenario", help="population (default: the case's, else general_population)")
    plot.add_argument("--radius", type=int, default=1, help="neighbourhood: arcs from the node (default 1)")
    plot.add_argument("--kind", choices=("all", "bars", "trajectory", "odds", "lr"), default="all",
                      help="case: which figure (default all four panels)")
    plot.add_argument("--order", metavar="ID1,ID2,...", help="case: findings to add first")
    plot.add_argument("--top", type=count("top"), default=3, help="case: hypotheses followed (1-100, default 3)")
    plot.set_defaults(run=cmd_plot)
