"""Where the bundled data lives: the priors, the case files and the web page's files.

In a source checkout the data sits beside the package (``priors/``, ``evidence_examples/``);
in an installed wheel it is package data under ``calcinosis/_data/``, read through
:mod:`importlib.resources`. ``CALCINOSIS_PRIORS`` and explicit paths still override.
Every other module asks here, so the two layouts never need to be told apart again.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ..errors import PriorsError

PRIORS_VARIABLE = "CALCINOSIS_PRIORS"
_CHECKOUT = Path(__file__).resolve().parents[2]


def bundled(name: str) -> Path:
    """The bundled folder ``name`` ('priors' or 'evidence_examples')."""
    if (_CHECKOUT / "pyproject.toml").is_file():  # a source checkout (or an editable install)
        return _CHECKOUT / name
    return Path(str(resources.files("calcinosis") / "_data" / name))


def priors_dir() -> Path:
    """The folder holding the priors; ``CALCINOSIS_PRIORS`` overrides the bundled one.

    Raises
    ------
    PriorsError
        When the variable names a folder that does not exist or holds no ``vocabulary.yaml``.
    """
    override = os.environ.get(PRIORS_VARIABLE)
    if not override:
        return bundled("priors")
    folder = Path(override)
    if not (folder / "vocabulary.yaml").is_file():
        problem = "does not exist" if not folder.exists() else "holds no vocabulary.yaml"
        raise PriorsError(
            f"{PRIORS_VARIABLE}={override}: the folder {problem}. The variable names a folder of priors "
            f"laid out like the bundled one ({bundled('priors')}); unset it to use the bundled priors.")
    return folder


def cases_dir() -> Path:
    """The bundled case files, ``evidence_examples/``."""
    return bundled("evidence_examples")


def corpus_dir() -> Path:
    """The bundled corpus of published patients, ``evidence_examples/published/``."""
    return cases_dir() / "published"
