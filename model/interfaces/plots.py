"""Figures for teaching: the network, a node's neighbourhood, prior-versus-posterior bars,
the trajectory of a walkthrough (probabilities and odds) and its likelihood-ratio table.

Compute functions (``*_table``, :func:`teaching_graph`, :func:`network_layout`) return
pandas DataFrames or a networkx graph; draw functions (``draw_*``) take an optional
matplotlib ``ax`` and return the Figure. They never call ``plt.show()`` nor save: the
command line (:mod:`calcinosis.interfaces.teaching_cli`) saves them as PNG or SVG with the Agg
backend. Figures are built with :class:`matplotlib.figure.Figure`, without pyplot's
global state. Every styling constant is in :data:`STYLE`.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..foundation.defaults import NOT_A_DIAGNOSIS
from ..errors import EvidenceError
from ..foundation.formatting import percent
from ..network.assembly import LESION_CAUSE, Network
from ..data.vocabulary import ALL_NODES_HINT, check_node
from ..data.priors import OTHER_CAUSES
from ..foundation.yamlio import read_yaml

# Colours, sizes and fonts of the figures (style.yaml, package data beside this module).
STYLE = read_yaml(Path(__file__).with_name("style.yaml"), EvidenceError, "figure style")

LAYERS = ("risk factors", "conditions", "latent physiology", "clinical findings", "laboratory findings",
          "imaging findings")


# --------------------------------------------------------------------------- graph
def _layer(network: Network, node: str) -> str:
    info = network.nodes[node]
    if info.kind == "risk_factor":
        return "risk factors"
    if info.kind == "condition":
        return "conditions"
    if info.kind == "latent":
        return "latent physiology"
    category = network.priors.vocabulary.category_of(node)
    return f"{category} findings" if category in ("clinical", "laboratory", "imaging") else "imaging findings"


def _full_graph(network: Network) -> nx.DiGraph:
    """Every node and arc of the network, with the attributes of :func:`teaching_graph`."""
    graph = network.graph
    graph.add_nodes_from(network.nodes)
    vocabulary = network.priors.vocabulary
    for node, info in network.nodes.items():
        graph.nodes[node].update(layer=_layer(network, node), group=info.group, kind=info.kind,
                                 label=vocabulary.label(node) if info.kind == "condition" else node.replace("_", " "))
    return graph


def teaching_graph(network: Network) -> nx.DiGraph:
    """The network as it is taught: every public node, ``lesion_cause`` and the latent
    physiology; the attribution chain and the divorcing links are collapsed, so that a
    node's parents are its causes. Node attributes: ``layer``, ``group``, ``label``, ``kind``."""
    keep = {n for n, info in network.nodes.items() if info.kind != "latent"}
    keep |= {LESION_CAUSE, *network.priors.latent}
    full = _full_graph(network)
    graph = nx.DiGraph()
    for node in sorted(keep, key=list(network.nodes).index):
        graph.add_node(node, **full.nodes[node])
    for node in graph:
        # walk up through the collapsed latent nodes to the nearest kept ancestors
        stack, seen = list(full.predecessors(node)), set()
        while stack:
            parent = stack.pop()
            if parent in seen:
                continue
            seen.add(parent)
            if parent in keep:
                graph.add_edge(parent, node)
            else:
                stack.extend(full.predecessors(parent))
    return graph


def network_layout(network: Network, graph: nx.DiGraph | None = None) -> pd.DataFrame:
    """Positions of the teaching graph in layers (one row per node: node, layer, group,
    label, x, y). Conditions are ordered by group; findings by category."""
    graph = graph if graph is not None else teaching_graph(network)
    vocabulary = network.priors.vocabulary
    group_order = list(vocabulary.groups)
    members = {layer: [n for n, d in graph.nodes(data=True) if d["layer"] == layer] for layer in LAYERS}
    x: dict[str, float] = {}

    def spread(nodes):
        for i, node in enumerate(nodes):
            x[node] = (i + 0.5) / max(len(nodes), 1)

    def barycentre(node, neighbours):
        placed = [x[n] for n in neighbours if n in x]
        return sum(placed) / len(placed) if placed else 0.5

    # conditions first (by group), then each other layer by the mean position of its neighbours
    spread(sorted(members["conditions"], key=lambda n: (group_order.index(graph.nodes[n]["group"]),
                                                        list(vocabulary.conditions).index(n))))
    spread(sorted(members["risk factors"], key=lambda n: barycentre(n, graph.successors(n))))
    for layer in LAYERS[2:]:
        spread(sorted(members[layer], key=lambda n: barycentre(n, graph.predecessors(n))))
    rows = []
    for depth, layer in enumerate(LAYERS):
        for node in members[layer]:
            rows.append({"node": node, "layer": layer, "group": graph.nodes[node]["group"],
                         "label": graph.nodes[node]["label"], "x": x[node], "y": -depth * STYLE["row_gap"]})
    return pd.DataFrame(rows)


