"""Search the order of the attribution chain that keeps exact inference small.

The attribution chain links every condition's producer one after another; its
order changes no probability (up to three simultaneous producers) but sets the
size of the cliques that exact inference multiplies. This script starts from the
order in ``priors/settings.yaml`` and moves one condition at a time to the
position that most reduces the summed clique size of the two plans a
consultation compiles (all findings observed, none observed), until no move
helps. It prints the order to paste under ``attribution_order:``.

    python tools/attribution_order.py [--scenario general_population] [--minutes 15]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from calcinosis import load_priors
from calcinosis.inference.engine import CompiledEngine
from calcinosis.network.assembly import LESION_CAUSE, build_tables


def cost(priors, order: list[str], scenario: str) -> tuple[int, int]:
    """(summed clique entries, largest clique) of the all-observed and none-observed plans."""
    settings = priors.settings.model_copy(update={"attribution_order": tuple(order)})
    tables = build_tables(dataclasses.replace(priors, settings=settings), scenario)
    engine = CompiledEngine(tables)
    observed = sorted(n for n in priors.vocabulary.nodes if n in tables.states)
    plans = [engine.plan(o, [LESION_CAUSE]) for o in (observed, [])]
    return (sum(p.total_entries for p in plans), max(p.largest_clique for p in plans))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="general_population")
    parser.add_argument("--minutes", type=float, default=15.0)
    args = parser.parse_args()
    priors = load_priors()
    best = priors.attribution_chain
    best_cost = cost(priors, best, args.scenario)
    print("start", best_cost)
    deadline = time.monotonic() + 60 * args.minutes
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for cid in list(best):
            for position in range(len(best)):
                if time.monotonic() > deadline:
                    break
                order = [c for c in best if c != cid]
                order.insert(position, cid)
                candidate = cost(priors, order, args.scenario)
                if candidate < best_cost:
                    best, best_cost, improved = order, candidate, True
                    print(best_cost, cid, "->", position, flush=True)
    print("best", best_cost)
    print("attribution_order:")
    for cid in best:
        print(f"  - {cid}")


if __name__ == "__main__":
    main()
