"""How many inputs the robustness and fuzz tests tried, by kind; conftest prints the totals."""

from collections import Counter

TRIED: Counter = Counter()
