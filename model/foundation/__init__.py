"""Foundation: what every layer above may use and nothing here depends on.

Files and package data (``resources``, ``yamlio``, ``paths``), the disk cache (``cache``),
limits on work and memory (``limits``), the stamp on every output (``stamp``), optional
dependencies (``extras``), settings read once (``defaults``) and number formatting
(``formatting``). The package's typed errors are one level below, in ``calcinosis.errors``.
"""
