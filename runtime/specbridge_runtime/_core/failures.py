"""The one classifier of failures: what an HTTP status means, and what to check, in the words of the connector
docs' troubleshooting table. Tool error results (`http_hint`) and `check` verdicts both read this table."""

from __future__ import annotations

from typing import Literal

Problem = Literal[
    "ok", "redirected", "wrong_url", "unreachable", "not_found", "bad_request", "unsupported", "conflict",
    "too_large", "rate_limited", "service_error", "bad_key_format", "expired_or_revoked", "missing_permission",
    "missing_credentials", "credentials", "refused",
]

_CONNECTION = "Connection Failed"
_AUTHENTICATION = "Authentication Error"
_REFUSED = "Request refused"

# problem -> (heading, what to check)
TABLE: dict[Problem, tuple[str, str]] = {
    "ok": ("Connection OK", ""),
    "redirected": (_REFUSED, "The service redirected the request: the base URL or the API may have changed, or "
                             "(a redirect to a login page) the credentials are missing or wrong."),
    "wrong_url": (_CONNECTION, "Verify the endpoint URL is correct."),
    "unreachable": (_CONNECTION, "Ensure the service is online and reachable from here."),
    "not_found": (_REFUSED, "Operation or resource not found: verify the identifiers in the arguments and that the "
                            "operation exists in this API version."),
    "bad_request": (_REFUSED, "The service rejected the request: check the arguments against the tool's input "
                              "schema."),
    "unsupported": (_REFUSED, "The service does not accept this method or format here: the API may have changed; "
                              "update the definitions."),
    "conflict": (_REFUSED, "The request conflicts with the current state of the resource: read it again, then "
                           "retry."),
    "too_large": (_REFUSED, "The request is too large for the service: send less data at once."),
    "rate_limited": ("Rate Limited", "Rate limited: reduce the call frequency, or request higher limits from the "
                                     "service."),
    "service_error": (_CONNECTION, "The service failed (server error): ensure it is online and retry later."),
    "bad_key_format": (_AUTHENTICATION, "Check the API key/token format, then store it again."),
    "expired_or_revoked": (_AUTHENTICATION, "Verify the auth token is valid (it may be invalid or expired) and has the "
                                            "required scopes; verify the key hasn't expired or been revoked: store a "
                                            "new one with `creds set`, or re-authorize OAuth with `login`."),
    "missing_permission": (_AUTHENTICATION, "Check if the token has permission for this operation: confirm the key "
                                            "has the required permissions (scopes)."),
    "missing_credentials": (_AUTHENTICATION, "Check the authentication credentials: give the connector definition "
                                             "an `auth` for this operation and store its secrets with `creds set`."),
    "credentials": (_AUTHENTICATION, "Check the authentication credentials; re-authorize OAuth if needed."),
    "refused": (_REFUSED, "The service refused the request: check the arguments and the service's documentation."),
}

_BY_STATUS: dict[int, Problem] = {
    400: "bad_request", 422: "bad_request", 401: "expired_or_revoked", 403: "missing_permission", 404: "not_found",
    410: "not_found", 405: "unsupported", 415: "unsupported", 409: "conflict", 412: "conflict", 413: "too_large",
    429: "rate_limited",
}


def classify_status(status: int) -> Problem:
    if 200 <= status < 300:
        return "ok"
    if 300 <= status < 400:
        return "redirected"
    if status >= 500:
        return "service_error"
    return _BY_STATUS.get(status, "refused")


def heading(problem: Problem) -> str:
    return TABLE[problem][0]


def advice(problem: Problem) -> str:
    return TABLE[problem][1]
