"""Assembly of the Bayesian network from validated priors and a scenario.

It turns the priors into conditional probability tables by name (never by hand-written
positional arrays), checks every column strictly (sums within 1e-9, no negative entries)
and returns a :class:`Network`: the tables, the pgmpy ``DiscreteBayesianNetwork`` built
from them on demand (``pgmpy_adapter``), and what each node is (kind, label, group,
states, public parents).

Layers, from causes to effects:

1. context (risk factors): roots, distributed as the scenario's population;
2. conditions: P(present | parents) = baseline x product of relative risks, with the
   baseline solved so that the stated occurrence holds in its stratum;
3. ``produces__<condition>``: this condition produced a soft-tissue calcification
   (plus ``produces__other_causes``, the leak);
4. the attribution chain and ``lesion_cause``: which producer the index lesion is
   attributed to (uniformly among the producers); ``soft_tissue_calcification`` is
   "some producer exists";
5. latent physiology and findings: noisy-MAX models of their causes, divorced into
   chains when they have more than a few causes; lesion signs depend on
   ``lesion_cause`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import numpy as np

from opt_einsum import contract

from . import canonical
from .pgmpy_adapter import bayesian_network
from ..foundation import cache
from ..foundation.defaults import DEFAULT_SCENARIO  # noqa: F401 (re-exported)
from ..errors import PriorsError, ScenarioError, allowed, suggestion
from ..data.priors import OTHER_CAUSES, GivenRow, Priors, Row, Scenario, scenario_priors
from ..data.vocabulary import CONDITION_STATES

if TYPE_CHECKING:
    import networkx as nx

# The code that decides what the tables hold (the disk cache's key for tables built from the priors).
TABLE_READERS = ("network/assembly.py", "network/canonical.py", "data/priors.py", "data/vocabulary.py")
LESION_CAUSE = "lesion_cause"
CALCIFICATION = "soft_tissue_calcification"
# A noisy-MAX node with more causes than this is divorced into a chain of links.
MAX_FULL_TABLE_CAUSES = 3
STRICT = 1e-9


@dataclass(frozen=True)
class NodeInfo:
    """What a node of the network is, for listings and the user interface."""

    id: str
    kind: str  # condition | risk_factor | latent | finding
    states: tuple[str, ...]
    parents: tuple[str, ...]
    label: str
    group: str | None = None
    category: str | None = None


@dataclass
class Network:
    """An assembled network for one scenario.

    Attributes
    ----------
    model : pgmpy.models.DiscreteBayesianNetwork
        Built from ``tables`` on first use (pgmpy is imported only then).
    priors : Priors
    scenario : Scenario
    nodes : dict
        Node id -> :class:`NodeInfo` for every node of ``model``.
    causes : list
        The states of ``lesion_cause`` other than ``none``: the conditions and
        ``other_causes``, in vocabulary order.
    tables : Tables
        The same tables as numpy arrays (for the compiled engine).
    """

    priors: Priors
    scenario: Scenario
    nodes: dict[str, NodeInfo]
    tables: "Tables"
    causes: list[str] = field(default_factory=list)

    @cached_property
    def model(self):
        return _pgmpy_model(self.tables)

    @property
    def graph(self) -> nx.DiGraph:
        """The structure as a new networkx graph (causes -> effects) the caller may annotate."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(self.tables.parents)
        graph.add_edges_from((p, node) for node, parents in self.tables.parents.items() for p in parents)
        return graph

    def public_nodes(self) -> list[NodeInfo]:
        return [info for info in self.nodes.values() if info.kind != "latent"]

    def largest_table(self) -> int:
        return max(int(np.prod(a.shape[1:])) for a in self.tables.arrays.values())


def get_scenario(priors: Priors, name: str | None) -> Scenario:
    """The scenario called ``name`` (default ``general_population``), with a clear error."""
    name = name or DEFAULT_SCENARIO
    if name not in priors.scenarios:
        raise ScenarioError(
            f"scenario '{name}' does not exist. Allowed: {allowed(priors.scenarios)}."
            f"{suggestion(name, priors.scenarios)}"
        )
    return priors.scenarios[name]


