"""Network: from validated priors to the tables of a Bayesian network.

``canonical`` holds the local models (noisy-MAX, the lesion's attribution chain);
``assembly`` turns priors and a scenario into tables and a pgmpy network, for any
parameter source (point values, draws, one-at-a-time changes); ``scenarios`` owns the
populations and the interventions of a what-if.
"""
