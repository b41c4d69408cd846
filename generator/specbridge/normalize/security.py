"""Auth schemes and security requirements: the spec's `securitySchemes` / `securityDefinitions`,
overridden or extended by the definition's `auth`.

Spec schemes get secret references `vault:<scheme>_<role>`; the runtime reads them from the vault, with
the environment variable `<CONNECTOR>__<SCHEME>_<ROLE>` as fallback. A definition's auth entry replaces
the spec scheme of the same `name` (or, unnamed, the only spec scheme of its kind); other entries are
added and apply together with every requirement. At most five schemes per connector.

A definition's auth holds: an operation whose spec requires nothing (`security: []`), or only schemes that
do not exist or are not supported, sends the definition's auth all the same, unless the definition's
operation entry says otherwise (`"auth": "spec"`, `"none"` or a list of auth names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from specbridge_runtime.contract import AuthScheme, OAuthFlow

from specbridge import codes
from specbridge.definition import ApiKeyAuth, AuthConfig, NoAuth, OAuth2Auth, OperationAuth
from specbridge.diagnostics import Level, pointer
from specbridge.naming import snake_case
from specbridge.normalize.document import SpecDocument
from specbridge.normalize.report import Reporter

MAX_SCHEMES = 5
Requirements = tuple[tuple[str, ...], ...]
_GRANTS = {"clientCredentials": "client_credentials", "application": "client_credentials",
           "authorizationCode": "authorization_code", "accessCode": "authorization_code"}
_SKIPPED_GRANTS = ("implicit", "password")


@dataclass(frozen=True, slots=True)
class AuthSetup:
    schemes: tuple[AuthScheme, ...]
    security: Requirements  # the connector's default requirement
    extra: tuple[str, ...] = ()  # added by the definition: apply with every requirement
    unsupported: frozenset[str] = frozenset()  # spec schemes left out (their requirements are dropped)
    disabled: bool = False  # the definition says `none`: no auth anywhere
    from_definition: bool = False
    # What an operation sends when its spec requirement would send nothing: the definition's schemes (each
    # one replacing a spec scheme is an alternative, together with the added ones). Empty without a definition.
    definition_default: Requirements = ()
    # OAuth2 schemes whose flows the runtime cannot run, sent as bearer tokens the user obtains (for the README).
    token_schemes: frozenset[str] = frozenset()


def auth_setup(document: SpecDocument, configured: Sequence[AuthConfig], report: Reporter) -> AuthSetup:
    spec_schemes, unsupported, oauth2_tokens = _spec_schemes(document, report)
    if any(isinstance(config, NoAuth) for config in configured):
        if len(configured) > 1:
            report.add(Level.WARNING, codes.AUTH, "auth `none` is combined with other methods; none wins", "#/auth")
        return AuthSetup((), (), disabled=True, from_definition=True)
    schemes = dict(spec_schemes)
    extra: list[str] = []
    overridden: set[str] = set()
    for config in configured:
        target = _overridden(config, schemes, overridden)
        if target is not None:
            overridden.add(target)
            schemes[target] = _from_config(config, target, schemes[target])
        else:
            name = _unique(config.name or config.type, schemes)
            schemes[name] = _from_config(config, name, None)
            extra.append(name)
    global_security = _requirements(document.data.get("security"), schemes, unsupported, "#/security", report)
    if global_security is None:
        global_security = ()
        if spec_schemes and not _any_requirement(document):
            report.add(Level.INFO, codes.AUTH, "the spec declares auth schemes but requires none; any one of "
                       f"{', '.join(spec_schemes)} is used", "#/security")
            global_security = tuple((name,) for name in spec_schemes)
    replaced = [name for name in schemes if name in overridden]
    default = tuple((name, *extra) for name in replaced) or ((tuple(extra),) if extra else ())
    tokens = frozenset(name for name in spec_schemes if name in oauth2_tokens and name not in overridden)
    setup = AuthSetup(tuple(schemes.values()), global_security, tuple(extra), frozenset(unsupported),
                      from_definition=bool(configured), definition_default=default, token_schemes=tokens)
    return replace(setup, security=holding(with_extra(global_security, setup), setup))


def operation_security(raw: Any, setup: AuthSetup, where: str, report: Reporter,
                       override: OperationAuth = None) -> Requirements | None:
    """An operation's own requirement (None: the connector's default). `override` is what the definition's
    operation entry says: "spec" (the spec's requirement as it is), "none", or auth names applied together."""
    if setup.disabled:
        return None
    if override == "none":
        return ()
    if isinstance(override, tuple):
        return _named(override, setup, where, report)
    if raw is None:
        return None
    found = _requirements(raw, {scheme.name: scheme for scheme in setup.schemes}, setup.unsupported, where, report)
    if found is None:
        return None
    found = with_extra(found, setup)
    held = found if override == "spec" else holding(found, setup)
    if held != found:
        report.repeated(Level.INFO, codes.AUTH, "the spec requires no credentials here (or only schemes it does not "
                        "define); the definition's auth is sent all the same (an operation entry with "
                        '`"auth": "spec"` follows the spec instead)', where)
    return held


def holding(requirements: Requirements, setup: AuthSetup) -> Requirements:
    """`requirements`, or the definition's auth where they would send no credentials at all."""
    if any(requirements) or not setup.definition_default:
        return requirements
    return setup.definition_default


def _named(names: tuple[str, ...], setup: AuthSetup, where: str, report: Reporter) -> Requirements | None:
    known = {scheme.name for scheme in setup.schemes}
    unknown = [name for name in names if name not in known]
    if unknown:
        report.add(Level.ERROR, codes.DEFINITION_MISMATCH, f"`auth` names {', '.join(map(repr, unknown))}, which "
                   f"the connector does not define (it has {', '.join(sorted(known)) or 'no auth'})", where)
        return None
    return (names,)


def with_extra(requirements: Requirements, setup: AuthSetup) -> Requirements:
    if not setup.extra:
        return requirements
    return tuple((*alternative, *setup.extra) if alternative else () for alternative in requirements)


def limit_schemes(setup: AuthSetup, used: set[str], report: Reporter) -> tuple[tuple[AuthScheme, ...], set[str]]:
    """The schemes a connector keeps (those its tools use) and the names it had to drop (over the limit)."""
    kept = [scheme for scheme in setup.schemes if scheme.name in used]
    if len(kept) <= MAX_SCHEMES:
        return tuple(kept), set()
    names = ", ".join(scheme.name for scheme in kept)
    if setup.from_definition:
        report.add(Level.ERROR, codes.AUTH, f"a connector has at most {MAX_SCHEMES} auth methods; this one would "
                   f"have {len(kept)} ({names}): remove some from `auth` or the spec", "#/auth")
        return tuple(kept), set()
    dropped = {scheme.name for scheme in kept[MAX_SCHEMES:]}
    report.add(Level.WARNING, codes.AUTH, f"a connector has at most {MAX_SCHEMES} auth methods; the spec uses "
               f"{len(kept)} ({names}), so {', '.join(sorted(dropped))} are left out and operations that need only "
               "them are called without auth", "#/components/securitySchemes")
    return tuple(kept[:MAX_SCHEMES]), dropped


def drop_schemes(requirements: Requirements | None, dropped: set[str]) -> Requirements | None:
    if requirements is None or not dropped:
        return requirements
    return tuple(alt for alt in requirements if not dropped.intersection(alt))


def _any_requirement(document: SpecDocument) -> bool:
    if document.data.get("security") is not None:
        return True
    paths = document.data.get("paths")
    if not isinstance(paths, Mapping):
        return False
    return any(isinstance(operation, Mapping) and operation.get("security") is not None
               for item in paths.values() if isinstance(item, Mapping) for operation in item.values())


def _requirements(raw: Any, known: Mapping[str, AuthScheme], unsupported: frozenset[str] | set[str], where: str,
                  report: Reporter) -> Requirements | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        report.add(Level.WARNING, codes.AUTH, "`security` is not a list; ignored", where)
        return None
    alternatives: list[tuple[str, ...]] = []
    for requirement in raw:
        if not isinstance(requirement, Mapping):
            continue
        names = tuple(str(name) for name in requirement)
        missing = [name for name in names if name not in known and name not in unsupported]
        if missing:
            report.repeated(Level.WARNING, codes.AUTH, f"security requirement names undeclared scheme(s) "
                            f"{', '.join(missing)}; that alternative is ignored", where)
            continue
        if any(name in unsupported for name in names):
            continue
        names = _one_token(names, known, where, report)
        if names not in alternatives:
            alternatives.append(names)
    if raw and not alternatives:
        report.repeated(Level.WARNING, codes.AUTH, "none of the required auth schemes is supported; calls are "
                        "sent without auth", where)
    # An empty alternative means "anonymous is fine": keep it, last, so credentials are used when present.
    return tuple(sorted(alternatives, key=lambda alternative: not alternative))


def _one_token(names: tuple[str, ...], known: Mapping[str, AuthScheme], where: str, report: Reporter
               ) -> tuple[str, ...]:
    """A requirement naming several OAuth2 (or bearer) schemes together: one `Authorization: Bearer` header
    carries one token, so the first of them is used (a token granted for it must cover the others)."""
    bearers = [name for name in names if known[name].type in ("oauth2", "bearer")]
    if len(bearers) < 2:
        return names
    report.repeated(Level.INFO, codes.AUTH, f"the requirement names the token schemes {', '.join(bearers)} together; "
                    f"one Authorization header carries one token, so {bearers[0]!r}'s is sent", where)
    return tuple(name for name in names if name not in bearers[1:])


def _spec_schemes(document: SpecDocument, report: Reporter) -> tuple[dict[str, AuthScheme], set[str], set[str]]:
    """The spec's schemes by name, the names of those left out, and of the OAuth2 ones sent as bearer tokens."""
    base: tuple[str, ...]
    if document.swagger:
        raw, base = document.data.get("securityDefinitions"), ("securityDefinitions",)
    else:
        components = document.data.get("components")
        raw = components.get("securitySchemes") if isinstance(components, Mapping) else None
        base = ("components", "securitySchemes")
    schemes: dict[str, AuthScheme] = {}
    unsupported: set[str] = set()
    tokens: set[str] = set()
    if not isinstance(raw, Mapping):
        return schemes, unsupported, tokens
    for name, entry in raw.items():
        name = str(name)
        where = pointer(*base, name)
        entry, _ = document.deref(entry, where)
        scheme, problem = _spec_scheme(name, entry) if isinstance(entry, Mapping) else (None, "not an object")
        if problem:
            report.add(Level.WARNING, codes.AUTH, f"auth scheme {name!r}: {problem}", where)
        if scheme is None:
            unsupported.add(name)
        else:
            schemes[name] = scheme
            if scheme.type == "bearer" and entry.get("type") == "oauth2":
                tokens.add(name)
    return schemes, unsupported, tokens


def _spec_scheme(name: str, entry: Mapping[str, Any]) -> tuple[AuthScheme | None, str]:
    kind = entry.get("type")
    scheme_name = str(entry.get("scheme", "")).lower()
    if kind == "apiKey":
        location, param = entry.get("in"), entry.get("name")
        if location not in ("header", "query", "cookie") or not isinstance(param, str) or not param:
            return None, "an apiKey scheme needs `in` (header, query or cookie) and `name`; left out"
        return AuthScheme(name, "api_key", _secrets(name, "key"), location=location, param_name=param), ""
    if kind == "basic" or (kind == "http" and scheme_name == "basic"):
        return AuthScheme(name, "basic", _secrets(name, "username", "password")), ""
    if kind == "http" and scheme_name == "bearer":
        return AuthScheme(name, "bearer", _secrets(name, "token")), ""
    if kind == "oauth2":
        flows, skipped = _flows(entry)
        problem = f"{' and '.join(skipped)} flow{'s' if len(skipped) > 1 else ''} not supported" if skipped else ""
        if not flows and skipped:
            # The runtime cannot run these flows (they need a browser or a password), but a token obtained
            # elsewhere still works: the user supplies it, as for bearer.
            return AuthScheme(name, "bearer", _secrets(name, "token")), (
                f"{problem}: calls send an access token you obtain yourself, stored like a bearer token "
                f"(vault:{snake_case(name) or 'auth'}_token)")
        if not flows:
            return None, "no flows; left out"
        scheme = AuthScheme(name, "oauth2", _secrets(name, "client_id", "client_secret"), flows=flows)
        return scheme, (problem + "; the others are used") if problem else ""
    if kind == "openIdConnect":
        url = entry.get("openIdConnectUrl")
        if not isinstance(url, str) or not url:
            return None, "openIdConnect needs `openIdConnectUrl`; left out"
        return AuthScheme(name, "oauth2", _secrets(name, "client_id", "client_secret"), openid_url=url), ""
    if kind == "http":
        return None, f"HTTP auth scheme {scheme_name or '(none)'!r} is not supported (bearer and basic are); left out"
    return None, f"type {kind!r} is not supported; left out"


def _flows(entry: Mapping[str, Any]) -> tuple[tuple[OAuthFlow, ...], list[str]]:
    if "flows" in entry:  # OpenAPI 3
        raw = entry.get("flows")
        flows = raw if isinstance(raw, Mapping) else {}
    else:  # Swagger 2: one flow described inline
        flows = {str(entry.get("flow", "")): entry}
    found: list[OAuthFlow] = []
    skipped: list[str] = []
    for flow_name, flow in flows.items():
        grant = _GRANTS.get(flow_name)
        if grant is None or not isinstance(flow, Mapping):
            skipped.append(flow_name if flow_name in _SKIPPED_GRANTS else repr(flow_name))
            continue
        scopes = flow.get("scopes")
        found.append(OAuthFlow(
            grant="client_credentials" if grant == "client_credentials" else "authorization_code",
            token_url=_text(flow.get("tokenUrl")),
            authorization_url=_text(flow.get("authorizationUrl")),
            refresh_url=_text(flow.get("refreshUrl")),
            scopes=tuple(str(scope) for scope in scopes) if isinstance(scopes, Mapping) else (),
        ))
    return tuple(found), skipped


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _secrets(scheme: str, *roles: str) -> tuple[tuple[str, str], ...]:
    prefix = snake_case(scheme) or "auth"
    return tuple((role, f"vault:{prefix}_{role}") for role in roles)


_KINDS = {"bearer": "bearer", "api_key": "api_key", "basic": "basic", "oauth2": "oauth2", "headers": "headers"}


def _overridden(config: AuthConfig, schemes: Mapping[str, AuthScheme], taken: set[str]) -> str | None:
    if config.name is not None:
        return config.name if config.name in schemes else None
    same_kind = [name for name, scheme in schemes.items()
                 if scheme.type == _KINDS.get(config.type) and name not in taken]
    return same_kind[0] if len(same_kind) == 1 else None


def _unique(name: str, taken: Mapping[str, Any]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _from_config(config: AuthConfig, name: str, spec: AuthScheme | None) -> AuthScheme:
    """The definition's scheme; where it overrides a spec scheme, what it leaves unset comes from the spec."""
    scheme = config.to_scheme(name)
    if spec is None or spec.type != scheme.type:
        return scheme
    given = config.model_fields_set
    if isinstance(config, ApiKeyAuth):
        return replace(scheme, location=config.location if "location" in given else spec.location,
                       param_name=config.param_name if "param_name" in given else spec.param_name)
    if isinstance(config, OAuth2Auth):
        spec_flow = next((flow for flow in spec.flows if flow.grant == config.grant), None)
        flows = tuple(
            replace(flow, token_url=flow.token_url or spec_flow.token_url,
                    authorization_url=flow.authorization_url or spec_flow.authorization_url,
                    refresh_url=flow.refresh_url or spec_flow.refresh_url, scopes=flow.scopes or spec_flow.scopes)
            if spec_flow is not None else flow
            for flow in scheme.flows
        )
        return replace(scheme, flows=flows, openid_url=scheme.openid_url or spec.openid_url)
    return scheme
