"""calcinosis: why does this patient have calcium deposits in soft tissue?

Start with :class:`Model` (``calcinosis.Model.load().consult({...})``). A Bayesian network from the conditions behind soft-tissue calcification to the
laboratory, clinical and imaging findings they produce, with every parameter taken
from published figures (``priors/``). Decision support and teaching, not a diagnosis.

The imports below follow the dependency order of the modules.
"""

__version__ = "0.1.0"

from .errors import CalcinosisError, EvidenceError, ImpossibleEvidenceError, PriorsError, ScenarioError  # messages
from .vocabulary import Vocabulary, load_vocabulary  # ids and states of the public nodes
from .priors import Priors, load_priors  # every number with its source, validated
from .network import Network, build_network  # pgmpy tables from the priors and a scenario
from .evidence import Case, load_case  # case files
from .network import Tables, build_tables  # the same tables as arrays, for the point estimate or draws
from .uncertainty import ParameterDraws  # random draws of every parameter
from .engine import CompiledEngine  # compiled junction tree, batched over evidence and draws
from .inference import CompiledInference, Consultation, ExactInference, engine_for  # p_cause, p_present
from .scenarios import WhatIf, build_whatif  # populations and interventions
from .api import Model  # the one entry point: everything built from the priors

__all__ = [
    "CalcinosisError", "EvidenceError", "ImpossibleEvidenceError", "PriorsError", "ScenarioError",
    "Vocabulary", "load_vocabulary", "Priors", "load_priors", "Network", "build_network",
    "Case", "load_case", "Consultation", "ExactInference", "CompiledInference", "engine_for",
    "Tables", "build_tables", "ParameterDraws", "CompiledEngine", "WhatIf", "build_whatif", "Model", "__version__",
]
