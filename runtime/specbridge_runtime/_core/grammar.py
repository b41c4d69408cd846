"""The small languages a connector definition and a deployment share, and the generator writes: rates
("10/s"), secret references (`env:`, `vault:`, `enc:`) and literals (`literal:`), secret names, and the
names of a connector's environment variables. One grammar, so what `specbridge gen` accepts is what the
runtime enforces.

Only the user's own definition may name a secret reference. Text from a third party (a server.json, an
OpenAPI document) that merely looks like one is carried as `literal:<text>` and sent as written.

The process's own secrets (`SPECBRIDGE_*`: master key, inbound tokens, the resource server's client secret,
database URLs) are never the target of a reference: `reserved_variable` says which names those are.

A secret `vault:NAME` of connector `c` falls back to the environment variable `C__NAME` (a double
underscore between the connector's namespace parts and the name; no part may contain one), so two
connectors never read the same variable. The older `C_NAME` is still read, with a warning, where no
other connector could mean the same variable (`legacy_env_name`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .descriptors import ConnectorSpec

ENV_PREFIX = "env:"
VAULT_PREFIX = "vault:"
ENC_PREFIX = "enc:"
LITERAL_PREFIX = "literal:"
# Environment variables only the process itself reads (never a definition): its master key, its inbound
# tokens, its resource-server client secret and its store URLs all start with this.
RESERVED_ENV_PREFIX = "SPECBRIDGE_"
SEPARATOR = "__"
_NOT_ENV = re.compile(r"[^A-Z0-9]+")
# Any C0 or C1 control character (tab, line breaks, NUL, escape, DEL ...) and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def env_prefix(connector: str) -> str:
    """The prefix of a connector's environment variables: its name in upper case, other characters as "_"."""
    return re.sub(r"[^A-Z0-9]", "_", connector.upper())


def base_url_variable(connector: ConnectorSpec) -> str:
    return f"{env_prefix(connector.name)}_BASE_URL"


def is_reference(value: str) -> bool:
    return value.startswith((ENV_PREFIX, VAULT_PREFIX, ENC_PREFIX))


def literal(text: str) -> str:
    """`text` as a descriptor value that is never read as a reference: itself when it cannot be taken for
    one, else `literal:<text>`. Every value from a third party goes through this."""
    return LITERAL_PREFIX + text if is_reference(text) or text.startswith(LITERAL_PREFIX) else text


def control_problem(value: str) -> str | None:
    """Why `value` cannot be a secret (it holds a control character, named by its code), or None."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group(0)
    name = "a line break" if char in "\r\n\u2028\u2029" else "a tab" if char == "\t" else "a control character"
    return f"contains {name} (U+{ord(char):04X})"


def reserved_variable(name: str) -> bool:
    """Whether the environment variable `name` holds one of the process's own secrets or settings, which
    no definition may name (`env:`). A connector's own variables (`<CONNECTOR>__<NAME>`) are not: the
    process's own never contain the separator."""
    return name.upper().startswith(RESERVED_ENV_PREFIX) and SEPARATOR not in name


def _env_part(text: str) -> str:
    """One part of a variable name: upper case, every run of other characters one "_", none at the ends,
    so a part never contains the separator."""
    return _NOT_ENV.sub("_", text.upper()).strip("_")


def fallback_env_name(connector: str, name: str) -> str:
    """The variable a `vault:NAME` secret of `connector` falls back to: `TEAM__SHOP__TOKEN` for the secret
    `token` of connector `shop` in gateway `team` (namespace `team.shop`), `SHOP__TOKEN` standalone."""
    return SEPARATOR.join(_env_part(part) for part in (*connector.split("."), name))


def legacy_env_name(connector: str, name: str) -> str:
    """The variable read before the separator was introduced: `TEAM_SHOP_TOKEN` (ambiguous across connectors)."""
    return env_prefix(f"{connector}_{name}")


def legacy_ambiguous(connector: str, name: str, neighbours: frozenset[str]) -> str | None:
    """A namespace among `neighbours` (other connectors known to the process) whose own legacy names could
    be the legacy name of `name` in `connector`, or None."""
    legacy = legacy_env_name(connector, name)
    own = env_prefix(connector)
    for other in sorted(neighbours - {connector}):
        prefix = env_prefix(other)
        if prefix == own or legacy.startswith(prefix + "_"):
            return other
    return None


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


def creds_command(namespace: str, arguments: str) -> str:
    """The command that manages the secrets of `namespace`: a connector's own (`NAME-mcp creds ...`), or one
    connector's in a gateway (`gateway.connector`, set through the gateway's command with `--connector`)."""
    gateway, _, member = namespace.partition(".")
    if member:
        return f"specbridge-gateway <{gateway} gateway file> creds {arguments} --connector {member}"
    return f"{namespace}-mcp creds {arguments}"
