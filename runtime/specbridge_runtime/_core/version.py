"""The runtime's version, and the check a generated package runs at import."""

from __future__ import annotations

import re

from .errors import RuntimeVersionError

__version__ = "0.1.0"

_RELEASE = re.compile(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def _release(version: str) -> tuple[int, int, int]:
    """The numeric release of a version string ("1.2.3", "1.2", "1.2.3rc1" -> (1, 2, 3))."""
    match = _RELEASE.match(version)
    if match is None:
        raise ValueError(f"not a version: {version!r}")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return major, minor, patch


def require_runtime(minimum: str, *, package: str, installed: str = __version__) -> None:
    """Refuse to run `package` (generated for runtime `minimum`) on a runtime of another major version or
    an older one, saying which side to upgrade."""
    wanted, have = _release(minimum), _release(installed)
    if have[0] > wanted[0]:
        raise RuntimeVersionError(
            f"{package} was generated for specbridge-runtime {minimum}, but {installed} (a newer major version) is "
            f"installed: regenerate the package with a current specbridge, or install "
            f"'specbridge-runtime>={minimum},<{wanted[0] + 1}'"
        )
    if have < wanted:
        raise RuntimeVersionError(
            f"{package} needs specbridge-runtime {minimum} or newer (same major version), but {installed} is "
            f"installed: run `pip install -U specbridge-runtime`"
        )
