"""Inference: exact posteriors on an assembled network.

``engine`` is the compiled junction tree used by every consultation; ``posteriors``
gives p_cause and p_present through it or through pgmpy's variable elimination (the
reference); ``exchange`` writes and reads the network in other tools' file formats.
"""