def _node_colour(data: dict) -> str:
    if data.get("kind") == "condition":
        return STYLE["group_colours"].get(data.get("group"), STYLE["kind_colours"]["condition"])
    if data["layer"] == "risk factors":
        return STYLE["kind_colours"]["risk_factor"]
    if data["layer"] == "latent physiology":
        return STYLE["kind_colours"]["latent"]
    return STYLE["kind_colours"][data["layer"].split()[0]]


def _new_figure(size) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size, dpi=STYLE["dpi"])
    return figure, figure.add_subplot()


def _footnote(figure: Figure) -> None:
    figure.text(0.995, 0.004, NOT_A_DIAGNOSIS, ha="right", va="bottom", fontsize=STYLE["footnote_size"],
                style="italic", color="#555555")


def _draw_graph(graph: nx.DiGraph, layout: pd.DataFrame, ax: Axes, network: Network, font_size: float,
                highlight: str | None = None) -> None:
    position = {r.node: (r.x, r.y) for r in layout.itertuples()}
    sub = graph.subgraph(position)
    for source, target in sub.edges():
        data = graph.nodes[source]
        colour = (STYLE["group_colours"].get(data.get("group"), STYLE["edge_colour"])
                  if data.get("kind") == "condition" else STYLE["edge_colour"])
        (x0, y0), (x1, y1) = position[source], position[target]
        ax.annotate("", xy=(x1, y1 + 0.12), xytext=(x0, y0 - 0.12),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "alpha": STYLE["edge_alpha"] + 0.1,
                                "lw": STYLE["edge_width"], "shrinkA": 0, "shrinkB": 0, "mutation_scale": 7})
    for node, (x, y) in position.items():
        data = graph.nodes[node]
        colour = _node_colour(data)
        text = "\n".join(textwrap.wrap(data["label"], STYLE["wrap"], break_long_words=False)) or node
        dark = data.get("kind") == "condition"
        ax.text(x, y, text, ha="center", va="center", fontsize=font_size, color="white" if dark else "black",
                zorder=3, bbox={"boxstyle": "round,pad=0.3", "facecolor": colour, "edgecolor": "#555555",
                                "linewidth": 2.5 if node == highlight else 0.6})
    ys = sorted({y for _, y in position.values()}, reverse=True)
    for layer in layout["layer"].unique():
        y = layout.loc[layout["layer"] == layer, "y"].iloc[0]
        ax.text(-0.01, y, layer, ha="right", va="center", fontsize=font_size + 2, fontweight="bold", color="#333333")
    ax.set_xlim(-0.09, 1.01)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.axis("off")
    groups = network.priors.vocabulary.groups
    handles = [Patch(facecolor=STYLE["group_colours"][g], label=label) for g, label in groups.items()]
    handles += [Patch(facecolor=STYLE["kind_colours"][k], edgecolor="#555555", label=k.replace("_", " "))
                for k in ("risk_factor", "latent", "clinical", "laboratory", "imaging")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.0), ncol=6, fontsize=font_size + 2,
              frameon=False)


