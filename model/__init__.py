"""calcinosis: why does this patient have calcium deposits in soft tissue?

Start with :class:`Model` (``calcinosis.Model.load().consult({...})``). A Bayesian network from the conditions behind soft-tissue calcification to the
laboratory, clinical and imaging findings they produce, with every parameter taken
from published figures (``priors/``). Decision support and teaching, not a diagnosis.

Names are imported on first use.
"""

__version__ = "0.1.0"

from .errors import CalcinosisError, EvidenceError, ImpossibleEvidenceError, PriorsError, ScenarioError  # messages

# The rest is imported on first use (PEP 562), so that `calcinosis --help` and a script that
# needs only the errors or the vocabulary do not pay for the numerical stack.
_LAZY = {
    "Vocabulary": "data.vocabulary", "load_vocabulary": "data.vocabulary",  # ids and states of the public nodes
    "Priors": "data.priors", "load_priors": "data.priors",  # every number with its source, validated
    "Network": "network.assembly", "build_network": "network.assembly",  # tables and the pgmpy network
    "Tables": "network.assembly", "build_tables": "network.assembly",
    "Case": "data.evidence", "load_case": "data.evidence",  # case files
    "ParameterDraws": "analyses.uncertainty",  # random draws of every parameter
    "CompiledEngine": "inference.engine",  # compiled junction tree, batched over evidence and draws
    "CompiledInference": "inference.posteriors", "Consultation": "inference.posteriors",
    "ExactInference": "inference.posteriors",
    "engine_for": "inference.posteriors",  # p_cause, p_present
    "WhatIf": "network.scenarios", "build_whatif": "network.scenarios",  # populations and interventions
    "Model": "analyses.api",  # the one entry point: everything built from the priors
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'calcinosis' has no attribute {name!r}")


__all__ = [
    "CalcinosisError", "EvidenceError", "ImpossibleEvidenceError", "PriorsError", "ScenarioError",
    "Vocabulary", "load_vocabulary", "Priors", "load_priors", "Network", "build_network",
    "Case", "load_case", "Consultation", "ExactInference", "CompiledInference", "engine_for",
    "Tables", "build_tables", "ParameterDraws", "CompiledEngine", "WhatIf", "build_whatif", "Model", "__version__",
]
