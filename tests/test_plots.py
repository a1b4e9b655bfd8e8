"""Plots: compute functions return tables, draw functions return figures, the CLI writes images."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from calcinosis.interfaces import plots
from calcinosis.analyses import teaching# noqa: E402
from calcinosis.interfaces.cli import main  # noqa: E402

from .conftest import ROOT, fast_first, inference_for  # noqa: E402

FIG9 = ROOT / "evidence_examples" / "paparo2011_fig09_calcified_tophus_peroneal_ckd.yaml"


def test_taught_graph_has_the_layers_and_collapses_the_latent_chains():
    network = inference_for("general_adult").network
    graph = plots.teaching_graph(network)
    layout = plots.network_layout(network, graph)
    assert set(layout["layer"]) == set(plots.LAYERS)
    assert (layout["layer"] == "conditions").sum() == len(network.priors.vocabulary.conditions)
    assert not any(n.startswith(("attribution__", "produces__")) or "__link" in n for n in graph)
    assert set(graph.predecessors("raynaud_phenomenon")) == set(network.nodes["raynaud_phenomenon"].parents)
    assert "gout" in set(graph.predecessors("lesion_cause"))
    # The calcium state drives sarcoidosis' production of a calcification, which the taught graph
    # draws as an arc into the cause of the lesion.
    assert "serum_calcium" in set(graph.predecessors("lesion_cause"))
    table = plots.neighbourhood_table(network, "serum_calcium")
    assert set(table["node"]) == {"serum_calcium", *network.nodes["serum_calcium"].parents, "lesion_cause"}


def test_draw_functions_return_figures_and_accept_an_axis():
    walk = teaching.case_walkthrough(FIG9)
    for draw in (plots.draw_trajectory, plots.draw_odds, plots.draw_likelihood_ratios):
        assert isinstance(draw(walk), Figure)
        figure = Figure()
        ax = figure.add_subplot()
        assert draw(walk, ax=ax) is figure
    assert list(plots.likelihood_ratio_table(walk).index)[0] == walk.labels[walk.hypotheses[0]]
    bars = plots.prior_posterior_table(walk.final_differential, top=5)
    assert len(bars) == 5 and bars["p_cause"].is_monotonic_decreasing


@pytest.mark.parametrize("argv", fast_first([
    ["network"], ["neighbourhood", "serum_calcium"], ["neighbourhood", "produces__gout"],
    ["case", str(FIG9)], ["case", str(FIG9), "--kind", "lr"],
], keep=2))
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_commands_write_non_empty_images(argv, suffix, tmp_path, capsys):
    out = tmp_path / f"figure{suffix}"
    assert main(["plot", *argv, "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.stat().st_size > 5_000
    head = out.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in out.read_bytes()[:2000] or b"<?xml" in head


def test_plot_errors(tmp_path, capsys):
    assert main(["plot", "neighbourhood", "serum_calcum", "--out", str(tmp_path / "x.png")]) == 2
    assert "Did you mean 'serum_calcium'" in capsys.readouterr().err
    assert main(["plot", "neighbourhood", "--out", str(tmp_path / "x.png")]) == 2
    assert main(["plot", "case", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "x.png")]) == 2


def test_every_group_has_a_colour_in_the_style_file():
    """The figures' colours are data (style.yaml); a group of the vocabulary without a colour
    would be drawn grey."""
    from calcinosis import load_vocabulary
    from calcinosis.interfaces import plots

    assert set(load_vocabulary().groups) <= set(plots.STYLE["group_colours"])