# --------------------------------------------------------------------------- parameters
@runtime_checkable
class ParameterSource(Protocol):
    """What :func:`build_tables` asks of a source of parameters: every row and ratio of the
    priors as arrays with a leading axis of ``draws`` parameter sets. The sources are
    :class:`PointValues` (the point estimate), ``uncertainty.ParameterDraws`` (draws from
    each parameter's uncertainty) and ``sensitivity``'s one-at-a-time source (each parameter
    moved alone to the ends of its range). A source may cache by the row's identity: the
    priors are immutable."""

    draws: int
    strict: bool  # True: a risk pushed above one is an error of the priors; False: capped at one

    def probabilities(self, row: Row) -> dict[str, np.ndarray]:
        """State -> array of ``draws`` values (a binary row may give one state)."""
        ...

    def ratio(self, ratio) -> np.ndarray:
        """Array of ``draws`` values of a relative risk."""
        ...


class PointValues:
    """The parameter source of the point estimate: every number at its stated value."""

    draws = 1
    strict = True  # a table entry above one is an error of the priors, not capped

    def probabilities(self, row: Row) -> dict[str, np.ndarray]:
        return {state: np.full(1, value) for state, value in row.probabilities.items()}

    def ratio(self, ratio) -> np.ndarray:
        return np.full(1, ratio.value)


def _full_distribution(values: dict[str, np.ndarray], states: Sequence[str], draws: int) -> np.ndarray:
    """A full row as an array (draws, states); a binary row may list one state."""
    out = np.full((draws, len(states)), np.nan)
    for i, state in enumerate(states):
        if state in values:
            out[:, i] = values[state]
    missing = np.isnan(out[0])
    if missing.any():
        out[:, missing] = ((1.0 - np.nansum(out, axis=1)) / missing.sum())[:, None]
    return out


@dataclass
class Tables:
    """The conditional probability tables of one scenario, with a leading draw axis.

    ``arrays[node]`` has shape (draws or 1, child states, *parent states), parents in
    the order of ``parents[node]``; a leading 1 means the table is the same in every draw.
    """

    states: dict[str, list[str]]
    parents: dict[str, list[str]]
    arrays: dict[str, np.ndarray]
    info: dict[str, NodeInfo]
    draws: int
    scenario: Scenario


