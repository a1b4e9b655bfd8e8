"""The defaults a user sees in every command's help: population, draws, seed, engines, disclaimer.

Kept apart from the modules that compute, so that the command line can describe itself
(``calcinosis --help``) without importing the numerical stack.
"""

DEFAULT_SCENARIO = "general_population"
DEFAULT_DRAWS = 1000
WHATIF_DRAWS = 100  # parameter draws of a population summary
DEFAULT_SEED = 2011  # the source review's year: any fixed seed makes runs reproducible
LESSON_NAMES = ("base-rates", "explaining-away", "d-separation", "order", "test-value", "present-vs-cause")
EXCHANGE_FORMATS = ("bif", "xmlbif", "xdsl", "net", "uai")  # the files `calcinosis export` writes
ENGINE_NAMES = ("compiled", "pgmpy")  # the compiled junction tree (default) and pgmpy's reference
NOT_A_DIAGNOSIS = "Decision support and teaching only: this is not a diagnosis."  # figures, banners
DISCLAIMER = (NOT_A_DIAGNOSIS + " The probabilities come from "
              "published figures and stated judgements and must be weighed by a clinician who knows the patient.")
