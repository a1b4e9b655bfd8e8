"""Analyses: what users ask of the network.

The consultation (``consultation``, with ``explain``: evidence impact and next tests, and
``uncertainty``: parameter draws and intervals), one-way ``sensitivity``, the population
``whatif`` and simulated ``cohort``, ``teaching``, literature ``targets``, ``learning``
from the published corpus and its out-of-sample ``evaluation``. ``api`` holds
:class:`~calcinosis.analyses.api.Model`, the one object that owns what is built from the priors.
"""
