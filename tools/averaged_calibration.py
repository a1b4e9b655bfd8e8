"""Measure what averaging p_cause over the parameter draws does to accuracy and calibration.

The tool reports p_cause at the central parameters and its interval over parameter draws. This
script scores the published corpus, each case in its own scenario and out of sample (by the
lesion tables learned without the case's own publication, as ``calcinosis evaluate`` does), with
three answers:

- ``central``: p_cause at the central parameters (what the tool reports);
- ``mean over draws``: p_cause averaged over the draws, each draw's posterior weighted equally;
- ``weighted by P(evidence)``: the average with each draw weighted by the probability it gives
  the evidence (the parameters updated by the patient's own findings).

It prints top-1, top-3, the expected calibration error (ECE) of the leader's p_cause and the log
loss, computed as ``calcinosis evaluate`` computes them (``central`` reproduces its out-of-sample
row). A measurement for the record, not a setting; about three minutes:

    python tools/averaged_calibration.py [--draws 200] [--seed 2011]
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.progress import track

from calcinosis import load_priors
from calcinosis.analyses.evaluation import summarise
from calcinosis.analyses.learning import fold_priors
from calcinosis.analyses.uncertainty import ParameterDraws
from calcinosis.data.corpus import load_corpus
from calcinosis.data.priors import OTHER_CAUSES
from calcinosis.foundation.defaults import DEFAULT_SEED
from calcinosis.inference.engine import CompiledEngine
from calcinosis.network.assembly import CALCIFICATION, DEFAULT_SCENARIO, LESION_CAUSE, build_tables, get_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    priors = load_priors()
    corpus = load_corpus()
    cases = [c for c in corpus.cases if c.diagnosis]
    causes = [*priors.vocabulary.conditions, OTHER_CAUSES]
    answers = {"central": [], "mean over draws": [], "weighted by P(evidence)": []}
    folds = sorted({(c.scenario or DEFAULT_SCENARIO, c.publication) for c in cases})
    for scenario_id, publication in track(folds, description="folds"):
        scenario = get_scenario(priors, scenario_id)
        fold = fold_priors(priors, corpus.cases, publication)
        central = CompiledEngine(build_tables(fold, scenario))
        drawn_engine = CompiledEngine(build_tables(fold, scenario, ParameterDraws(fold, args.draws, args.seed)))
        states = central.tables.states[LESION_CAUSE]
        columns = [states.index(c) for c in causes]
        for case in (c for c in cases if (c.scenario or DEFAULT_SCENARIO, c.publication) == (scenario_id, publication)):
            evidence = {**case.evidence, CALCIFICATION: "present"}
            truth = causes.index(case.diagnosis)
            drawn = drawn_engine.query([evidence], [LESION_CAUSE])
            p = drawn.marginals[LESION_CAUSE][0][:, columns].astype(float)      # (draws, causes)
            p = p / p.sum(axis=1, keepdims=True)
            weight = drawn.probability[0]
            answers["mean over draws"].append((truth, np.nanmean(p, axis=0)))
            answers["weighted by P(evidence)"].append((truth, (weight[:, None] * p).sum(axis=0) / weight.sum()))
            point = central.query([evidence], [LESION_CAUSE]).marginals[LESION_CAUSE][0][0, columns]
            answers["central"].append((truth, point))
    print(f"{len(cases)} published cases, out of sample, {args.draws} draws (seed {args.seed})")
    for name, pairs in answers.items():
        truth = np.array([t for t, _ in pairs])
        metrics = summarise(np.array([p / p.sum() for _, p in pairs]), truth, len(causes) - 1)
        print(f"{name:>24}: top-1 {metrics['top1']:.1%}  top-3 {metrics['top3']:.1%}  "
              f"ECE {metrics['ece']:.3f}  log loss {metrics['log_loss']:.3f}")


if __name__ == "__main__":
    main()
