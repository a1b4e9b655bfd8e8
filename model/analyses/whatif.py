"""Population what-if summaries, comparisons and sweeps, exact with intervals from parameter draws.

For a :class:`scenarios.WhatIf` (a population and interventions) this module computes,
exactly with the compiled engine:

* P(soft-tissue calcification), reported per 100,000;
* the case mix P(lesion_cause = c | calcification) by condition and by pathogenetic group;
* for every finding state and every target T (each group, and the top causes of the
  case mix): sensitivity P(state | T, calcification), specificity
  P(not state | not T, calcification), LR+ = sens / (1 - spec), LR- = (1 - sens) / spec,
  PPV = P(T | state, calcification) and NPV = P(not T | not state, calcification), where
  PPV and NPV follow Bayes' rule from the case mix;

each with its central ``credible_mass`` interval (``priors/settings.yaml``) over parameter
draws. :func:`compare` puts several what-ifs side by side; :func:`sweep` traces chosen
outputs while one ``--set`` parameter varies. Draws are computed in chunks, over local
cores by default or over a ``dask.distributed.Client``: each draw of each parameter is
seeded from the master seed and the parameter itself (:class:`~.uncertainty.ParameterDraws`), so results
do not depend on the chunking, on the order of evaluation, or on where chunks run, and
scenarios compared or swept share their draws of common parameters.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..inference.engine import CompiledEngine
from ..errors import EvidenceError, PriorsError, ScenarioError, suggestion
from ..network.assembly import CALCIFICATION, LESION_CAUSE
from ..data.priors import OTHER_CAUSES, Priors
from ..network.scenarios import WhatIf, apply_settings, build_whatif
from .uncertainty import ParameterDraws
from ..data.vocabulary import split_assignment

from ..foundation.defaults import DEFAULT_SEED, NOT_A_DIAGNOSIS, WHATIF_DRAWS as DEFAULT_DRAWS  # noqa: E402,F401
PER = 100_000  # P(calcification) is reported per this many people
TOP_CAUSES = 5
DRAW_CHUNK = 50  # parameter draws per task
METABOLIC = "metabolic"  # shorthand for the two metabolic groups of the source review's Table I


# --------------------------------------------------------------------------- parameter draws
_ENGINES: dict[tuple, tuple] = {}


def whatif_key(whatif: WhatIf) -> str:
    return whatif.scenario.model_dump_json() + repr(whatif.do)


def engine_for_whatif(priors: Priors, whatif: WhatIf, draws: int | None = None, seed: int = DEFAULT_SEED,
                      start: int = 0, stop: int | None = None) -> CompiledEngine:
    """The compiled engine of a what-if: point estimate (``draws=None``) or a chunk of draws (cached)."""
    key = (id(priors), whatif_key(whatif), draws, seed, start, stop)
    if key not in _ENGINES or _ENGINES[key][0] is not priors:
        if len(_ENGINES) >= 16:
            _ENGINES.pop(next(iter(_ENGINES)))
        source = None if draws is None else ParameterDraws(priors, draws, seed, start=start, stop=stop)
        _ENGINES[key] = (priors, CompiledEngine(whatif.tables(priors, source)))
    return _ENGINES[key][1]


# --------------------------------------------------------------------------- scale-out
def workers(client=None) -> int:
    """How many chunks run at once: the Dask cluster's threads, or the local cores."""
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return max(1, os.cpu_count() or 1)


def parallel_map(function: Callable, items: Sequence, client=None) -> list:
    """``[function(item) for item in items]`` over local cores (threads: the work is in
    numpy, which releases the interpreter lock) or over a ``dask.distributed.Client``."""
    items = list(items)
    if client is not None:
        return client.gather(client.map(function, items, pure=False))
    if len(items) <= 1 or workers() <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(workers()) as pool:
        return list(pool.map(function, items))


