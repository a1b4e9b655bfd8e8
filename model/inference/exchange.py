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

Every written file is read back (pgmpy's readers; :func:`read_uai` for UAI) and the
posteriors of ``lesion_cause`` and of every condition on every bundled case are compared
with the original network's (compiled engine on both sides): ``max_abs_difference``.
"""

from __future__ import annotations

import random
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.readwrite import (BIFReader, BIFWriter, NETReader, NETWriter, UAIWriter, XDSLReader, XDSLWriter,
                                 XMLBIFReader, XMLBIFWriter)

from .engine import CompiledEngine
from ..errors import CalcinosisError, allowed
from ..foundation.defaults import EXCHANGE_FORMATS
from ..network.assembly import CALCIFICATION, LESION_CAUSE, Tables, build_tables, get_scenario
from ..data.priors import Priors

FORMATS = {"bif": (BIFWriter, BIFReader), "xmlbif": (XMLBIFWriter, XMLBIFReader),
           "xdsl": (XDSLWriter, XDSLReader), "net": (NETWriter, NETReader), "uai": (UAIWriter, None)}
TOOLS = {"bif": "pgmpy, pyAgrum, R bnlearn", "xmlbif": "pgmpy, Weka, JavaBayes, pyAgrum",
         "xdsl": "GeNIe/SMILE, pgmpy, pyAgrum", "net": "Hugin, SamIam, GeNIe (import), Netica (import), pgmpy",
         "uai": "UAI inference solvers (toulbar2, merlin, ...)"}
assert tuple(FORMATS) == EXCHANGE_FORMATS  # the command line lists them without importing pgmpy
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class ExportError(CalcinosisError):
    """An export was asked in an unknown format, or a written file does not read back."""


@dataclass
class Export:
    """What was written: the file, its format, the scenario, the state-name mapping
    (original -> written, per node, only where they differ), the variable order (UAI) and
    the read-back check."""

    path: Path
    format: str
    scenario: str
    state_names: dict[str, dict[str, str]]
    variables: list[str] | None
    cases_checked: int
    max_abs_difference: float | None


def safe_state(state: str) -> str:
    """An identifier for a state name (``gout|2+`` -> ``gout_n2plus``)."""
    if _IDENTIFIER.fullmatch(state):
        return state
    name = state.replace("|", "_n").replace("+", "plus")
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if name[:1].isalpha() else "s_" + name


def _renamed(tables: Tables) -> tuple[DiscreteBayesianNetwork, dict[str, dict[str, str]]]:
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
    model = DiscreteBayesianNetwork([(p, n) for n, ps in tables.parents.items() for p in ps])
    model.add_nodes_from(tables.parents)
    cpds = []
    for node, parents in tables.parents.items():
        card = len(names[node])
        cpds.append(TabularCPD(node, card, tables.arrays[node][0].reshape(card, -1),
                               evidence=parents or None, evidence_card=[len(names[p]) for p in parents] or None,
                               state_names={node: names[node], **{p: names[p] for p in parents}}))
    model.add_cpds(*cpds)
    return model, mapping


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
    writer = FORMATS[fmt][0]
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
    result = Export(out, fmt, scenario_obj.id, mapping, variables, 0, None)
    if check:
        written = {n: [safe_state(s) for s in states] for n, states in tables.states.items()}
        back = read_back(out, fmt, variables, written)
        result.cases_checked, result.max_abs_difference = compare_posteriors(priors, tables, back, mapping)
    return result


# --------------------------------------------------------------------------- UAI
def _write_uai(model: DiscreteBayesianNetwork, out: Path) -> list[str]:
    writer = UAIWriter(model)
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


def read_uai(path: Path | str, variables: list[str], states: dict[str, list[str]]) -> DiscreteBayesianNetwork:
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
    model = DiscreteBayesianNetwork([(variables[p], variables[s[-1]]) for s in scopes for p in s[:-1]])
    model.add_nodes_from(variables)
    cpds = []
    for scope in scopes:
        count = int(tokens[pos]); pos += 1
        values = np.array([float(t) for t in tokens[pos:pos + count]]); pos += count
        shape = [cards[i] for i in scope]
        table = np.moveaxis(values.reshape(shape), -1, 0)  # child first, as pgmpy wants
        child, parents = variables[scope[-1]], [variables[i] for i in scope[:-1]]
        cpds.append(TabularCPD(child, cards[scope[-1]], table.reshape(cards[scope[-1]], -1),
                               evidence=parents or None, evidence_card=[cards[i] for i in scope[:-1]] or None,
                               state_names={v: states[v] for v in [child, *parents]}))
    model.add_cpds(*cpds)
    return model


# --------------------------------------------------------------------------- read back and compare
def read_back(path: Path, fmt: str, variables: list[str] | None = None,
              states: dict[str, list[str]] | None = None) -> DiscreteBayesianNetwork:
    """The written file read back into a pgmpy model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "uai":
            if states is None:
                raise ExportError("reading UAI needs the state names of the metadata.")
            return read_uai(path, variables, states)
        return FORMATS[fmt][1](str(path)).get_model()


def tables_of(model: DiscreteBayesianNetwork, like: Tables, mapping: dict[str, dict[str, str]]) -> Tables:
    """Tables of a read-back model in the original state names and parent order of ``like``."""
    arrays = {}
    for node, parents in like.parents.items():
        cpd = model.get_cpds(node)
        written = {n: [mapping.get(n, {}).get(s, s) for s in like.states[n]] for n in [node, *parents]}
        order = [cpd.variables.index(v) for v in [node, *parents]]
        values = np.transpose(cpd.get_values().reshape(cpd.cardinality), order)
        for axis, variable in enumerate([node, *parents]):
            names = [str(s) for s in cpd.state_names[variable]]
            index = [names.index(s) for s in written[variable]]
            values = np.take(values, index, axis=axis)
        arrays[node] = values[None].astype(float)
    return Tables(like.states, like.parents, arrays, like.info, 1, like.scenario)


def compare_posteriors(priors: Priors, original: Tables, model: DiscreteBayesianNetwork,
                       mapping: dict[str, dict[str, str]]) -> tuple[int, float]:
    """(cases compared, largest absolute difference of any posterior or P(evidence))."""
    from ..data.evidence import bundled_cases, load_case

    back = tables_of(model, original, mapping)
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


def state_names(priors: Priors, scenario: str | None = None) -> dict[str, list[str]]:
    """Written state names of every node (for reading a UAI file back)."""
    tables = build_tables(priors, get_scenario(priors, scenario))
    return {n: [safe_state(s) for s in states] for n, states in tables.states.items()}
