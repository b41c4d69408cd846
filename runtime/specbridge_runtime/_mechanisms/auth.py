"""Upstream auth: one `UpstreamAuth` per security requirement of an operation.

Each scheme type is a small class that adds its credentials to a request, reading its secrets at
call time (so a deleted or replaced secret takes effect on the next call). A requirement that names
several schemes applies them all (`AllOf`); alternatives use the first whose secrets are all
available (`FirstAvailable`). An operation's own `security` overrides the connector's.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.descriptors import AuthScheme, ConnectorSpec, Operation
from .._core.grammar import VAULT_PREFIX, control_problem, fallback_env_name, is_reference
from .._core.seams import UpstreamAuth
from .._core.stores import LockStore
from .oauth import LoginRequired, snake
from .secrets import CredentialError, CredentialFormatError, CredentialMissing, Secrets, hold

if TYPE_CHECKING:
    import httpx2

    from .oauth.client import OAuthClient

Requirement = tuple[str, ...]


class SchemeAuth(UpstreamAuth, Protocol):
    """An `UpstreamAuth` that can tell, before a call, whether its secrets are there."""

    def available(self) -> bool: ...

    def missing(self) -> str:
        """Why `available()` is False, in words that say what to store."""
        ...


class NoAuth:
    async def apply(self, request: httpx2.Request) -> None:
        return None

    async def refresh(self) -> bool:
        return False

    def available(self) -> bool:
        return True

    def missing(self) -> str:
        return ""


class _SecretScheme:
    """A scheme whose credentials are secret references in `AuthScheme.secrets`."""

    roles: tuple[str, ...] = ()

    def __init__(self, scheme: AuthScheme, secrets: Secrets) -> None:
        self.scheme = scheme
        self.secrets = secrets

    def _references(self) -> list[tuple[str, str]]:
        return [(role, self.scheme.secret(role) or "") for role in self.roles]

    def available(self) -> bool:
        return all(reference and self.secrets.lookup(reference) for _, reference in self._references())

    def missing(self) -> str:
        for role, reference in self._references():
            if not reference:
                return f"auth {self.scheme.name!r} ({self.scheme.type}) has no {role} configured"
            if self.secrets.lookup(reference) is None:
                return f"auth {self.scheme.name!r} needs its {role}: {self.secrets.missing_message(reference)}"
        return ""

    def value(self, role: str, *, prefix: str = "") -> str:
        """The secret for `role`, checked for what would make it fail or leak into other headers."""
        reference = self.scheme.secret(role)
        if not reference:
            raise CredentialMissing(f"auth {self.scheme.name!r} ({self.scheme.type}) has no {role} configured")
        try:
            value = self.secrets(reference)
        except CredentialMissing as error:
            raise CredentialMissing(f"auth {self.scheme.name!r} needs its {role}: {error}") from None
        problem = format_problem(value, prefix)
        if problem:
            raise CredentialFormatError(
                f"bad key format: the {role} of auth {self.scheme.name!r} {problem}; {self.secrets.fix_hint(reference)}"
            )
        return value

    async def refresh(self) -> bool:
        return False  # a static credential does not change by asking again


def format_problem(value: str, prefix: str = "") -> str | None:
    """What is wrong with the shape of a credential (never quoting it), or None."""
    control = control_problem(value)
    if control:
        return control
    if value != value.strip():
        return "has leading or trailing whitespace"
    if prefix.strip() and value.lower().startswith(prefix.lower()):
        return f"already starts with {prefix.strip()!r} (store the bare value; the prefix is added)"
    return None


class BearerAuth(_SecretScheme):
    roles = ("token",)

    async def apply(self, request: httpx2.Request) -> None:
        request.headers["Authorization"] = "Bearer " + self.value("token", prefix="Bearer ")


class ApiKeyAuth(_SecretScheme):
    """An API key in a header (`X-API-Key`, `Authorization: ApiKey …`), a query parameter or a cookie."""

    roles = ("key",)

    async def apply(self, request: httpx2.Request) -> None:
        key = self.scheme.prefix + self.value("key", prefix=self.scheme.prefix)
        name = self.scheme.param_name or "X-API-Key"
        if self.scheme.location == "query":
            request.url = request.url.copy_set_param(name, key)
        elif self.scheme.location == "cookie":
            add_cookie(request, name, key)
        else:
            request.headers[name] = key


def add_cookie(request: httpx2.Request, name: str, value: str) -> None:
    from http.cookies import SimpleCookie

    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    pair = cookie[name].OutputString()
    existing = request.headers.get("Cookie")
    request.headers["Cookie"] = f"{existing}; {pair}" if existing else pair


class BasicAuth(_SecretScheme):
    roles = ("username", "password")

    async def apply(self, request: httpx2.Request) -> None:
        username = self.value("username")
        if ":" in username:
            raise CredentialFormatError(
                f"bad key format: the username of auth {self.scheme.name!r} contains ':', which basic auth cannot send"
            )
        pair = f"{username}:{self.value('password')}"
        encoded = base64.b64encode(pair.encode()).decode("ascii")
        hold(pair, encoded)  # an upstream that echoes the header must not hand it back to the client
        request.headers["Authorization"] = "Basic " + encoded


class HeadersAuth(_SecretScheme):
    """Any custom headers: each secret's role is the header name."""

    def __init__(self, scheme: AuthScheme, secrets: Secrets) -> None:
        super().__init__(scheme, secrets)
        self.roles = tuple(role for role, _ in scheme.secrets)

    async def apply(self, request: httpx2.Request) -> None:
        for header in self.roles:
            request.headers[header] = self.value(header)


