"""Where the jinja2 templates of emitted packages are: inside the installed wheel (`specbridge/templates`), or
in the repository's `templates/` when running from a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def templates_dir() -> Path:
    installed = Path(str(resources.files("specbridge") / "templates"))
    if installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parent.parent.parent / "templates"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the specbridge templates are neither at {installed} nor at {checkout}")
