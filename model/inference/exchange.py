"""Exchange formats: the network written for other Bayesian-network tools, and read back.

``export_network`` writes the assembled network of a scenario with pgmpy's writers:

=========  ===========================================  ==============================================
format     opened by                                    notes
=========  ===========================================  ==============================================
bif        pgmpy, pyAgrum, R bnlearn (``read.bif``)     Bayesian Interchange Format (text)
xmlbif     pgmpy, Weka, JavaBayes, pyAgrum (.bifxml)    XML BIF 0.3
xdsl       GeNIe / SMILE, pgmpy, pyAgrum                 GeNIe's XML format
net        Hugin, SamIam, GeNIe (import), pgmpy, pyAgrum Hugin NET; Netica imports it but limits names
                                                         to 30 characters (longer ids are not shortened)
uai        UAI solvers (e.g. toulbar2, merlin)          numbered variables: names in the metadata file
=========  ===========================================  ==============================================

Names: node ids are already identifiers; state names that are not (the attribution chain's
``condition|1``, ``condition|2+``) are rewritten as identifiers (``condition_n1``,
``condition_n2plus``); the mapping is in the metadata. UAI: pgmpy's UAI writer lists table
values child-first, while the format lists them with the last variable of the scope (the
child) changing fastest, and its reader does not parse exponents; the tables are therefore
written here in the format's order, at full precision, under pgmpy's preamble, and read back
by :func:`read_uai`.

Every written file is read back (pgmpy's readers; pyAgrum's for NET when it is installed;
:func:`read_uai` for UAI) and the posteriors of ``lesion_cause`` and of every condition on
every bundled case are compared with the original network's (compiled engine on both
sides): ``max_abs_difference``.
"""

from __future__ import annotations

import importlib.util
import random
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .engine import CompiledEngine
from ..errors import CalcinosisError, allowed
from ..foundation.defaults import EXCHANGE_FORMATS
from ..network.assembly import CALCIFICATION, LESION_CAUSE, Tables, build_tables, get_scenario
from ..network.pgmpy_adapter import bayesian_network, exchange_classes
from ..data.priors import Priors

TOOLS = {"bif": "pgmpy, pyAgrum, R bnlearn", "xmlbif": "pgmpy, Weka, JavaBayes, pyAgrum",
         "xdsl": "GeNIe/SMILE, pgmpy, pyAgrum", "net": "Hugin, SamIam, GeNIe (import), Netica (import), pgmpy",
         "uai": "UAI inference solvers (toulbar2, merlin, ...)"}
FORMATS = EXCHANGE_FORMATS
assert tuple(TOOLS) == FORMATS
if TYPE_CHECKING:
    from ..network.pgmpy_adapter import DiscreteBayesianNetwork

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class ExportError(CalcinosisError):
    """An export was asked in an unknown format, or a written file does not read back."""


@dataclass
class Export:
    """What was written: the file, its format, the scenario, the state-name mapping
    (original -> written, per node, only where they differ), the variable order (UAI) and
    the read-back check (cases, largest difference, the reader that read the file)."""

    path: Path
    format: str
    scenario: str
    state_names: dict[str, dict[str, str]]
    variables: list[str] | None
    cases_checked: int
    max_abs_difference: float | None
    reader: str | None


def safe_state(state: str) -> str:
    """An identifier for a state name (``gout|2+`` -> ``gout_n2plus``)."""
    if _IDENTIFIER.fullmatch(state):
        return state
    name = state.replace("|", "_n").replace("+", "plus")
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if name[:1].isalpha() else "s_" + name


def _renamed(tables: Tables) -> tuple["DiscreteBayesianNetwork", dict[str, dict[str, str]]]:
    mapping: dict[str, dict[str, str]] = {}
    for node, states in tables.states.items():
        if not _IDENTIFIER.fullmatch(node):
            raise ExportError(f"node id '{node}' is not an identifier; it cannot be exported.")
        new = [safe_state(s) for s in states]
        if len(set(new)) != len(new):
            raise ExportError(f"{node}: state names collide once made identifiers: {new}.")
        if new != list(states):
            mapping[node] = {s: n for s, n in zip(states, new) if s != n}
    names = {n: [mapping.get(n, {}).get(s, s) for s in states] for n, states in tables.states.items()}
    first = {node: a[0] for node, a in tables.arrays.items()}
    return bayesian_network(tables.parents, names, first, check=False), mapping


def export_network(priors: Priors, fmt: str, out: Path | str, scenario: str | None = None,
                   check: bool = True) -> Export:
    """Write the network of ``scenario`` in format ``fmt`` to ``out`` and (by default)
    read it back and compare posteriors on every bundled case."""
    if fmt not in FORMATS:
        raise ExportError(f"--format: unknown format '{fmt}'. Allowed: {allowed(FORMATS)}.")
    scenario_obj = get_scenario(priors, scenario)
    tables = build_tables(priors, scenario_obj)
    model, mapping = _renamed(tables)
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out}: is a folder; give a file name, e.g. {out / ('calcinosis.' + fmt)}.")
    writer = exchange_classes(fmt)[0]
    variables = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "uai":
            variables = _write_uai(model, out)
        else:
            # pgmpy's XDSL writer places nodes with the global `random`: seed it for identical files.
            state = random.getstate()
            random.seed(0)
            try:
                writer(model).write(str(out))
            finally:
                random.setstate(state)
    result = Export(out, fmt, scenario_obj.id, mapping, variables, 0, None, None)
    if check:
        back, result.reader = read_back(out, fmt, tables, mapping, variables)
        result.cases_checked, result.max_abs_difference = compare_posteriors(priors, tables, back)
    return result


