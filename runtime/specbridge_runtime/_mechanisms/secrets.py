"""Secret references, resolved when a call needs them (never cached, so revocation is immediate).

- `env:NAME`: the environment variable NAME (container deployments).
- `vault:NAME`: the vault entry NAME of this connector; else the environment variable
  `<CONNECTOR>__<NAME>` (upper case, other characters `_`; in a gateway `<GATEWAY>__<CONNECTOR>__<NAME>`);
  else, deprecated, `<CONNECTOR>_<NAME>` when no other connector known to the process could mean it.
- `enc:v1:<key id>:<name>:<base64url>`: a value sealed by `specbridge encrypt`, safe to commit; it opens
  only with the master key, for the connector and name it was sealed for.
- `literal:TEXT`: TEXT as written (third-party text that looks like a reference).
Any other value is a plain, non-secret value (a client id, a header that is not a credential).

`env:` never reads the process's own secrets (`SPECBRIDGE_*`, a gateway's inbound token variables), and a
secret with a control character is refused, never sent. Every value resolved is remembered (`held`) so
that error excerpts from upstream servers can be cleaned of it wherever it is echoed.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Collection, Mapping

from .._core.errors import NotAuthenticated
from .._core.grammar import (
    ENC_PREFIX,
    ENV_PREFIX,
    LITERAL_PREFIX,
    NAME_PATTERN,
    VAULT_PREFIX,
    control_problem,
    creds_command,
    fallback_env_name,
    legacy_ambiguous,
    legacy_env_name,
    reserved_variable,
)
from .vault import MasterKeyError, SecretUnreadable, Vault, VaultError, seal, unseal
from .vault_rows import Sealed

logger = logging.getLogger(__name__)

_ENC_VERSION = "v1"
CONNECTORS_ENTRY_POINTS = "specbridge.connectors"
# Values shorter than this are not searched for in upstream text: "ab" would blank half of every message.
MIN_HELD_CHARS = 4
_MAX_HELD = 512
_held: dict[str, None] = {}  # insertion-ordered set of the secret values this process has resolved


def hold(*values: str | None) -> None:
    """Remember secret values this process sends, so `held()` can clean them from what upstreams echo."""
    for value in values:
        if value and len(value) >= MIN_HELD_CHARS:
            _held.pop(value, None)
            _held[value] = None
            while len(_held) > _MAX_HELD:
                del _held[next(iter(_held))]


def held() -> tuple[str, ...]:
    """The secret values resolved so far (most recent last)."""
    return tuple(_held)


class CredentialError(NotAuthenticated):
    """A credential is missing, malformed, unreadable or refused: the call fails with this message (what
    to do, never the value)."""


class CredentialMissing(CredentialError):
    """A secret reference resolves to nothing."""


class CredentialFormatError(CredentialError):
    """A stored credential cannot be right as it is (a line break, a doubled prefix)."""


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every given secret value replaced, for messages built from what a server said."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise CredentialError(f"{name!r} is not a secret name: use 1-128 letters, digits, '_', '.' or '-'")
    return name


def seal_reference(vault: Vault, connector: str, name: str, value: str) -> str:
    """An `enc:` value for a definition file, bound to `connector` and `name`."""
    sealed = seal(vault.sealing_key(), connector, check_name(name), value)
    blob = base64.urlsafe_b64encode(sealed.nonce + sealed.ciphertext).decode("ascii").rstrip("=")
    return f"{ENC_PREFIX}{_ENC_VERSION}:{sealed.key_id}:{name}:{blob}"


def open_reference(vault: Vault, connector: str, reference: str) -> str:
    version, _, rest = reference.removeprefix(ENC_PREFIX).partition(":")
    kid, _, rest = rest.partition(":")
    name, _, blob = rest.partition(":")
    try:
        raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if version != _ENC_VERSION or not NAME_PATTERN.fullmatch(name) or len(raw) <= 12:
        raise CredentialError(
            f"an enc: value of connector {connector!r} is malformed (truncated or edited); "
            f"seal the secret again with `specbridge encrypt --connector {connector} --name NAME`"
        )
    again = f"seal it again with `specbridge encrypt --connector {connector} --name {name}`"
    try:
        key = vault.key_for(kid)
    except MasterKeyError:
        raise MasterKeyError(
            f"the enc: value {name!r} of connector {connector!r} was sealed with master key {kid}, which is not the "
            f"master key in use ({vault.keyring.source}): set that key, or {again}"
        ) from None
    try:
        return unseal(key, connector, name, Sealed(kid, raw[:12], raw[12:]))
    except SecretUnreadable:
        raise SecretUnreadable(
            f"the enc: value {name!r} failed its integrity check for connector {connector!r}: it was altered, or "
            f"sealed for another connector or name; {again}"
        ) from None


class Secrets:
    """Resolves the secret references of one connector, afresh at every call.

    `reserved`: further environment variables that are the process's own (a gateway's inbound tokens).
    `neighbours`: the other connectors of the process (a gateway's), whose names decide whether a legacy
    variable name is ambiguous; None: the connector packages installed beside this one."""

    def __init__(self, connector: str, vault: Vault | None = None, environ: Mapping[str, str] | None = None, *,
                 reserved: Collection[str] = (), neighbours: Collection[str] | None = None) -> None:
        self.connector = connector
        self._environ = os.environ if environ is None else environ
        self._vault = vault
        self._reserved = frozenset(reserved)
        self._neighbours = None if neighbours is None else frozenset(neighbours)
        self._warned: set[str] = set()

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = Vault(environ=self._environ)
        return self._vault

    def lookup(self, reference: str) -> str | None:
        """The value, or None when the reference resolves to nothing. A vault problem fails the call."""
        if reference.startswith(LITERAL_PREFIX):
            return reference.removeprefix(LITERAL_PREFIX)
        if not reference.startswith((ENV_PREFIX, VAULT_PREFIX, ENC_PREFIX)):
            return reference
        try:
            value = self._lookup(reference)
        except VaultError as error:
            raise CredentialError(str(error)) from None
        if value is not None:
            problem = control_problem(value)
            if problem:
                raise CredentialFormatError(f"bad key format: the secret {self.describe(reference)} of connector "
                                            f"{self.connector!r} {problem}, so it is not sent; "
                                            f"{self.fix_hint(reference)}")
            hold(value)
        return value

    def _lookup(self, reference: str) -> str | None:
        if reference.startswith(ENV_PREFIX):
            return self._env(reference.removeprefix(ENV_PREFIX))
        if reference.startswith(VAULT_PREFIX):
            name = reference.removeprefix(VAULT_PREFIX)
            stored = self.vault.get(self.connector, name)
            if stored is not None:
                return stored
            return self._env(fallback_env_name(self.connector, name)) or self._legacy(name)
        return open_reference(self.vault, self.connector, reference)

    def _env(self, variable: str) -> str | None:
        if reserved_variable(variable) or variable in self._reserved:
            raise CredentialError(
                f"connector {self.connector!r} refers to the environment variable {variable}, which holds this "
                "process's own secret or setting; a definition cannot send it anywhere (use another variable)")
        return self._environ.get(variable) or None

    def _legacy(self, name: str) -> str | None:
        """The pre-separator variable, when set and no other connector of the process could mean it."""
        variable = legacy_env_name(self.connector, name)
        if variable == fallback_env_name(self.connector, name) or not self._environ.get(variable):
            return None
        if reserved_variable(variable) or variable in self._reserved:
            return None
        other = legacy_ambiguous(self.connector, name, self.neighbours())
        if other is not None:
            if variable not in self._warned:
                self._warned.add(variable)
                logger.warning("%s is not read for connector %s: connector %s could mean it too; set %s instead",
                               variable, self.connector, other, fallback_env_name(self.connector, name))
            return None
        if variable not in self._warned:
            self._warned.add(variable)
            logger.warning("%s is deprecated (connector %s): rename it to %s", variable, self.connector,
                           fallback_env_name(self.connector, name))
        return self._environ.get(variable)

    def neighbours(self) -> frozenset[str]:
        if self._neighbours is None:
            from importlib.metadata import entry_points  # its scan of the installed packages, only when asked

            self._neighbours = frozenset(point.name for point in entry_points(group=CONNECTORS_ENTRY_POINTS))
        return self._neighbours

    @staticmethod
    def describe(reference: str) -> str:
        """How a reference is named in messages (never an `enc:` blob)."""
        if reference.startswith(ENC_PREFIX):
            return "(an enc: value)"
        return reference

    def __call__(self, reference: str) -> str:
        value = self.lookup(reference)
        if value is None:
            raise CredentialMissing(self.missing_message(reference))
        return value

    def missing_message(self, reference: str) -> str:
        if reference.startswith(ENV_PREFIX):
            return f"the environment variable {reference.removeprefix(ENV_PREFIX)} is not set"
        name = reference.removeprefix(VAULT_PREFIX)
        return (
            f"no secret {name!r}: store it with `{creds_command(self.connector, f'set {name}')}` "
            f"or set the environment variable {fallback_env_name(self.connector, name)}"
        )

    def fix_hint(self, reference: str) -> str:
        """How to replace the value behind `reference`."""
        if reference.startswith(ENV_PREFIX):
            return f"correct the environment variable {reference.removeprefix(ENV_PREFIX)}"
        if reference.startswith(ENC_PREFIX):
            return f"seal it again with `specbridge encrypt --connector {self.connector} --name NAME`"
        name = reference.removeprefix(VAULT_PREFIX)
        return f"store it again with `{creds_command(self.connector, f'set {name}')}`"

    def store(self, name: str, value: str) -> None:
        self.vault.set(self.connector, check_name(name), value)

    def load(self, name: str) -> str | None:
        """The vault entry `name` of this connector (no environment fallback); a vault problem fails the call."""
        try:
            return self.vault.get(self.connector, name)
        except VaultError as error:
            raise CredentialError(str(error)) from None

    def forget(self, name: str) -> bool:
        return self.vault.delete(self.connector, name)