class _Builder:
    def __init__(self, priors: Priors, scenario: Scenario, source):
        self.priors = priors
        self.scenario = scenario
        self.source = source
        self.draws = source.draws
        self.vocabulary = priors.vocabulary
        self.states: dict[str, list[str]] = {}
        self.parents: dict[str, list[str]] = {}
        self.tables: dict[str, np.ndarray] = {}
        self.info: dict[str, NodeInfo] = {}
        self.baselines: dict[str, np.ndarray] = {}

    def row(self, row: Row, states: Sequence[str]) -> np.ndarray:
        return _full_distribution(self.source.probabilities(row), states, self.draws)

    # -- bookkeeping ----------------------------------------------------------
    def add(self, node: str, states: Sequence[str], parents: Sequence[str], table: np.ndarray,
            *, kind: str, label: str, group: str | None = None, category: str | None = None,
            public_parents: Sequence[str] | None = None) -> None:
        """Add a node; ``table`` has shape (draws or 1, child, *parents)."""
        table = np.asarray(table, dtype=float)
        expected = (len(states), *[len(self.states[p]) for p in parents])
        if table.shape[1:] != expected or table.shape[0] not in (1, self.draws):
            raise PriorsError(f"{node}: table of shape {table.shape}, expected (draws, *{expected}).")
        if (table < -STRICT).any():
            raise PriorsError(f"{node}: the table has a negative probability ({table.min()!r}).")
        sums = table.sum(axis=1)
        if np.abs(sums - 1.0).max() > STRICT:
            raise PriorsError(f"{node}: a column of the table sums to {sums.flat[np.abs(sums - 1).argmax()]!r}, not 1.")
        self.states[node] = list(states)
        self.parents[node] = list(parents)
        self.tables[node] = np.clip(table, 0, None)
        self.info[node] = NodeInfo(node, kind, tuple(states), tuple(public_parents if public_parents is not None else parents),
                                   label, group, category)

    def joint(self, targets: Sequence[str], given: dict[str, str] | None = None) -> np.ndarray:
        """Exact joint distribution of ``targets`` (built nodes) per draw, optionally
        restricted to a stratum ``given``; normalised. Used to calibrate occurrences."""
        given = given or {}
        ancestors: set[str] = set()
        stack = list(targets) + list(given)
        while stack:
            node = stack.pop()
            if node not in ancestors:
                ancestors.add(node)
                stack.extend(self.parents[node])
        order = sorted(ancestors)
        index = {node: i for i, node in enumerate(order)}
        operands = []
        for node in order:
            table = np.broadcast_to(self.tables[node], (self.draws, *self.tables[node].shape[1:]))
            if node in given:
                mask = np.zeros(len(self.states[node]))
                mask[self.states[node].index(given[node])] = 1.0
                table = table * mask.reshape((1, -1) + (1,) * len(self.parents[node]))
            operands += [table, [Ellipsis, index[node]] + [index[p] for p in self.parents[node]]]
        result = contract(*operands, [Ellipsis] + [index[t] for t in targets])
        total = result.reshape(self.draws, -1).sum(axis=1)
        if (total <= 0).any():
            stratum = ", ".join(f"{k}={v}" for k, v in given.items())
            raise PriorsError(f"the stratum ({stratum}) has probability zero in scenario "
                              f"'{self.scenario.id}', so an occurrence given it cannot be calibrated.")
        return result / total.reshape((-1,) + (1,) * len(targets))

    # -- layers ---------------------------------------------------------------
    def context(self) -> None:
        rows = dict(self.priors.population)
        rows.update(self.scenario.population)
        for node in self.vocabulary.categories["context"]:
            states = self.vocabulary.findings[node]
            self.add(node, states, [], self.row(rows[node], states),
                     kind="risk_factor", label=self.vocabulary.label(node), category="context")

    def condition_order(self) -> list[str]:
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(self.vocabulary.conditions)
        for cid, entry in self.priors.conditions.items():
            graph.add_edges_from((p, cid) for p in entry.relative_risk if p in self.vocabulary.conditions)
        return list(nx.lexicographical_topological_sort(graph, key=list(self.vocabulary.conditions).index))

    def risk_ratios(self, cid: str) -> tuple[list[str], np.ndarray]:
        """Parents of a condition and the product of their relative risks, (draws, *parent states)."""
        entry = self.priors.conditions[cid]
        parents = list(entry.relative_risk)
        product = np.ones([self.draws, *[len(self.states[p]) for p in parents]])
        for axis, parent in enumerate(parents):
            ratios = entry.relative_risk[parent]
            ratio = np.ones((self.draws, len(self.states[parent])))
            for i, state in enumerate(self.states[parent]):
                if state in ratios:
                    ratio[:, i] = self.source.ratio(ratios[state])
            shape = [self.draws] + [1] * len(parents)
            shape[axis + 1] = ratio.shape[1]
            product = product * ratio.reshape(shape)
        return parents, product

    def baseline(self, occurrence: GivenRow, parents: list[str], product: np.ndarray) -> np.ndarray:
        """Baseline risk (per draw) such that the occurrence holds in its stratum of this builder's population."""
        target = self.row(occurrence, CONDITION_STATES)[:, 1]
        if not parents:
            return target
        weights = self.joint(parents, occurrence.given)
        expected_ratio = (weights * product).reshape(self.draws, -1).sum(axis=1)
        return target / expected_ratio

    def conditions(self, reference: "_Builder | None") -> None:
        """Add the conditions. Baselines come from ``reference`` (the default population)
        unless the scenario states an occurrence of its own; ``None`` means this builder
        is the reference."""
        for cid in self.condition_order():
            self.condition(cid, reference or self)

    def condition(self, cid: str, reference: "_Builder") -> None:
        parents, product = self.risk_ratios(cid)
        per_draw = (-1,) + (1,) * len(parents)
        if cid in self.scenario.occurrence:
            # An occurrence stated for this scenario holds in the scenario's own population.
            occurrence = self.scenario.occurrence[cid]
            target = self.row(occurrence, CONDITION_STATES)[:, 1]
            # The scenario fixes the condition (e.g. dialysis). Compared within STRICT: a Dirichlet
            # draw of a one-state row can come out as 1 - 1e-16, which must not fall back to calibration.
            fixed = next((v for v in (0.0, 1.0) if np.all(np.abs(target - v) <= STRICT)), None)
            if fixed is not None:
                present = np.full(product.shape, fixed)
            else:
                present = self.baseline(occurrence, parents, product).reshape(per_draw) * product
        elif reference is self:
            self.baselines[cid] = self.baseline(self.priors.conditions[cid].occurrence, parents, product)
            present = self.baselines[cid].reshape(per_draw) * product
        else:
            # The baseline is solved in the default population; the scenario changes only
            # the distribution of the parents (e.g. a population of children).
            present = reference.baselines[cid].reshape(per_draw) * product
        if present.max() > 1.0 + STRICT and self.source.strict:
            raise PriorsError(
                f"conditions.yaml: conditions.{cid}: the baseline times the relative risks exceeds one "
                f"(max {present.max():.3g}) in scenario '{self.scenario.id}'; the occurrence cannot hold "
                f"with these relative risks.")
        present = np.clip(present, 0, 1)  # only random draws can exceed one; they are capped
        condition = self.vocabulary.conditions[cid]
        self.add(cid, CONDITION_STATES, parents, np.stack([1.0 - present, present], axis=1), kind="condition",
                 label=condition["label"], group=condition["group"], category="condition")

    def producers(self) -> None:
        for cid in self.vocabulary.conditions:
            rows = self.priors.conditions[cid].calcification
            extra = list(rows[0].given)
            parents = [cid, *extra]
            table = np.zeros([self.draws, 2, 2, *[len(self.states[p]) for p in extra]])
            table[:, 0, 0] = 1.0  # an absent condition produces nothing
            for row in rows:
                index = tuple(self.states[p].index(row.given[p]) for p in extra)
                p = self.row(row, CONDITION_STATES)[:, 1]
                table[(slice(None), 1, 1, *index)] = p
                table[(slice(None), 0, 1, *index)] = 1.0 - p
            self.add(f"produces__{cid}", CONDITION_STATES, parents, table, kind="latent",
                     label=f"{self.vocabulary.label(cid)} produces a soft-tissue calcification")
        self.add(f"produces__{OTHER_CAUSES}", CONDITION_STATES, [], self.row(self.priors.other_causes, CONDITION_STATES),
                 kind="latent", label="A cause outside the model produces a soft-tissue calcification")

    def attribution(self, causes: list[str], chain: list[str]) -> None:
        """Link the producers in ``chain`` order; ``lesion_cause`` lists ``causes`` in their order."""
        previous_node = None
        for k, cause in enumerate(chain):
            _, states, table = canonical.attribution_step(chain, k)
            node = f"attribution__{k + 1:02d}"
            parents = ([previous_node] if previous_node else []) + [f"produces__{cause}"]
            self.add(node, states, parents, table[None], kind="latent",
                     label=f"Attribution of the index lesion among the first {k + 1} causes")
            previous_node = node
        result_states, table = canonical.attribution_result(chain, causes)
        self.add(LESION_CAUSE, result_states, [previous_node], table[None], kind="latent",
                 label="What produced the index calcification")
        states = self.vocabulary.findings[CALCIFICATION]
        present = np.array([float(s != canonical.NONE) for s in result_states])
        table = np.stack([1.0 - present if st == "absent" else present for st in states])
        self.add(CALCIFICATION, states, [LESION_CAUSE], table[None], kind="finding",
                 label="soft tissue calcification", category="imaging", public_parents=[LESION_CAUSE])

    def noisy_max_nodes(self) -> None:
        import networkx as nx

        graph = nx.DiGraph()
        for node, entry in self.priors.noisy_max.items():
            graph.add_node(node)
            graph.add_edges_from((p, node) for p, _ in entry.cause_rows() if p in self.priors.noisy_max)
        for node in nx.lexicographical_topological_sort(graph):
            self.noisy_max(node)

    def noisy_max(self, node: str) -> None:
        entry = self.priors.noisy_max[node]
        states = list(self.priors.states(node))
        dominance = list(entry.dominance)
        pushes: dict[str, dict[str, dict[str, np.ndarray]]] = {}
        for (parent, state), row in entry.cause_rows().items():
            pushes.setdefault(parent, {})[state] = self.source.probabilities(row)
        parents = list(pushes)
        leak = self.source.probabilities(entry.leak)
        is_latent = node in self.priors.latent
        kind = "latent" if is_latent else "finding"
        label = entry.label or self.vocabulary.label(node)
        category = None if is_latent else self.vocabulary.category_of(node)

        def spec(parent: str):
            return (parent, self.states[parent], pushes[parent])

        def table(specs, previous=False):
            return canonical.noisy_max_table(states, dominance, leak, specs, previous=previous, draws=self.draws)

        if len(parents) <= MAX_FULL_TABLE_CAUSES:
            self.add(node, states, parents, table([spec(p) for p in parents]), kind=kind, label=label, category=category)
            return
        # Parent divorcing: link 1 = max(leak, cause 1); link k = max(link k-1, cause k).
        link = f"{node}__link_1"
        self.add(link, states, [parents[0]], table([spec(parents[0])]),
                 kind="latent", label=f"{label}: effect of the first cause")
        for k, parent in enumerate(parents[1:], start=2):
            last = k == len(parents)
            name = node if last else f"{node}__link_{k}"
            values = table([(link, states, {}), spec(parent)], previous=True)
            if last:
                self.add(name, states, [link, parent], values, kind=kind, label=label, category=category,
                         public_parents=parents)
            else:
                self.add(name, states, [link, parent], values, kind="latent",
                         label=f"{label}: effect of the first {k} causes")
            link = name

    def lesion_signs(self) -> None:
        cause_states = self.states[LESION_CAUSE]
        for sign, rows in self.priors.lesion_signs.items():
            states = self.vocabulary.findings[sign]
            extra = sorted({k for entry in rows.values() if isinstance(entry, list) for k in entry[0].given})
            shape = [len(self.states[p]) for p in extra]
            table = np.zeros((self.draws, len(states), len(cause_states), *shape))
            for j, cause in enumerate(cause_states):
                if cause == canonical.NONE:
                    # Without a calcified lesion a lesion sign carries no information.
                    table[:, :, j] = 1.0 / len(states)
                    continue
                entry = rows[cause]
                for combo in np.ndindex(*shape):
                    stratum = {p: self.states[p][i] for p, i in zip(extra, combo)}
                    row = entry if not isinstance(entry, list) else next(
                        r for r in entry if all(stratum[k] == v for k, v in r.given.items()))
                    table[(slice(None), slice(None), j, *combo)] = self.row(row, states)
            self.add(sign, states, [LESION_CAUSE, *extra], table, kind="finding", label=self.vocabulary.label(sign),
                     category=self.vocabulary.category_of(sign))

    def result(self) -> Tables:
        return Tables(self.states, self.parents, self.tables, self.info, self.draws, self.scenario)


