"""The local web page: consultation, teaching and what-if views (``calcinosis serve``).

``service`` computes (plain data, no HTTP), ``app`` serves it with FastAPI and the page of
``static/`` (plain HTML, CSS and JavaScript bundled in the package: nothing is fetched from
the internet), ``server`` runs it on a local port, ``screenshots`` saves a picture of each
view. Importing this package does not import FastAPI: the command line stays fast.
"""
