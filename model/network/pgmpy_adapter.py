"""pgmpy behind one door: the only module of the package that imports pgmpy.

The package's own engine works on numpy tables; pgmpy is the reference it is checked
against and the route to other tools' file formats. Everything pgmpy is asked for goes
through here:

* :func:`bayesian_network`: tables by name -> a ``DiscreteBayesianNetwork`` of
  ``TabularCPD`` (the network users of pgmpy know);
* :func:`variable_elimination`: pgmpy's exact inference on such a network;
* :func:`exchange_classes`: pgmpy's writer and reader of an exchange format.

pgmpy is imported on first use only: it pulls in scipy, statsmodels and scikit-learn,
which a consultation never needs (about 1.4 s of start-up).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork


def _quietly(importer):
    # pgmpy announces deprecations of modules this package does not use.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return importer()


def bayesian_network(parents: Mapping[str, Sequence[str]], states: Mapping[str, Sequence[str]],
                     tables: Mapping[str, np.ndarray], check: bool = True) -> "DiscreteBayesianNetwork":
    """A pgmpy network of one ``TabularCPD`` per node.

    Parameters
    ----------
    parents : node -> its parents, in the order of the table's axes
    states : node -> its state names
    tables : node -> array of shape (states of the node, *states of each parent)
    check : run pgmpy's ``check_model`` (columns sum to one, scopes agree)
    """
    def classes():
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork
        return TabularCPD, DiscreteBayesianNetwork

    TabularCPD, DiscreteBayesianNetwork = _quietly(classes)
    model = DiscreteBayesianNetwork([(p, node) for node, ps in parents.items() for p in ps])
    model.add_nodes_from(parents)
    cpds = []
    for node, ps in parents.items():
        card = len(states[node])
        cpds.append(TabularCPD(node, card, np.asarray(tables[node]).reshape(card, -1),
                               evidence=list(ps) or None, evidence_card=[len(states[p]) for p in ps] or None,
                               state_names={v: list(states[v]) for v in [node, *ps]}))
    model.add_cpds(*cpds)
    if check:
        model.check_model()
    return model


def variable_elimination(model: "DiscreteBayesianNetwork"):
    """pgmpy's ``VariableElimination`` on ``model``: the exact reference engine."""
    def importer():
        from pgmpy.inference import VariableElimination
        return VariableElimination

    return _quietly(importer)(model)


def exchange_classes(fmt: str) -> tuple[type, type | None]:
    """pgmpy's (writer, reader) classes of an exchange format (UAI has no usable reader:
    it does not parse exponents)."""
    def importer():
        from pgmpy import readwrite
        return readwrite

    readwrite = _quietly(importer)
    pairs = {"bif": ("BIFWriter", "BIFReader"), "xmlbif": ("XMLBIFWriter", "XMLBIFReader"),
             "xdsl": ("XDSLWriter", "XDSLReader"), "net": ("NETWriter", "NETReader"), "uai": ("UAIWriter", None)}
    writer, reader = pairs[fmt]
    return getattr(readwrite, writer), (getattr(readwrite, reader) if reader else None)
