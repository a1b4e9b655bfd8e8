"""The compiled engine: exact junction-tree inference, batched over evidence and draws.

pgmpy answers one query at a time and spends most of its time planning. This engine
plans once and evaluates many questions at once:

1. **Plan** (cached per set of observed nodes and targets): keep only the targets, the
   observed nodes and their ancestors (the rest sums to one); fold the nodes observed in
   the same state in every evidence set (all of them for one patient) into the tables,
   which removes them from the graph; moralise; triangulate by greedy min-fill; build a
   junction tree of the maximal cliques; assign every table and every evidence indicator
   to a clique; write every message and every marginal as one einsum whose contraction
   path is found once.
2. **Evaluate** (Shafer-Shenoy message passing, collect then distribute): folded evidence
   is a slice of each table that holds it (a view, no copy); the rest enters as indicator
   vectors with a batch axis ``b`` (one row per evidence set; a node left unobserved in a
   row gets all ones), parameter draws as a table axis ``d`` (from
   ``network.build_tables`` with ``uncertainty.ParameterDraws``). Every marginal of every
   target comes out of one pass, with P(evidence) per row and draw. Each planned pairwise
   contraction runs as numpy's einsum for a single query and as a batched matrix product
   (BLAS) for a batch or draws.

The answers are those of exact inference; the tests hold them to pgmpy's
``VariableElimination`` within 1e-9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import opt_einsum

from ..data.vocabulary import ALL_NODES_HINT, check_node, check_states
from ..foundation import cache
from ..network.assembly import Tables

if TYPE_CHECKING:
    import networkx as nx

BATCH, DRAW = 0, 1  # einsum labels of the evidence-batch and draw axes; variables start at 2
_PLANS: dict[tuple, "Plan"] = {}  # compiled plans, by network structure and query pattern


@dataclass
class _Op:
    """One contraction: operand references -> output labels."""

    inputs: list  # ("table", node) | ("lambda", node) | ("message", (i, j))
    labels: list[list[int]]
    output: list[int]
    path: list | None = None

    @cached_property
    def _equation(self) -> str:
        symbol = opt_einsum.get_symbol
        inputs = ",".join("".join(symbol(label) for label in labels) for labels in self.labels)
        return inputs + "->" + "".join(symbol(label) for label in self.output)

    def equation(self) -> str:
        return self._equation

    @cached_property
    def steps(self) -> list[tuple[list[int], list, list[int]]]:
        """The planned pairwise contractions as numpy einsum calls: for each step, the
        positions taken from the operand list and the sublist arguments with labels
        renumbered from 0 (numpy's einsum accepts only a few dozen labels)."""
        current = [list(labels) for labels in self.labels]
        steps = []
        for contraction in self.path:
            picked = sorted(contraction, reverse=True)
            taken = [current.pop(i) for i in picked]
            needed = {label for labels in current for label in labels} | set(self.output)
            result = list(self.output) if not current else sorted({l for ls in taken for l in ls} & needed)
            index = {label: i for i, label in enumerate(sorted({l for ls in taken for l in ls} | set(result)))}
            steps.append((picked, [[index[l] for l in ls] for ls in taken], [index[l] for l in result]))
            current.append(result)
        return steps

    def evaluate(self, operands: list[np.ndarray], batched: bool = False) -> np.ndarray:
        """Run the planned contractions: with numpy's einsum for one query (least overhead
        per call), as batched matrix products for batches and draws (see `_pairwise`)."""
        arrays = list(operands)
        for picked, taken, result in self.steps:
            chosen = [arrays.pop(i) for i in picked]
            if batched and len(chosen) == 2:
                arrays.append(_pairwise(chosen[0], taken[0], chosen[1], taken[1], result))
            else:
                arrays.append(np.einsum(*[x for pair in zip(chosen, taken) for x in pair], result))
        return arrays[0]


def _pairwise(a: np.ndarray, a_labels: list[int], b: np.ndarray, b_labels: list[int], output: list[int]) -> np.ndarray:
    """One pairwise contraction as a batched matrix product. numpy's einsum (and opt_einsum,
    which falls back to it whenever a label is shared by both operands and the output, as the
    batch and draw axes are) runs such products in its own loops; arranged as (shared, left,
    summed) @ (shared, summed, right), they run in BLAS, about twice as fast over 1000 draws."""
    keep = set(output)
    a, a_labels = _sum_private(a, a_labels, set(b_labels) | keep)
    b, b_labels = _sum_private(b, b_labels, set(a_labels) | keep)
    size = dict(zip(a_labels, a.shape))
    for label, n in zip(b_labels, b.shape):
        size[label] = max(size.get(label, 1), n)  # a shared axis of length 1 broadcasts
    shared = [l for l in a_labels if l in b_labels and l in keep]
    summed = [l for l in a_labels if l in b_labels and l not in keep]
    left = [l for l in a_labels if l not in b_labels]
    right = [l for l in b_labels if l not in a_labels]
    lead = [size[l] for l in shared]
    a = np.broadcast_to(a.transpose([a_labels.index(l) for l in shared + left + summed]),
                        lead + [size[l] for l in left + summed])
    b = np.broadcast_to(b.transpose([b_labels.index(l) for l in shared + summed + right]),
                        lead + [size[l] for l in summed + right])
    n_shared, n_left, n_summed, n_right = (math.prod(size[l] for l in g) for g in (shared, left, summed, right))
    product = np.matmul(a.reshape(n_shared, n_left, n_summed), b.reshape(n_shared, n_summed, n_right))
    order = shared + left + right
    return product.reshape([size[l] for l in order]).transpose([order.index(l) for l in output])


def _sum_private(x: np.ndarray, labels: list[int], elsewhere: set[int]) -> tuple[np.ndarray, list[int]]:
    """Sum out the axes whose label appears nowhere else (neither operand nor output)."""
    private = tuple(i for i, l in enumerate(labels) if l not in elsewhere)
    if not private:
        return x, labels
    return x.sum(axis=private), [l for i, l in enumerate(labels) if i not in private]


@dataclass
class Plan:
    """The compiled junction tree for one pattern of observed nodes and targets."""

    observed: tuple[str, ...]
    targets: tuple[str, ...]
    cliques: list[tuple[str, ...]]
    collect: list[tuple[tuple[int, int], _Op]] = field(default_factory=list)
    distribute: list[tuple[tuple[int, int], _Op]] = field(default_factory=list)
    marginals: dict[str, _Op] = field(default_factory=dict)
    evidence: _Op | None = None
    nodes: frozenset = frozenset()  # the nodes kept (targets, observed and their ancestors)
    folded: tuple[str, ...] = ()  # observed nodes sliced out of the tables rather than indicators

    @property
    def largest_clique(self) -> int:
        return max((math.prod(c) for c in self._cards), default=0)

    @property
    def total_entries(self) -> int:
        """Entries of all cliques together: the work of one pass, up to a constant."""
        return sum(math.prod(c) for c in self._cards)

    _cards: list = field(default_factory=list)


class CompiledEngine:
    """Exact inference over :class:`network.Tables`, batched over evidence rows and draws.

    Examples
    --------
    >>> engine = CompiledEngine(build_tables(load_priors()))            # doctest: +SKIP
    >>> result = engine.query([{"serum_phosphate": "high"}], ["lesion_cause"])  # doctest: +SKIP
    >>> result.marginals["lesion_cause"].shape                            # doctest: +SKIP
    (1, 1, 24)
    """

    def __init__(self, tables: Tables, dtype=None):
        """``dtype``: float64 by default; float32 by default for tables of many parameter
        draws, whose Monte Carlo intervals do not need more digits and whose evaluation is
        bound by memory bandwidth (half the bytes, about twice as fast)."""
        self.tables = tables
        self.dtype = np.dtype(dtype or (np.float64 if tables.draws == 1 else np.float32))
        self.card = {n: len(s) for n, s in tables.states.items()}
        self.label = {n: i + 2 for i, n in enumerate(tables.parents)}
        self.has_draws = {n: a.shape[0] > 1 for n, a in tables.arrays.items()}
        self.draws = tables.draws
        self._operands = {n: (a if a.shape[0] > 1 else a[0]).astype(self.dtype, copy=False)
                          for n, a in tables.arrays.items()}
        structure = tuple((n, tuple(ps), self.card[n], self.has_draws[n]) for n, ps in tables.parents.items())
        self._structure = hash(structure)
        self._structure_text = repr(structure)  # the same in every process, unlike hash(): the disk cache's key

    @cached_property
    def graph(self) -> "nx.DiGraph":
        """The network's structure (causes -> effects); networkx is imported only to plan,
        which a warm disk cache of plans spares a consultation."""
        import networkx as nx

        graph = nx.DiGraph([(p, n) for n, ps in self.tables.parents.items() for p in ps])
        graph.add_nodes_from(self.tables.parents)
        return graph

    # -- planning -------------------------------------------------------------
    def plan(self, observed: Sequence[str], targets: Sequence[str], folded: Sequence[str] = ()) -> Plan:
        """The compiled plan; shared by every engine over tables of the same structure.

        ``folded``: observed nodes that have the same state in every evidence set of the
        query; they are sliced out of the tables instead of entering as indicators, so
        they leave every clique (the age group and sex sit in most of them)."""
        folded = tuple(sorted(set(folded)))
        key = (self._structure, frozenset(observed), tuple(targets), folded)
        if key not in _PLANS:
            _PLANS[key] = self._stored_plan(sorted(set(observed)), list(targets), folded)
        return _PLANS[key]

    def _stored_plan(self, observed: list[str], targets: list[str], folded: tuple[str, ...]) -> Plan:
        """The plan from the disk cache (see :mod:`calcinosis.foundation.cache`), compiled and stored on a miss."""
        name = "plan-" + cache.key([], self._structure_text, repr(observed), repr(targets), repr(folded),
                                   readers=("inference/engine.py",))
        plan = cache.load(name)
        if (not isinstance(plan, Plan) or plan.observed != tuple(observed) or plan.targets != tuple(targets)
                or plan.folded != folded):
            plan = self._compile(observed, targets, folded)
            cache.store(name, plan)
        return plan

    def _compile(self, observed: list[str], targets: list[str], folded: tuple[str, ...] = ()) -> Plan:
        import networkx as nx

        keep = set(observed) | set(targets)
        for node in list(keep):
            keep |= nx.ancestors(self.graph, node)
        self._scope = {node: [v for v in (node, *self.tables.parents[node]) if v not in folded] for node in keep}
        # With every kept node folded (P(evidence) of an evidence set, no target) one empty
        # clique holds the scalar tables.
        cliques = self._cliques(keep - set(folded), [self._scope[n] for n in keep]) or [set()]
        tree = self._junction_tree(cliques)
        plan = Plan(tuple(observed), tuple(targets), [tuple(c) for c in cliques], nodes=frozenset(keep), folded=folded)
        plan._cards = [[self.card[v] for v in c] for c in cliques]

        # Every table to the smallest clique holding its (remaining) family; every indicator
        # to one holding its node. A table left with no variable (an observed root) goes to any.
        assigned: dict[int, list] = {i: [] for i in range(len(cliques))}
        for node in sorted(keep):
            family = set(self._scope[node])
            home = min((i for i, c in enumerate(cliques) if family <= c), key=lambda i: len(cliques[i]))
            assigned[home].append(("table", node))
        for node in sorted(set(observed) - set(folded)):
            home = min((i for i, c in enumerate(cliques) if node in c), key=lambda i: len(cliques[i]))
            assigned[home].append(("lambda", node))

        root = 0
        order = list(nx.bfs_tree(tree, root))
        parent = {child: p for p, child in nx.bfs_edges(tree, root)}
        children = {i: [c for c in tree.neighbors(i) if parent.get(c) == i] for i in tree.nodes}

        def batch_of(inputs) -> list[int]:
            has_b = any(kind == "lambda" for kind, _ in inputs) or any(
                kind == "message" and BATCH in self._message_labels[ref] for kind, ref in inputs)
            has_d = any(kind == "table" and self.has_draws[ref] for kind, ref in inputs) or any(
                kind == "message" and DRAW in self._message_labels[ref] for kind, ref in inputs)
            return ([BATCH] if has_b else []) + ([DRAW] if has_d else [])

        self._message_labels: dict[tuple[int, int], list[int]] = {}

        def op(inputs, variables) -> _Op:
            labels = [self._labels_of(kind, ref) for kind, ref in inputs]
            output = batch_of(inputs) + [self.label[v] for v in variables]
            return _Op(list(inputs), labels, output)

        def separator(i, j):
            return sorted(cliques[i] & cliques[j], key=self.label.get)

        for clique in reversed(order):
            if clique == root:
                continue
            up = (clique, parent[clique])
            inputs = assigned[clique] + [("message", (c, clique)) for c in children[clique]]
            plan.collect.append((up, op(inputs, separator(*up))))
            self._message_labels[up] = plan.collect[-1][1].output
        homes = {target: min((i for i, c in enumerate(cliques) if target in c), key=lambda i: len(cliques[i]))
                 for target in targets}
        # A downward message is needed only if the subtree below it holds a target's clique.
        wanted = set(homes.values())
        below: dict[int, bool] = {}
        for clique in reversed(order):
            below[clique] = clique in wanted or any(below[c] for c in children[clique])
        for clique in order:
            for child in children[clique]:
                if not below[child]:
                    continue
                down = (clique, child)
                neighbours = [n for n in tree.neighbors(clique) if n != child]
                inputs = assigned[clique] + [("message", (n, clique)) for n in neighbours]
                plan.distribute.append((down, op(inputs, separator(*down))))
                self._message_labels[down] = plan.distribute[-1][1].output
        for target, home in homes.items():
            inputs = assigned[home] + [("message", (n, home)) for n in tree.neighbors(home)]
            plan.marginals[target] = op(inputs, [target])
        inputs = assigned[root] + [("message", (n, root)) for n in tree.neighbors(root)]
        plan.evidence = op(inputs, [])
        plan._message_labels = dict(self._message_labels)
        for _, o in plan.collect + plan.distribute:
            self._find_path(o)
        for o in [*plan.marginals.values(), plan.evidence]:
            self._find_path(o)
        return plan

    def _labels_of(self, kind: str, ref) -> list[int]:
        if kind == "table":
            return ([DRAW] if self.has_draws[ref] else []) + [self.label[v] for v in self._scope[ref]]
        if kind == "lambda":
            return [BATCH, self.label[ref]]
        return self._message_labels[ref]

    def _find_path(self, o: _Op) -> None:
        sizes = {BATCH: 2, DRAW: max(self.draws, 2)}
        sizes.update({self.label[n]: c for n, c in self.card.items()})
        shapes = [tuple(sizes[l] for l in labels) for labels in o.labels]
        operands = [np.empty(s) for s in shapes]
        args = [x for pair in zip(operands, o.labels) for x in pair]
        o.path, _ = opt_einsum.contract_path(*args, o.output, optimize="greedy")

    def _cliques(self, keep: set[str], scopes: list[list[str]]) -> list[set[str]]:
        """Maximal cliques of the moral graph of ``keep`` (each scope of a table joined)
        triangulated greedily; of three classic criteria (min-fill, min-weight, weighted
        min-fill) the one whose cliques hold the fewest entries is kept."""
        moral: dict[str, set[str]] = {n: set() for n in keep}
        for family in scopes:
            for i, a in enumerate(family):
                for b in family[i + 1:]:
                    moral[a].add(b)
                    moral[b].add(a)
        best = None
        for criterion in ("fill", "weight", "weighted_fill"):
            cliques = self._eliminate(moral, criterion)
            total = sum(math.prod(self.card[v] for v in c) for c in cliques)
            if best is None or total < best[0]:
                best = (total, cliques)
        return best[1]

    def _eliminate(self, moral: dict[str, set[str]], criterion: str) -> list[set[str]]:
        adjacency = {n: set(nb) for n, nb in moral.items()}
        cliques: list[set[str]] = []

        def cost(v):
            nb = sorted(adjacency[v])
            missing = [(a, b) for i, a in enumerate(nb) for b in nb[i + 1:] if b not in adjacency[a]]
            weight = math.prod(self.card[u] for u in nb) * self.card[v]
            if criterion == "fill":
                return (len(missing), weight, v)
            if criterion == "weight":
                return (weight, len(missing), v)
            return (sum(self.card[a] * self.card[b] for a, b in missing), weight, v)

        costs = {v: cost(v) for v in adjacency}
        while adjacency:
            v = min(costs, key=costs.get)
            nb = adjacency.pop(v)
            del costs[v]
            clique = nb | {v}
            if not any(clique <= c for c in cliques):
                cliques.append(clique)
            for a in nb:
                adjacency[a] |= nb - {a}
                adjacency[a].discard(v)
            # Only the neighbours and their neighbours can have a new cost.
            for u in nb | {w for a in nb for w in adjacency[a]}:
                costs[u] = cost(u)
        return [c for c in cliques if not any(c < d for d in cliques)]

    @staticmethod
    def _junction_tree(cliques: list[set[str]]) -> "nx.Graph":
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(len(cliques)))
        for i in range(len(cliques)):
            for j in range(i + 1, len(cliques)):
                # Weight 0 joins separate components with an empty separator.
                graph.add_edge(i, j, weight=len(cliques[i] & cliques[j]))
        return nx.maximum_spanning_tree(graph)

    # -- evaluation -------------------------------------------------------------
    def indicators(self, evidence_rows: Sequence[Mapping[str, str]], observed: Sequence[str]) -> dict[str, np.ndarray]:
        """Evidence as indicator arrays (rows, states); all ones where a row leaves a node unobserved."""
        lambdas = {}
        for node in observed:
            states = self.tables.states[node]
            lam = np.ones((len(evidence_rows), len(states)), dtype=self.dtype)
            for r, row in enumerate(evidence_rows):
                if node in row:
                    lam[r] = 0.0
                    lam[r, states.index(row[node])] = 1.0
            lambdas[node] = lam
        return lambdas

    def _sliced(self, node: str, evidence: Mapping[str, str]) -> np.ndarray:
        """The table of ``node`` at the observed states of ``evidence`` (a view)."""
        table = self._operands[node]
        index = [slice(None)] * table.ndim
        first = 1 if self.has_draws[node] else 0
        for axis, variable in enumerate([node, *self.tables.parents[node]], start=first):
            if variable in evidence:
                index[axis] = self.tables.states[variable].index(evidence[variable])
        return table[tuple(index)]

    def query(self, evidence_rows: Sequence[Mapping[str, str]], targets: Sequence[str],
              lambdas: Mapping[str, np.ndarray] | None = None) -> "QueryResult":
        """Posterior marginals of ``targets`` for every evidence row and every draw.

        Parameters
        ----------
        evidence_rows : list of dict
            One mapping (node -> state) per evidence set; nodes absent from a row are unobserved.
        targets : list of str
            Nodes whose marginals are wanted (none of them observed in any row).
        lambdas : dict, optional
            Soft evidence: node -> array (rows, states) of likelihoods, multiplied in.

        Returns
        -------
        QueryResult
            ``marginals[target]`` of shape (rows, draws, states), normalised (NaN where the
            evidence has probability zero), and ``probability`` of shape (rows, draws).
        """
        rows = [dict(r) for r in evidence_rows]
        self._check(rows, targets, lambdas or {})
        observed = sorted({k for r in rows for k in r} | set(lambdas or {}))
        # Nodes with one state in every row are sliced out of the tables (see `plan`); an
        # observed target keeps its indicator, so its marginal is still given.
        common = {n: v for n, v in rows[0].items() if all(r.get(n) == v for r in rows)} if rows else {}
        common = {n: v for n, v in common.items() if n not in (lambdas or {}) and n not in targets}
        plan = self.plan(observed, targets, folded=list(common))
        tables = {node: self._sliced(node, common) for node in plan.nodes}
        lam = self.indicators(rows, [n for n in observed if n not in common and n not in (lambdas or {})])
        if lambdas:
            lam.update({k: np.asarray(v, dtype=self.dtype) for k, v in lambdas.items()})
        messages: dict[tuple[int, int], np.ndarray] = {}
        n_rows = len(rows)

        def run(o: _Op) -> np.ndarray:
            operands = [tables[ref] if kind == "table" else lam[ref] if kind == "lambda" else messages[ref]
                        for kind, ref in o.inputs]
            # A single query is bound by the cost of each call, a batch by its arithmetic.
            return o.evaluate(operands, batched=n_rows * self.draws > 1)

        for edge, o in plan.collect:
            messages[edge] = run(o)
        for edge, o in plan.distribute:
            messages[edge] = run(o)
        n_rows, draws = len(rows), self.draws
        probability = _full_batch(run(plan.evidence), plan.evidence.output, n_rows, draws, 0).astype(float)
        marginals = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for target, o in plan.marginals.items():
                values = _full_batch(run(o), o.output, n_rows, draws, 1).astype(float)
                marginals[target] = values / values.sum(axis=-1, keepdims=True)
        return QueryResult(marginals, probability)

    def _check(self, rows: list[dict[str, str]], targets: Sequence[str], lambdas: Mapping[str, np.ndarray]) -> None:
        """Every node known and every state one of its node's, by the vocabulary's one check:
        callers below the validated public paths (analyses, notebooks) get the package's error
        rather than one from the graph or the tables."""
        states = self.tables.states
        for node in [*targets, *lambdas]:
            check_node(node, states, "query", ALL_NODES_HINT)
        for r, row in enumerate(rows):
            check_states(row, states, f"query, evidence row {r}", ALL_NODES_HINT)


@dataclass
class QueryResult:
    marginals: dict[str, np.ndarray]
    probability: np.ndarray


def _full_batch(values: np.ndarray, output: list[int], rows: int, draws: int, trailing: int) -> np.ndarray:
    """Give a result both batch axes (rows, draws, ...), broadcasting those it lacks."""
    if BATCH not in output:
        values = values[None]
    if DRAW not in output:
        values = np.expand_dims(values, 1)
    return np.broadcast_to(values, (rows, draws) + values.shape[2:]).copy()