class OAuth2Auth:
    """A token from the scheme's flows (login, refresh, client credentials); while they have none, an access
    token the user obtained elsewhere and stored like a bearer token (`<scheme>_token`)."""

    def __init__(self, client: OAuthClient) -> None:
        self.client = client
        self.given = f"{VAULT_PREFIX}{snake(client.scheme.name)}_token"

    async def apply(self, request: httpx2.Request) -> None:
        try:
            token = await self.client.access_token()
        except LoginRequired:
            given = self.client.secrets.lookup(self.given)
            if given is None:
                raise
            token = given
        problem = format_problem(token)
        if problem:
            raise CredentialFormatError(f"bad key format: the access token of {self.client.scheme.name!r} {problem}")
        hold(token)
        request.headers["Authorization"] = "Bearer " + token

    async def refresh(self) -> bool:
        return await self.client.refresh_after_rejection()

    def available(self) -> bool:
        return self.client.available() or self.client.secrets.lookup(self.given) is not None

    def missing(self) -> str:
        connector, name = self.client.secrets.connector, self.given.removeprefix(VAULT_PREFIX)
        return (
            f"auth {self.client.scheme.name!r} (oauth2) has no token: sign in with `{connector}-mcp login`, "
            f"configure a client id and secret for client credentials, or store an access token you obtained "
            f"with `{connector}-mcp creds set {name}` (or {fallback_env_name(connector, name)})"
        )


class AllOf:
    """One security requirement naming several schemes: every one of them is applied."""

    def __init__(self, parts: Sequence[SchemeAuth]) -> None:
        self.parts = tuple(parts)

    async def apply(self, request: httpx2.Request) -> None:
        for part in self.parts:
            await part.apply(request)

    async def refresh(self) -> bool:
        refreshed = [await part.refresh() for part in self.parts]
        return any(refreshed)

    def available(self) -> bool:
        return all(part.available() for part in self.parts)

    def missing(self) -> str:
        return "; ".join(problem for part in self.parts if (problem := part.missing()))