def draw_network(network: Network, ax: Axes | None = None) -> Figure:
    """The whole network in layers (risk factors, conditions by group, latent physiology,
    findings by category), conditions and their arcs coloured by pathogenetic group."""
    figure, ax = (_new_figure(STYLE["network_size"]) if ax is None else (ax.figure, ax))
    graph = teaching_graph(network)
    layout = network_layout(network, graph)
    _draw_graph(graph, layout, ax, network, STYLE["font_size"])
    ax.set_title(f"The calcinosis network ({network.scenario.id}): {graph.number_of_nodes()} taught nodes, "
                 f"{graph.number_of_edges()} arcs (attribution chain and divorcing links collapsed)",
                 fontsize=STYLE["title_size"])
    _footnote(figure)
    return figure


def _graph_around(network: Network, node: str) -> nx.DiGraph:
    graph = teaching_graph(network)
    return graph if node in graph else _full_graph(network)


def neighbourhood_table(network: Network, node: str, radius: int = 1) -> pd.DataFrame:
    """The nodes within ``radius`` arcs of ``node`` (either direction), laid out in layers.
    Public nodes, ``lesion_cause`` and the latent physiology use the taught graph; other
    latent nodes (links, producers, the attribution chain) use the full network."""
    check_node(node, network.nodes, "plot", ALL_NODES_HINT)
    if radius < 1:
        raise EvidenceError(f"the radius must be at least 1; got {radius}.")
    graph = _graph_around(network, node)
    near = nx.ego_graph(graph.to_undirected(as_view=True), node, radius=radius)
    sub = graph.subgraph(near.nodes)
    rows = []
    generations = list(nx.topological_generations(sub))
    for depth, generation in enumerate(generations):
        ordered = sorted(generation, key=list(network.nodes).index)
        for i, n in enumerate(ordered):
            rows.append({"node": n, "layer": f"level {depth + 1}", "group": sub.nodes[n].get("group"),
                         "label": sub.nodes[n]["label"], "x": (i + 0.5) / len(ordered), "y": -depth * STYLE["row_gap"],
                         "centre": n == node})
    return pd.DataFrame(rows)


def draw_neighbourhood(network: Network, node: str, radius: int = 1, ax: Axes | None = None) -> Figure:
    """The sub-network around ``node``: its parents, children (and further, with ``radius``)."""
    table = neighbourhood_table(network, node, radius)
    figure, ax = (_new_figure(STYLE["neighbourhood_size"]) if ax is None else (ax.figure, ax))
    graph = _graph_around(network, node)
    _draw_graph(graph, table, ax, network, STYLE["font_size"] + 2.5, highlight=node)
    ax.set_title(f"Neighbourhood of {node} (radius {radius}): {len(table)} nodes", fontsize=STYLE["title_size"])
    _footnote(figure)
    return figure


