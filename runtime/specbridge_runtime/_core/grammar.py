"""The small languages a connector definition and a deployment share, and the generator writes: rates
("10/s"), secret references (`env:`, `vault:`, `enc:`), secret names, and the names of a connector's
environment variables. One grammar, so what `specbridge gen` accepts is what the runtime enforces."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .descriptors import ConnectorSpec

ENV_PREFIX = "env:"
VAULT_PREFIX = "vault:"
ENC_PREFIX = "enc:"
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def env_prefix(connector: str) -> str:
    """The prefix of a connector's environment variables: its name in upper case, other characters as "_"."""
    return re.sub(r"[^A-Z0-9]", "_", connector.upper())


def base_url_variable(connector: ConnectorSpec) -> str:
    return f"{env_prefix(connector.name)}_BASE_URL"


def is_reference(value: str) -> bool:
    return value.startswith((ENV_PREFIX, VAULT_PREFIX, ENC_PREFIX))


def fallback_env_name(connector: str, name: str) -> str:
    return env_prefix(f"{connector}_{name}")


# The units the definition format accepts (generator/specbridge/definition.py), for the environment too.
_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hr": 3600.0,
            "hour": 3600.0, "d": 86400.0, "day": 86400.0}
_UNITS = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "d"}
_RATE_TEXT = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `calls` calls per `period_s` seconds, as written in `text` (e.g. "100/min")."""

    calls: int
    period_s: float
    text: str

    @property
    def interval_s(self) -> float:
        return self.period_s / self.calls

    @property
    def canonical(self) -> str:
        """The rate in the form definitions and generated code use: "10/s", "100/min", "5/h", "1/d"."""
        return f"{self.calls}/{_UNITS[self.period_s]}"


def parse_rate(text: str) -> Rate | None:
    """"N/s", "N/min", "N/h" or "N/d" (or sec, second, m, minute, hr, hour, day) as a `Rate`; None when `text`
    is not one."""
    match = _RATE_TEXT.match(text)
    if match is None or int(match.group(1)) < 1:
        return None
    period = _PERIODS.get(match.group(2).lower())
    return None if period is None else Rate(int(match.group(1)), period, text.strip())
