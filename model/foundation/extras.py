"""The optional dependencies: which extra of the package brings which module.

The default install carries what a consultation needs. The web page, Dask and Parquet,
the benchmark's peers and the test tools are extras; a command that needs a missing one
says which to install instead of failing on an import.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import CalcinosisError

EXTRAS = {  # module -> the extra that installs it
    "fastapi": "web", "uvicorn": "web",
    "dask": "scale", "dask.distributed": "scale", "pyarrow": "scale",
    "pyagrum": "bench",
}


class MissingExtraError(CalcinosisError):
    """A command needs a module of an extra that is not installed."""


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS[module]
        raise MissingExtraError(
            f"{purpose} needs {module}, which comes with the '{extra}' extra: "
            f"pip install 'calcinosis[{extra}]' (or 'calcinosis[all]').") from None
