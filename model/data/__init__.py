"""Data: the public vocabulary, the priors and the case files, read and validated.

``vocabulary`` owns the ids and states every input is checked against; ``priors`` reads
``priors/`` into a validated :class:`~calcinosis.data.priors.Priors` (every number with its
source); ``evidence`` reads case files; ``corpus`` the published cases. Nothing here
knows about networks or inference.
"""