# --------------------------------------------------------------------------- UAI
def _write_uai(model: "DiscreteBayesianNetwork", out: Path) -> list[str]:
    writer = exchange_classes("uai")[0](model)
    order = [name for name, _ in sorted(writer.domain.items(), key=lambda x: (x[1], x[0]))]
    preamble = str(writer).split("\n\n")[0].rstrip("\n")  # pgmpy's variables, cardinalities and scopes
    blocks = []
    for cpd in sorted(model.get_cpds(), key=lambda c: c.variable):
        # pgmpy's preamble gives the scope as the parents in reverse order, then the child;
        # the values follow that scope with the child changing fastest: all axes reversed.
        values = np.transpose(cpd.values).ravel()
        blocks.append(f"{values.size}\n" + " ".join(repr(float(v)) for v in values))
    out.write_text(preamble + "\n\n" + "\n\n".join(blocks) + "\n", encoding="utf-8")
    return order


def read_uai(path: Path | str, variables: list[str], states: dict[str, list[str]]) -> "DiscreteBayesianNetwork":
    """Read a BAYES UAI file (values with the last variable of each scope fastest), naming
    variable i ``variables[i]`` with the states of ``states``."""
    tokens = Path(path).read_text(encoding="utf-8").split()
    if tokens[0] != "BAYES":
        raise ExportError(f"{path}: not a BAYES UAI file.")
    pos = 1
    n = int(tokens[pos]); pos += 1
    cards = [int(t) for t in tokens[pos:pos + n]]; pos += n
    functions = int(tokens[pos]); pos += 1
    scopes = []
    for _ in range(functions):
        size = int(tokens[pos]); pos += 1
        scopes.append([int(t) for t in tokens[pos:pos + size]]); pos += size
    parents, tables = {}, {}
    for scope in scopes:
        count = int(tokens[pos]); pos += 1
        values = np.array([float(t) for t in tokens[pos:pos + count]]); pos += count
        child = variables[scope[-1]]
        parents[child] = [variables[i] for i in scope[:-1]]
        tables[child] = np.moveaxis(values.reshape([cards[i] for i in scope]), -1, 0)  # child first
    ordered = {v: parents[v] for v in variables}
    return bayesian_network(ordered, states, tables, check=False)


# --------------------------------------------------------------------------- read back and compare
def read_back(path: Path, fmt: str, like: Tables, mapping: dict[str, dict[str, str]],
              variables: list[str] | None = None) -> tuple[Tables, str]:
    """The written file read back as tables in the names and parent order of ``like``, and
    the reader that read it.

    Hugin NET is read with pyAgrum when it is installed (``[bench]``): pgmpy's NET reader
    takes over ten minutes on this network, pyAgrum's a fraction of a second, and a reader
    of another tool is the stronger check that the file opens elsewhere.
    """
    written = {n: [mapping.get(n, {}).get(s, s) for s in states] for n, states in like.states.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "net" and importlib.util.find_spec("pyagrum") is not None:
            import pyagrum

            bn = pyagrum.loadBN(str(path))
            # pyAgrum's arrays have one axis per variable of the table, in reverse order of `names`.
            tables = {node: (list(bn.cpt(node).names)[::-1], bn.cpt(node).toarray()) for node in like.parents}
            labels = {node: [str(s) for s in bn.variable(node).labels()] for node in like.states}
            return _reordered(tables, labels, like, written), f"pyAgrum {pyagrum.__version__}"
        if fmt == "uai":
            model = read_uai(path, variables, written)
        else:
            model = exchange_classes(fmt)[1](str(path)).get_model()
    tables = {}
    for node in like.parents:
        cpd = model.get_cpds(node)
        tables[node] = (list(cpd.variables), cpd.get_values().reshape(cpd.cardinality))
    labels = {node: [str(s) for s in model.get_cpds(node).state_names[node]] for node in like.states}
    return _reordered(tables, labels, like, written), "pgmpy"


def _reordered(read: dict[str, tuple[list[str], np.ndarray]], labels: dict[str, list[str]], like: Tables,
               written: dict[str, list[str]]) -> Tables:
    """Tables read from a file (node -> (variable of each axis, values); the state labels of
    each node) put in the axis order and state order of ``like``."""
    arrays = {}
    for node, parents in like.parents.items():
        axes, values = read[node]
        values = np.transpose(values, [axes.index(v) for v in [node, *parents]])
        for axis, variable in enumerate([node, *parents]):
            values = np.take(values, [labels[variable].index(s) for s in written[variable]], axis=axis)
        arrays[node] = values[None].astype(float)
    return Tables(like.states, like.parents, arrays, like.info, 1, like.scenario)


def compare_posteriors(priors: Priors, original: Tables, back: Tables) -> tuple[int, float]:
    """(cases compared, largest absolute difference of any posterior or P(evidence))."""
    from ..data.evidence import bundled_cases, load_case

    rows = []
    for path in bundled_cases():
        evidence = dict(load_case(path, priors.vocabulary).evidence)
        evidence.setdefault(CALCIFICATION, "present")
        rows.append(evidence)
    targets = [LESION_CAUSE, *priors.vocabulary.conditions]
    a = CompiledEngine(original).query(rows, [t for t in targets])
    b = CompiledEngine(back).query(rows, [t for t in targets])
    worst = float(np.max(np.abs(a.probability - b.probability)))
    possible = a.probability[:, 0] > 0
    for t in targets:
        worst = max(worst, float(np.max(np.abs(a.marginals[t][possible] - b.marginals[t][possible]))))
    return len(rows), worst