def build_tables(priors: Priors, scenario: Scenario | str | None = None,
                 source: ParameterSource | None = None) -> Tables:
    """All conditional probability tables of a scenario, for the point estimate or for
    parameter draws (``source``: a :class:`ParameterSource`, :class:`PointValues` by default).
    Raises :class:`PriorsError` like :func:`build_network`."""
    if not isinstance(scenario, Scenario):
        scenario = get_scenario(priors, scenario)
    source = source or PointValues()
    # Baselines are solved in the default population of population.yaml.
    reference = _Builder(priors, Scenario(id="population", label="population.yaml", description="default population"),
                         source)
    reference.context()
    reference.conditions(None)
    builder = _Builder(scenario_priors(priors, scenario), scenario, source)
    builder.context()
    builder.conditions(reference)
    # Findings before production: a condition's production may depend on its mineral state.
    builder.noisy_max_nodes()
    builder.producers()
    builder.attribution([*priors.vocabulary.conditions, OTHER_CAUSES], [*priors.attribution_chain, OTHER_CAUSES])
    builder.lesion_signs()
    return builder.result()


def _pgmpy_model(tables: Tables):
    """The tables (first parameter set) as a checked pgmpy ``DiscreteBayesianNetwork``."""
    return bayesian_network(tables.parents, tables.states, {node: a[0] for node, a in tables.arrays.items()})


def build_network(priors: Priors, scenario: Scenario | str | None = None) -> Network:
    """Assemble the network of ``priors`` for a scenario (default ``general_population``).

    Parameters
    ----------
    priors : Priors
        From :func:`calcinosis.data.priors.load_priors`.
    scenario : Scenario or str, optional
        A scenario object or the name of one in ``priors/scenarios``.

    Returns
    -------
    Network

    Raises
    ------
    PriorsError
        When the priors cannot form a valid network in this scenario (an occurrence
        that the relative risks make exceed one, a stratum of probability zero...).
    """
    if not isinstance(scenario, Scenario):
        scenario = get_scenario(priors, scenario)
    # The tables of a population are kept in the disk cache, keyed by the priors, the
    # scenario and the code that builds them: a later process reads them instead of building.
    tables = cache.fetch("network-" + cache.key([], priors.checksum, repr(scenario), readers=TABLE_READERS),
                         Tables, lambda: build_tables(priors, scenario))
    return Network(priors, tables.scenario, tables.info, tables, [*priors.vocabulary.conditions, OTHER_CAUSES])
