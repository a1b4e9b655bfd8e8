"""Interfaces: how people reach the analyses.

The command line (``cli`` and its sub-command modules), the web page (``web``), reports
(``report``, ``modelcard``, ``evaluation_report``), the terminal tables (``console``),
figures (``plots``) and the benchmark (``bench``). Nothing below imports from here.
"""