def draw_chunks(draws: int, size: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) windows over the draws. Their size is fixed (not the number of
    workers), so that every run evaluates the same chunks and gives the same numbers
    to the last bit, locally or on any cluster."""
    size = size or DRAW_CHUNK
    return [(a, min(a + size, draws)) for a in range(0, draws, size)]


def _check_draws(draws: int) -> None:
    if not isinstance(draws, int) or draws < 2:
        raise ScenarioError(f"--draws: at least 2 parameter draws are needed for an interval; got {draws!r}.")


# --------------------------------------------------------------------------- measures
def _targets(priors: Priors) -> dict[str, list[str]]:
    """Group id -> its condition ids."""
    groups = {g: [] for g in priors.vocabulary.groups}
    for cid, entry in priors.vocabulary.conditions.items():
        groups[entry["group"]].append(cid)
    return groups


def _findings(priors: Priors) -> list[str]:
    return [f for f in priors.vocabulary.findings if f != CALCIFICATION]


def _measures(engine: CompiledEngine, priors: Priors, top: list[str]) -> dict:
    """Raw exact measures per draw: P(calcification), the case mix, and the finding
    distributions given calcification overall, given each group and each top cause."""
    causes = engine.tables.states[LESION_CAUSE]
    base = engine.query([{}], [CALCIFICATION, LESION_CAUSE]).marginals
    p_calc = base[CALCIFICATION][0, :, engine.tables.states[CALCIFICATION].index("present")]
    joint = base[LESION_CAUSE][0]                                      # (draws, causes) with 'none'
    mix = joint / joint[:, [i for i, c in enumerate(causes) if c != "none"]].sum(axis=1, keepdims=True)
    sets = [[c for c in causes if c != "none"]] + list(_targets(priors).values()) + [[c] for c in top]
    lam = np.array([[float(c in members) for c in causes] for members in sets])
    signs = engine.query([{}] * len(sets), _findings(priors), lambdas={LESION_CAUSE: lam}).marginals
    return {"p_calc": p_calc, "mix": mix, "signs": signs}


def _measures_task(task) -> dict:
    priors, whatif, draws, seed, start, stop, top = task
    return _measures(engine_for_whatif(priors, whatif, draws, seed, start, stop), priors, top)


def _concat(parts: list[dict]) -> dict:
    return {"p_calc": np.concatenate([p["p_calc"] for p in parts]),
            "mix": np.concatenate([p["mix"] for p in parts]),
            "signs": {f: np.concatenate([p["signs"][f] for p in parts], axis=1) for f in parts[0]["signs"]}}


def _interval(values: np.ndarray, mass: float) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)] if values.ndim == 1 else values
    if values.size == 0:
        return (math.nan, math.nan)
    tail = (1 - mass) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return (float(low), float(high))


def _bounds(values: np.ndarray, mass: float) -> tuple[np.ndarray, np.ndarray]:
    """Central intervals along axis 0 (draws), ignoring non-finite draws."""
    import warnings

    values = np.where(np.isfinite(values), values, np.nan)
    tail = (1 - mass) / 2
    with warnings.catch_warnings():  # an all-undefined cell (e.g. an absent group) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, tail, axis=0), np.nanquantile(values, 1 - tail, axis=0)


def _sign_metrics(signs: dict, mix: np.ndarray, causes: list[str], sets: list[list[str]]) -> dict[str, dict]:
    """Per finding: sens, spec, LR+, LR-, PPV, NPV as arrays (draws, targets, states)."""
    index = [[causes.index(c) for c in members] for members in sets]
    prior = np.stack([mix[:, i].sum(axis=1) for i in index], axis=1)[:, :, None]    # (draws, targets, 1)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for finding, marginals in signs.items():
            overall = marginals[0][:, None, :].astype(float)                       # (draws, 1, states)
            sens = np.moveaxis(marginals[1:], 0, 1).astype(float)                 # (draws, targets, states)
            other = np.clip((overall - prior * sens) / (1 - prior), 0, 1)          # P(state | not T)
            spec = 1 - other
            ppv = prior * sens / overall
            npv = (1 - prior) * spec / (1 - overall)
            out[finding] = {"sensitivity": sens, "specificity": spec, "lr_pos": sens / other,
                            "lr_neg": (1 - sens) / spec, "ppv": ppv, "npv": npv}
    return out


MEASURES = ("sensitivity", "specificity", "lr_pos", "lr_neg", "ppv", "npv")


@dataclass
class Summary:
    """Population summaries of one what-if (pandas DataFrames; intervals over parameter draws).

    Attributes
    ----------
    scenario, label : str
    p_calcification, interval : float, (low, high)
        P(soft-tissue calcification) and its interval (probabilities, not per 100,000).
    case_mix : DataFrame
        id, label, group, p, low, high (conditions and ``other_causes``), by decreasing p.
    group_mix : DataFrame
        id, label, p, low, high.
    signs : DataFrame
        finding, state, group (the target: a group or a top cause id), target_kind,
        prevalence (P(target | calcification)), and each of sensitivity, specificity,
        lr_pos, lr_neg, ppv, npv with its ``_low`` and ``_high``.
    """

    scenario: str
    label: str
    draws: int
    seed: int
    credible_mass: float
    p_calcification: float
    interval: tuple[float, float]
    case_mix: pd.DataFrame
    group_mix: pd.DataFrame
    signs: pd.DataFrame
    interventions: list = field(default_factory=list)

    @property
    def per_100k(self) -> float:
        return self.p_calcification * PER

    def to_frame(self) -> pd.DataFrame:
        """One long (tidy) table of everything: section, scenario, id, group, finding, state, measure, value, low, high."""
        rows = [{"section": "p_calcification_per_100k", "id": CALCIFICATION, "measure": "per_100k",
                 "value": self.per_100k, "low": self.interval[0] * PER, "high": self.interval[1] * PER}]
        for r in self.case_mix.itertuples():
            rows.append({"section": "case_mix", "id": r.id, "group": r.group, "measure": "p", "value": r.p,
                         "low": r.low, "high": r.high})
        for r in self.group_mix.itertuples():
            rows.append({"section": "group_mix", "id": r.id, "group": r.id, "measure": "p", "value": r.p,
                         "low": r.low, "high": r.high})
        signs = self.signs.melt(id_vars=["finding", "state", "group", "target_kind", "prevalence"],
                                value_vars=list(MEASURES), var_name="measure", value_name="value")
        low = self.signs.melt(id_vars=["finding", "state", "group"], value_vars=[f"{m}_low" for m in MEASURES])
        high = self.signs.melt(id_vars=["finding", "state", "group"], value_vars=[f"{m}_high" for m in MEASURES])
        signs["low"], signs["high"] = low["value"].to_numpy(), high["value"].to_numpy()
        signs["section"], signs["id"] = "signs", signs["group"]
        frame = pd.concat([pd.DataFrame(rows), signs.drop(columns=["target_kind", "prevalence"])], ignore_index=True)
        frame.insert(1, "scenario", self.scenario)
        return frame[["section", "scenario", "id", "group", "finding", "state", "measure", "value", "low", "high"]]

    def to_dict(self) -> dict:
        def interval(r):
            return [_finite(r.low), _finite(r.high)]

        signs = []
        for r in self.signs.to_dict(orient="records"):
            entry = {"finding": r["finding"], "state": r["state"], "group": r["group"], "target_kind": r["target_kind"]}
            for m in MEASURES:
                entry[m] = _finite(r[m])
                entry[f"{m}_interval"] = [_finite(r[f"{m}_low"]), _finite(r[f"{m}_high"])]
            signs.append(entry)
        return {
            "scenario": self.scenario, "label": self.label, "interventions": self.interventions,
            "p_calcification_per_100k": _finite(self.per_100k),
            "p_calcification_interval_per_100k": [_finite(self.interval[0] * PER), _finite(self.interval[1] * PER)],
            "case_mix": [{"id": r.id, "group": r.group, "p": _finite(r.p), "interval": interval(r)}
                         for r in self.case_mix.itertuples()],
            "group_mix": [{"id": r.id, "p": _finite(r.p), "interval": interval(r)} for r in self.group_mix.itertuples()],
            "signs": signs,
            "draws": self.draws, "seed": self.seed, "credible_mass": self.credible_mass,
        }


def _finite(value) -> float | None:
    """JSON has no NaN or infinity: an undefined or unbounded figure is null."""
    value = float(value)
    return value if math.isfinite(value) else None


def summarize(priors: Priors, whatif: WhatIf | str | None = None, *, draws: int = DEFAULT_DRAWS,
              seed: int = DEFAULT_SEED, top: int = TOP_CAUSES, client=None) -> Summary:
    """Population summaries of a what-if (a :class:`WhatIf` or a preset name).

    Point values are exact (float64 engine); intervals are the central ``credible_mass``
    of the same computation over ``draws`` parameter draws, chunked over local cores or
    the Dask ``client``.
    """
    _check_draws(draws)
    if not isinstance(whatif, WhatIf):
        whatif = build_whatif(priors, whatif)
    mass = priors.settings.credible_mass
    point_engine = engine_for_whatif(priors, whatif)
    causes = point_engine.tables.states[LESION_CAUSE]
    mix0 = engine_for_whatif(priors, whatif).query([{}], [LESION_CAUSE]).marginals[LESION_CAUSE][0, 0]
    ranked = [causes[i] for i in np.argsort(-mix0) if causes[i] not in ("none", OTHER_CAUSES)]
    top_causes = ranked[:top]
    point = _measures(point_engine, priors, top_causes)
    tasks = [(priors, whatif, draws, seed, a, b, top_causes) for a, b in draw_chunks(draws)]
    drawn = _concat(parallel_map(_measures_task, tasks, client))

    vocabulary = priors.vocabulary
    real = [c for c in causes if c != "none"]
    mix_low, mix_high = _bounds(drawn["mix"], mass)
    case_mix = pd.DataFrame([{
        "id": c, "label": vocabulary.conditions[c]["label"] if c in vocabulary.conditions else "Other or idiopathic causes",
        "group": vocabulary.conditions[c]["group"] if c in vocabulary.conditions else OTHER_CAUSES,
        "p": float(point["mix"][0, causes.index(c)]), "low": float(mix_low[causes.index(c)]),
        "high": float(mix_high[causes.index(c)])} for c in real]).sort_values("p", ascending=False, ignore_index=True)
    groups = _targets(priors)
    group_rows = []
    for gid, members in groups.items():
        index = [causes.index(c) for c in members]
        low, high = _interval(drawn["mix"][:, index].sum(axis=1), mass)
        group_rows.append({"id": gid, "label": vocabulary.groups[gid], "p": float(point["mix"][0, index].sum()),
                           "low": low, "high": high})
    group_mix = pd.DataFrame(group_rows).sort_values("p", ascending=False, ignore_index=True)

    sets = list(groups.values()) + [[c] for c in top_causes]
    names = list(groups) + top_causes
    kinds = ["group"] * len(groups) + ["cause"] * len(top_causes)
    exact = _sign_metrics(point["signs"], point["mix"], causes, sets)
    spread = _sign_metrics(drawn["signs"], drawn["mix"], causes, sets)
    prevalence = [float(point["mix"][0, [causes.index(c) for c in members]].sum()) for members in sets]
    records = []
    for finding, metrics in exact.items():
        bounds = {m: _bounds(spread[finding][m], mass) for m in MEASURES}
        for t, name in enumerate(names):
            for s, state in enumerate(priors.vocabulary.findings[finding]):
                record = {"finding": finding, "state": state, "group": name, "target_kind": kinds[t],
                          "prevalence": prevalence[t]}
                for m in MEASURES:
                    record[m] = float(metrics[m][0, t, s])
                    record[f"{m}_low"] = float(bounds[m][0][t, s])
                    record[f"{m}_high"] = float(bounds[m][1][t, s])
                records.append(record)
    return Summary(whatif.id, whatif.scenario.label, draws, seed, mass, float(point["p_calc"][0]),
                   _interval(drawn["p_calc"], mass), case_mix, group_mix, pd.DataFrame(records),
                   [f"{n}={s}" for n, s in whatif.do])


# --------------------------------------------------------------------------- comparisons
@dataclass
class Comparison:
    """Several what-ifs side by side; differences are against the first."""

    summaries: list[Summary]

    def table(self, section: str = "group_mix") -> pd.DataFrame:
        """id x scenario of p (``case_mix`` or ``group_mix``), plus ``diff: <scenario>`` columns."""
        frames = [getattr(s, section).set_index("id")["p"].rename(s.scenario) for s in self.summaries]
        table = pd.concat(frames, axis=1)
        first = self.summaries[0].scenario
        for s in self.summaries[1:]:
            table[f"diff: {s.scenario}"] = table[s.scenario] - table[first]
        return table.sort_values(first, ascending=False)

    def to_dict(self) -> dict:
        first = self.summaries[0]
        differences = []
        for s in self.summaries[1:]:
            differences.append({
                "scenario": s.scenario, "against": first.scenario,
                "p_calcification_per_100k": _finite(s.per_100k - first.per_100k),
                "group_mix": [{"id": gid, "diff": _finite(p)} for gid, p in
                              self.table("group_mix")[f"diff: {s.scenario}"].items()],
                "case_mix": [{"id": cid, "diff": _finite(p)} for cid, p in
                             self.table("case_mix")[f"diff: {s.scenario}"].items()]})
        return {"scenarios": [s.to_dict() for s in self.summaries], "differences": differences}

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([s.to_frame() for s in self.summaries], ignore_index=True)


def compare(priors: Priors, whatifs: Sequence[WhatIf | str], **options) -> Comparison:
    """Summaries of several what-ifs (the same draws of their common parameters)."""
    return Comparison([summarize(priors, w, **options) for w in whatifs])


# --------------------------------------------------------------------------- sweeps
PRESENT = "present:"  # prefix of an output that is the presence of a condition, not its share of the causes


@dataclass(frozen=True)
class Output:
    """A traced output: P(cause in ``members`` | calcification, evidence), P(``condition``
    present | calcification, evidence), or P(calcification | evidence)."""

    text: str
    members: tuple[str, ...]  # lesion_cause states summed; empty for the other two kinds
    evidence: tuple[tuple[str, str], ...]
    condition: str | None = None  # set for P(condition present | calcification, evidence)

    @property
    def is_calcification(self) -> bool:
        return not self.members and self.condition is None


def parse_output(priors: Priors, text: str) -> Output:
    """Parse ``TARGET[|id=state,id=state]``. TARGET is ``p_calcification``, a condition id,
    ``other_causes``, a group id, ``metabolic`` (both metabolic groups) or several joined by
    ``+`` (their share of the causes), or ``present:`` and a condition id (the probability
    that the condition is present, whether or not it caused the calcification).

    Examples: ``metabolic|sedimentation_sign=present``, ``chronic_kidney_disease``,
    ``p_calcification|age_group=older``, ``present:gout|serum_urate=high``.
    """
    vocabulary = priors.vocabulary
    target, _, given = text.partition("|")
    evidence: dict[str, str] = {}
    for item in filter(None, (g.strip() for g in given.split(","))):
        node, state = split_assignment(item, f"output {text!r}: each item after '|'")
        evidence.update(vocabulary.check_evidence({node: state}, f"output {text!r}"))
    groups = _targets(priors)
    names = ["p_calcification", METABOLIC, OTHER_CAUSES, *groups, *vocabulary.conditions]
    if target.strip().startswith(PRESENT):
        condition = target.strip()[len(PRESENT):].strip()
        if condition not in vocabulary.conditions:
            raise EvidenceError(f"output {text!r}: '{condition}' is not a condition id; '{PRESENT}' takes one "
                                f"condition.{suggestion(condition, list(vocabulary.conditions))}")
        return Output(text, (), tuple(_given_calcification(text, evidence).items()), condition)
    members: list[str] = []
    for part in (p.strip() for p in target.split("+")):
        if part == "p_calcification" and target.strip() == part:
            if CALCIFICATION in evidence:
                raise EvidenceError(f"output {text!r}: P(calcification) cannot be given the calcification itself.")
            return Output(text, (), tuple(evidence.items()))
        if part == METABOLIC:
            members += [c for g, ms in groups.items() if g.startswith(METABOLIC) for c in ms]
        elif part in groups:
            members += groups[part]
        elif part in vocabulary.conditions or part == OTHER_CAUSES:
            members.append(part)
        else:
            raise EvidenceError(f"output {text!r}: unknown target '{part}'. Allowed: 'p_calcification', "
                                f"'{METABOLIC}', group ids, condition ids, '{OTHER_CAUSES}'.{suggestion(part, names)}")
    return Output(text, tuple(dict.fromkeys(members)), tuple(_given_calcification(text, evidence).items()))


def _given_calcification(text: str, evidence: dict[str, str]) -> dict[str, str]:
    """The evidence of an output read given the calcification (which every such output assumes)."""
    if evidence.get(CALCIFICATION, "present") != "present":
        raise EvidenceError(f"output {text!r}: a cause of the calcification needs soft_tissue_calcification=present.")
    return {node: state for node, state in evidence.items() if node != CALCIFICATION}


def _outputs(engine: CompiledEngine, outputs: Sequence[Output]) -> np.ndarray:
    """Each output per draw: (outputs, draws)."""
    causes = engine.tables.states[LESION_CAUSE]
    result = np.full((len(outputs), engine.draws), np.nan)
    cause_outputs = [i for i, o in enumerate(outputs) if o.members]
    presence_outputs = [i for i, o in enumerate(outputs) if o.condition is not None]
    calc_outputs = [i for i, o in enumerate(outputs) if o.is_calcification]
    if cause_outputs:
        rows = [{CALCIFICATION: "present", **dict(outputs[i].evidence)} for i in cause_outputs]
        marginals = engine.query(rows, [LESION_CAUSE]).marginals[LESION_CAUSE]
        for r, i in enumerate(cause_outputs):
            result[i] = marginals[r][:, [causes.index(c) for c in outputs[i].members]].sum(axis=1)
    for i in presence_outputs:
        condition = outputs[i].condition
        row = {CALCIFICATION: "present", **dict(outputs[i].evidence)}
        marginals = engine.query([row], [condition]).marginals[condition]
        result[i] = marginals[0][:, engine.tables.states[condition].index("present")]
    if calc_outputs:
        rows = [dict(outputs[i].evidence) for i in calc_outputs]
        marginals = engine.query(rows, [CALCIFICATION]).marginals[CALCIFICATION]
        present = engine.tables.states[CALCIFICATION].index("present")
        for r, i in enumerate(calc_outputs):
            result[i] = marginals[r][:, present]
    return result


def _outputs_task(task) -> np.ndarray:
    priors, whatif, draws, seed, start, stop, outputs = task
    return _outputs(engine_for_whatif(priors, whatif, draws, seed, start, stop), outputs)


def sweep(priors: Priors, parameter: str, start: float, stop: float, steps: int, *,
          outputs: Sequence[str | Output] = (METABOLIC,), scenario=None, sets: Sequence[str] = (),
          do: Sequence[str] = (), draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED, log: bool = False,
          client=None) -> pd.DataFrame:
    """Trace outputs while the ``--set`` parameter ``parameter`` goes from ``start`` to ``stop``.

    Returns
    -------
    DataFrame
        One row per step and output: parameter, value, output, p (exact), low, high
        (central ``credible_mass`` over the draws). Tasks are (step, chunk of draws),
        run over local cores or the Dask ``client``.
    """
    _check_draws(draws)
    if not isinstance(steps, int) or steps < 2:
        raise ScenarioError(f"--steps: at least 2 steps are needed; got {steps!r}.")
    if log and min(start, stop) <= 0:
        raise ScenarioError(f"--log: the range must be positive; got {start!r} to {stop!r}.")
    parsed = [o if isinstance(o, Output) else parse_output(priors, o) for o in outputs]
    if not parsed:
        raise ScenarioError("sweep: give at least one output (e.g. --output metabolic).")
    base = build_whatif(priors, scenario, sets, do)
    values = np.geomspace(start, stop, steps) if log else np.linspace(start, stop, steps)
    whatifs = []
    for value in values:
        change = f"{parameter}={float(value)!r}"
        try:
            whatif = WhatIf(apply_settings(priors, base.scenario, [change]), base.do, base.changes + (change,))
            engine_for_whatif(priors, whatif, seed=seed)  # built now (and kept) so that an impossible value is named
            whatifs.append(whatif)
        except (ScenarioError, PriorsError) as error:
            if not whatifs:
                raise
            raise ScenarioError(f"sweep of {parameter}: {float(value):.4g} cannot hold in scenario "
                                f"'{base.scenario.id}' ({error}); the largest value of this sweep that can is "
                                f"{float(values[len(whatifs) - 1]):.4g}. Lower the upper end.") from None
    chunks = draw_chunks(draws)
    tasks = [(priors, w, None, seed, 0, None, parsed) for w in whatifs]
    tasks += [(priors, w, draws, seed, a, b, parsed) for w in whatifs for a, b in chunks]
    results = parallel_map(_outputs_task, tasks, client)
    exact, drawn = results[:steps], results[steps:]
    mass = priors.settings.credible_mass
    records = []
    for k, value in enumerate(values):
        per_draw = np.concatenate(drawn[k * len(chunks):(k + 1) * len(chunks)], axis=1)
        for i, output in enumerate(parsed):
            low, high = _interval(per_draw[i], mass)
            records.append({"parameter": parameter, "value": float(value), "output": output.text,
                            "p": float(exact[k][i, 0]), "low": low, "high": high})
    return pd.DataFrame(records)


def sweep_figure(table: pd.DataFrame, title: str | None = None):
    """A matplotlib figure of a sweep: one line per output with its band over the draws."""
    import matplotlib

    if not matplotlib.get_backend().lower().startswith(("module://", "qt", "tk", "macosx", "nbagg", "webagg")):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for output, part in table.groupby("output", sort=False):
        line, = axes.plot(part["value"], part["p"], marker="o", label=output)
        axes.fill_between(part["value"], part["low"], part["high"], color=line.get_color(), alpha=0.2)
    parameter = table["parameter"].iloc[0]
    axes.set_xlabel(parameter)
    axes.set_ylabel("probability")
    axes.set_ylim(0, None)
    axes.legend(fontsize=8)
    axes.set_title(title or f"Sweep of {parameter} (bands: central interval over parameter draws)", fontsize=10)
    figure.text(0.01, 0.01, NOT_A_DIAGNOSIS, fontsize=7, style="italic")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return figure