class Unknown:
    """A requirement naming a scheme the connector does not define: never available."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def apply(self, request: httpx2.Request) -> None:
        raise CredentialError(self.missing())

    async def refresh(self) -> bool:
        return False

    def available(self) -> bool:
        return False

    def missing(self) -> str:
        return f"the security requirement names auth {self.name!r}, which this connector does not define"


class FirstAvailable:
    """Alternatives: the first requirement whose secrets are all there is used; the empty requirement
    (auth optional) only when no other one is."""

    def __init__(self, alternatives: Sequence[SchemeAuth], optional: bool) -> None:
        self.alternatives = tuple(alternatives)
        self.optional = optional

    def chosen(self) -> SchemeAuth:
        for alternative in self.alternatives:
            if alternative.available():
                return alternative
        if self.optional:
            return NoAuth()
        problems = " or ".join(alternative.missing() for alternative in self.alternatives)
        raise CredentialMissing(f"no credentials for this call: {problems}")

    async def apply(self, request: httpx2.Request) -> None:
        await self.chosen().apply(request)

    async def refresh(self) -> bool:
        return await self.chosen().refresh()

    def available(self) -> bool:
        return self.optional or any(alternative.available() for alternative in self.alternatives)

    def missing(self) -> str:
        return " or ".join(alternative.missing() for alternative in self.alternatives)


def scheme_auth(scheme: AuthScheme, secrets: Secrets, clock: Clock = SYSTEM_CLOCK,
                locks: LockStore | None = None, renewed: Callable[[str], None] | None = None) -> SchemeAuth:
    if scheme.type == "bearer":
        return BearerAuth(scheme, secrets)
    if scheme.type == "api_key":
        return ApiKeyAuth(scheme, secrets)
    if scheme.type == "basic":
        return BasicAuth(scheme, secrets)
    if scheme.type == "headers":
        return HeadersAuth(scheme, secrets)
    if scheme.type == "oauth2":
        from .oauth.client import OAuthClient  # the first call of an OAuth scheme loads the OAuth client

        return OAuth2Auth(OAuthClient(scheme, secrets, clock=clock, locks=locks, renewed=renewed))
    return NoAuth()


def effective_security(spec: ConnectorSpec, operation: Operation) -> tuple[Requirement, ...]:
    """The operation's requirements, else the connector's. A connector with auth schemes but no
    requirement at all uses whichever scheme has its secrets, and sends the call without auth if none has."""
    if operation.security is not None:
        return operation.security
    if spec.security:
        return spec.security
    return (*((scheme.name,) for scheme in spec.auth), ())


class AuthFactory:
    """`UpstreamAuth` per operation, one shared instance per distinct requirement list (so all calls
    through one OAuth scheme share its token and its single-flight refresh). The connector's static
    headers whose values are secret references are added to every request."""

    def __init__(self, spec: ConnectorSpec, secrets: Secrets, clock: Clock = SYSTEM_CLOCK,
                 locks: LockStore | None = None, renewed: Callable[[str], None] | None = None) -> None:
        self.spec = spec
        self.secrets = secrets
        self.clock = clock
        self.locks = locks
        self.renewed = renewed
        self._schemes: dict[str, SchemeAuth] = {}
        self._by_security: dict[tuple[Requirement, ...], SchemeAuth] = {}
        self._defined: Mapping[str, AuthScheme] = {scheme.name: scheme for scheme in spec.auth}
        secret_headers = tuple((name, value) for name, value in spec.headers if is_reference(value))
        self._headers = (
            HeadersAuth(AuthScheme(name="headers", type="headers", secrets=secret_headers), secrets)
            if secret_headers
            else None
        )

    def scheme(self, name: str) -> SchemeAuth:
        if name not in self._schemes:
            defined = self._defined.get(name)
            self._schemes[name] = (
                scheme_auth(defined, self.secrets, self.clock, self.locks, self.renewed) if defined is not None
                else Unknown(name)
            )
        return self._schemes[name]

    def requirement(self, names: Requirement) -> SchemeAuth:
        parts = [self.scheme(name) for name in names]
        return parts[0] if len(parts) == 1 else AllOf(parts)

    def for_security(self, security: tuple[Requirement, ...]) -> SchemeAuth:
        if security not in self._by_security:
            alternatives = [self.requirement(names) for names in security if names]
            optional = any(not names for names in security)
            if not alternatives:
                chosen: SchemeAuth = NoAuth()
            elif len(alternatives) == 1 and not optional:
                chosen = alternatives[0]
            else:
                chosen = FirstAvailable(alternatives, optional)
            self._by_security[security] = chosen if self._headers is None else AllOf([self._headers, chosen])
        return self._by_security[security]

    def __call__(self, operation: Operation) -> UpstreamAuth:
        return self.for_security(effective_security(self.spec, operation))


def build_auth_factory(
    spec: ConnectorSpec, *, secrets: Secrets | None = None, environ: Mapping[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK, locks: LockStore | None = None, renewed: Callable[[str], None] | None = None,
) -> Callable[[Operation], UpstreamAuth]:
    """The runtime's upstream auth for a connector: what `RestProvider` calls per operation; OAuth token
    lifetimes are read on `clock`, with `locks` one replica at a time refreshes a token, and `renewed` is told
    of each token fetched unattended."""
    secrets = secrets if secrets is not None else Secrets(spec.name, environ=environ)
    return AuthFactory(spec, secrets, clock, locks, renewed)
