"""What every JSON output and report carries, and how JSON is written.

Every ``--json`` payload and every generated report names the package version, the
sha256 of the priors files and the scenario, so that a number can be traced to the
model that produced it. JSON is written with sorted-free but fixed key order, no NaN
(a missing number is ``null``) and a trailing newline, so that the same inputs and seed
give byte-identical output.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from .. import __version__


def provenance(priors, scenario: str | None) -> dict[str, Any]:
    """The three fields that identify the model behind an output."""
    return {"version": __version__, "priors_sha256": priors.checksum, "scenario": scenario}


def stamped(payload: dict, priors, scenario: str | None) -> dict:
    """``payload`` with version, priors checksum and scenario (existing keys are kept)."""
    out = dict(payload)
    for key, value in provenance(priors, scenario).items():
        out.setdefault(key, value)
    return out


def clean(value: Any) -> Any:
    """Replace NaN and infinities by None, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return clean(value.item())
    return value


def dump(payload: dict, stream=None) -> None:
    """Write one JSON object (indented, no NaN) and a newline."""
    stream = stream or sys.stdout
    json.dump(clean(payload), stream, indent=2, allow_nan=False, default=str)
    stream.write("\n")