# --------------------------------------------------------------------------- consultations
def prior_posterior_table(differential: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """The ``top`` conditions of a differential (from ``consult``) with prior and posterior p_cause."""
    rows = differential.sort_values("p_cause", ascending=False).head(top)
    return rows[["id", "label", "group", "prior_cause", "p_cause", "p_present"]].reset_index(drop=True)


def draw_prior_posterior(differential: pd.DataFrame, top: int = 8, ax: Axes | None = None,
                         title: str = "Prior and posterior probability of each cause") -> Figure:
    """Horizontal bars: prior p_cause (the scenario's case mix) against posterior p_cause."""
    table = prior_posterior_table(differential, top)
    figure, ax = (_new_figure(STYLE["panel_size"]) if ax is None else (ax.figure, ax))
    y = np.arange(len(table))[::-1]
    height = 0.38
    ax.barh(y + height / 2, table["prior_cause"], height, color=STYLE["prior_colour"], label="prior (case mix)")
    ax.barh(y - height / 2, table["p_cause"], height, color=STYLE["posterior_colour"], label="posterior")
    for yi, p in zip(y, table["p_cause"]):
        ax.text(p, yi - height / 2, f" {100 * p:.1f}%", va="center", fontsize=STYLE["font_size"] + 1)
    ax.set_yticks(y, ["\n".join(textwrap.wrap(label, 32)) for label in table["label"]], fontsize=STYLE["font_size"] + 1)
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("P(this condition produced the calcification)")
    ax.legend(loc="lower right", fontsize=STYLE["font_size"] + 1)
    ax.set_title(title)
    if ax.figure is figure and len(figure.axes) == 1:
        figure.tight_layout(rect=(0, 0.03, 1, 1))
        _footnote(figure)
    return figure


# --------------------------------------------------------------------------- walkthroughs
def _leading(walk, show: int) -> list[str]:
    table = walk.trajectory()
    causes = [c for c in walk.labels if c in table and c != OTHER_CAUSES]
    return sorted(causes, key=lambda c: -table[c].max())[:show]


def trajectory_table(walk, show: int = 5) -> pd.DataFrame:
    """p_cause of the ``show`` causes that ever lead, at every step of a walkthrough (long form)."""
    table = walk.trajectory()
    rows = []
    for cause in _leading(walk, show):
        for step, finding, p in zip(table["step"], table["finding"], table[cause]):
            rows.append({"step": int(step), "finding": finding, "cause": cause, "label": walk.labels[cause],
                         "p_cause": float(p), "log10_odds": math.log10(p / (1 - p)) if 0 < p < 1 else np.nan})
    return pd.DataFrame(rows)


def _step_labels(walk) -> list[str]:
    return ["start"] + [f"{s.finding}\n= {s.state}" for s in walk.steps[1:]]


def draw_trajectory(walk, show: int = 5, ax: Axes | None = None) -> Figure:
    """p_cause of the leading causes after each finding of a walkthrough."""
    table = trajectory_table(walk, show)
    figure, ax = (_new_figure(STYLE["panel_size"]) if ax is None else (ax.figure, ax))
    for cause, rows in table.groupby("cause", sort=False):
        ax.plot(rows["step"], rows["p_cause"], marker=STYLE["marker"], lw=STYLE["line_width"],
                label=rows["label"].iloc[0][:40])
    ax.set_xticks(range(len(walk.steps)), _step_labels(walk), rotation=30, ha="right", fontsize=STYLE["font_size"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("p_cause")
    ax.set_title("Trajectory of the leading causes, one finding at a time")
    ax.legend(fontsize=STYLE["font_size"], loc="best")
    ax.grid(alpha=0.3)
    if len(figure.axes) == 1:
        figure.tight_layout(rect=(0, 0.03, 1, 1))
        _footnote(figure)
    return figure


def odds_table(walk) -> pd.DataFrame:
    """Prior odds, likelihood ratio and posterior odds of the followed hypotheses, per step."""
    return walk.likelihood_ratios()[["step", "finding", "state", "condition", "label", "prior_odds",
                                     "likelihood_ratio", "posterior_odds", "posterior"]]


def draw_odds(walk, ax: Axes | None = None) -> Figure:
    """Odds of the followed hypotheses on a log scale: each step multiplies them by the LR."""
    figure, ax = (_new_figure(STYLE["panel_size"]) if ax is None else (ax.figure, ax))
    table = odds_table(walk)
    for h in walk.hypotheses:
        rows = table[table["condition"] == h]
        start = walk.steps[0].posterior[h]
        values = [start / (1 - start)] + list(rows["posterior_odds"])
        ax.plot(range(len(values)), values, marker=STYLE["marker"], lw=STYLE["line_width"], label=walk.labels[h][:40])
        for x, (lr, value) in enumerate(zip(rows["likelihood_ratio"], rows["posterior_odds"]), start=1):
            if lr is not None and np.isfinite(lr) and np.isfinite(value) and value > 0:
                ax.annotate(f"x{lr:.3g}", (x, value), textcoords="offset points", xytext=(0, 6), ha="center",
                            fontsize=STYLE["font_size"] - 0.5)
    ax.set_yscale("log")
    ax.axhline(1, color="#444444", lw=0.8, ls="--")
    ax.text(0, 1, " odds 1 = 50%", va="bottom", fontsize=STYLE["font_size"], color="#444444")
    ax.set_xticks(range(len(walk.steps)), _step_labels(walk), rotation=30, ha="right", fontsize=STYLE["font_size"])
    ax.set_ylabel("odds that H produced the calcification (log scale)")
    ax.set_title("Odds form of Bayes' rule: each finding multiplies the odds by its likelihood ratio")
    ax.legend(fontsize=STYLE["font_size"], loc="best")
    ax.grid(alpha=0.3, which="both")
    if len(figure.axes) == 1:
        figure.tight_layout(rect=(0, 0.03, 1, 1))
        _footnote(figure)
    return figure


def likelihood_ratio_table(walk) -> pd.DataFrame:
    """Likelihood ratios as a matrix: one row per followed hypothesis, one column per step."""
    table = walk.likelihood_ratios()
    if table.empty:
        return pd.DataFrame(index=[walk.labels[h] for h in walk.hypotheses])
    table = table.assign(column=[f"{s}. {f}={v}" for s, f, v in zip(table["step"], table["finding"], table["state"])])
    matrix = table.pivot(index="condition", columns="column", values="likelihood_ratio")
    matrix = matrix.reindex(index=walk.hypotheses, columns=list(dict.fromkeys(table["column"])))
    matrix.index = [walk.labels[h] for h in matrix.index]
    return matrix.astype(float)


def draw_likelihood_ratios(walk, ax: Axes | None = None) -> Figure:
    """The likelihood-ratio table as a heat map (red raises the odds of H, blue lowers them)."""
    matrix = likelihood_ratio_table(walk)
    figure, ax = (_new_figure(STYLE["panel_size"]) if ax is None else (ax.figure, ax))
    with np.errstate(divide="ignore"):
        values = np.log10(matrix.to_numpy(dtype=float))
    limit = STYLE["lr_limit"]
    ax.imshow(np.clip(values, -limit, limit), cmap=STYLE["lr_colour_map"], vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), lr in np.ndenumerate(matrix.to_numpy(dtype=float)):
        ax.text(j, i, "-" if not np.isfinite(lr) else f"{lr:.3g}", ha="center", va="center",
                fontsize=STYLE["font_size"] + 1)
    ax.set_xticks(range(matrix.shape[1]), [c.replace("=", "\n= ") for c in matrix.columns], rotation=30, ha="right",
                  fontsize=STYLE["font_size"])
    ax.set_yticks(range(matrix.shape[0]), ["\n".join(textwrap.wrap(str(i), 28)) for i in matrix.index],
                  fontsize=STYLE["font_size"] + 1)
    ax.set_title("Likelihood ratio of each finding, given the findings before it")
    if len(figure.axes) == 1:
        figure.tight_layout(rect=(0, 0.03, 1, 1))
        _footnote(figure)
    return figure


def draw_case(walk, ax=None) -> Figure:
    """Four panels for one case: prior vs posterior, trajectory, odds, likelihood ratios."""
    if ax is not None:
        return draw_trajectory(walk, ax=ax)
    figure = Figure(figsize=(STYLE["panel_size"][0] * 2, STYLE["panel_size"][1] * 2 + 1), dpi=STYLE["dpi"])
    axes = figure.subplots(2, 2)
    draw_prior_posterior(walk.final_differential, ax=axes[0, 0])
    draw_trajectory(walk, ax=axes[0, 1])
    draw_odds(walk, ax=axes[1, 0])
    draw_likelihood_ratios(walk, ax=axes[1, 1])
    title = walk.case.title if walk.case is not None else "Case"
    figure.suptitle(textwrap.shorten(title, 140), fontsize=STYLE["title_size"] - 2)
    figure.tight_layout(rect=(0, 0.03, 1, 0.97))
    _footnote(figure)
    return figure


# --------------------------------------------------------------------------- consultation
def draw_differential(differential: pd.DataFrame, top: int = 10, ax: Axes | None = None,
                      title: str = "What produced the calcification: p_cause with intervals over parameter draws") -> Figure:
    """Bars of p_cause for the ``top`` conditions, coloured by group, with the interval
    over parameter draws as error bars (``differential`` from a full consultation:
    columns label, group, p_cause, low, high)."""
    table = differential.head(top)
    figure, ax = (_new_figure(STYLE["panel_size"]) if ax is None else (ax.figure, ax))
    y = np.arange(len(table))[::-1]
    colours = [STYLE["group_colours"].get(g, STYLE["prior_colour"]) for g in table["group"]]
    ax.barh(y, table["p_cause"], color=colours)
    errors = np.vstack([np.clip(table["p_cause"] - table["low"], 0, None), np.clip(table["high"] - table["p_cause"], 0, None)])
    ax.errorbar(table["p_cause"], y, xerr=errors, fmt="none", ecolor="#333333", capsize=3, linewidth=1)
    for yi, p in zip(y, table["p_cause"]):
        ax.text(min(p, 0.97), yi + 0.3, f"{percent(p)}", fontsize=STYLE["font_size"] + 1)
    ax.set_yticks(y, ["\n".join(textwrap.wrap(label, 32)) for label in table["label"]], fontsize=STYLE["font_size"] + 1)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("P(this condition produced the calcification)")
    ax.set_title(title)
    figure.tight_layout()
    return figure


def draw_groups(groups: pd.DataFrame, ax: Axes | None = None,
                title: str = "Pathogenetic groups: p_cause with intervals over parameter draws") -> Figure:
    """Bars of the six group posteriors with their intervals, and the prior as a grey tick."""
    figure, ax = (_new_figure((STYLE["panel_size"][0], 3.6)) if ax is None else (ax.figure, ax))
    y = np.arange(len(groups))[::-1]
    ax.barh(y, groups["p_cause"], color=[STYLE["group_colours"][g] for g in groups["id"]])
    errors = np.vstack([np.clip(groups["p_cause"] - groups["low"], 0, None), np.clip(groups["high"] - groups["p_cause"], 0, None)])
    ax.errorbar(groups["p_cause"], y, xerr=errors, fmt="none", ecolor="#333333", capsize=3, linewidth=1)
    ax.scatter(groups["prior_cause"], y, marker="|", s=200, color=STYLE["prior_colour"], label="prior (case mix)", zorder=3)
    ax.set_yticks(y, ["\n".join(textwrap.wrap(label, 30)) for label in groups["label"]], fontsize=STYLE["font_size"] + 1)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("P(a condition of this group produced the calcification)")
    ax.legend(loc="lower right", fontsize=STYLE["font_size"] + 1)
    ax.set_title(title)
    figure.tight_layout()
    return figure


def draw_impact(impact: pd.DataFrame, cause: str, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Weight of evidence (decibans) of each observed finding for ``cause`` against the
    rest: bars to the right support it, to the left argue against it."""
    table = impact[impact["cause"] == cause].sort_values("decibans")
    figure, ax = (_new_figure((STYLE["panel_size"][0], 0.9 + 0.38 * max(len(table), 1))) if ax is None else (ax.figure, ax))
    values = table["decibans"].clip(-STYLE["impact_limit"], STYLE["impact_limit"])
    colours = [STYLE["support_colour"] if v > 0 else STYLE["against_colour"] for v in values]
    y = np.arange(len(table))
    ax.barh(y, values, color=colours)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, [f"{f} = {s}" for f, s in zip(table["finding"], table["state"])], fontsize=STYLE["font_size"] + 1)
    ax.set_xlabel("weight of evidence, decibans (10 log10 likelihood ratio)")
    ax.set_title(title or f"Evidence impact on {cause}")
    figure.tight_layout()
    return figure


def draw_tornado(sensitivity: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Figure:
    """One-way sensitivity: p_cause of the leader with each parameter at the low and at
    the high end of its range (judgements hatched); the line is the point estimate."""
    table = sensitivity.iloc[::-1]
    figure, ax = (_new_figure((STYLE["panel_size"][0] + 2, 0.9 + 0.42 * max(len(table), 1))) if ax is None else (ax.figure, ax))
    y = np.arange(len(table))
    left = np.minimum(table["p_at_low"], table["p_at_high"])
    width = np.abs(table["p_at_high"] - table["p_at_low"])
    bars = ax.barh(y, width, left=left, color=STYLE["posterior_colour"])
    for bar, kind in zip(bars, table["kind"]):
        if kind == "judgement":
            bar.set_hatch("//")
            bar.set_facecolor(STYLE["judgement_colour"])
    if len(table):
        ax.axvline(float(table["p_cause"].iloc[0]), color="#333333", linewidth=1)
    ax.set_yticks(y, ["\n".join(textwrap.wrap(p, 60)) for p in table["parameter"]], fontsize=STYLE["font_size"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("p_cause of the leader with the parameter at the ends of its range (hatched: judgement)")
    ax.set_title(title or "One-way sensitivity")
    figure.tight_layout()
    return figure
