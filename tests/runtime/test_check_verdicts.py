"""`check`'s verdict on an answer: a redirect is never "Connection OK", and a refusal of a request that
carried no credentials says so instead of blaming credentials that were never sent."""

import pytest
from specbridge_runtime._commands.check import verdict_for_status

WHERE = "GET https://api.example.com/v1/me"


@pytest.mark.parametrize(("status", "location", "sent", "problem", "words"), [
    (302, "https://sso.example.com/login?next=/v1/me&sig=abc", True, "credentials",
     ["redirected to https://sso.example.com/login:", "credentials sent were not accepted"]),
    (302, "/accounts/signin", False, "missing_credentials", ["a login page", "no credentials were sent"]),
    (301, "https://api.example.com/v2/me", True, "redirected", ["base URL may have moved"]),
    (307, "https://api.example.com/v2/me", False, "redirected", ["no credentials were sent"]),
    (401, "", False, "missing_credentials", ["no credentials were sent"]),
    (403, "", False, "missing_credentials", ["no credentials were sent"]),
    (401, "", True, "expired_or_revoked", ["credentials were refused"]),
    (200, "", False, "ok", ["answered HTTP 200"]),
])
def test_verdicts(status: int, location: str, sent: bool, problem: str, words: list[str]) -> None:
    verdict = verdict_for_status(status, WHERE, 12.0, sent_credentials=sent, location=location)
    assert verdict.problem == problem
    assert verdict.ok is (problem == "ok")
    for word in words:
        assert word in verdict.detail, verdict.detail
    assert "sig=abc" not in verdict.detail  # a redirect target's query may hold a signature
    if not sent and not verdict.ok:
        assert "refused" not in verdict.detail
