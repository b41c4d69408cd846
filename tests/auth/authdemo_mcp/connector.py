"""The demo package's connector, shaped like a generated `connector.py`. Test-only: the authorization
server's address is read from AUTHDEMO_TEST_ISSUER (it listens on a port chosen per test session)."""

import os

from specbridge_runtime import AuthScheme, ConnectorSpec, OAuthFlow, RestPackage, run_cli

from .tools import OPERATIONS

CONNECTOR = ConnectorSpec(
    name="authdemo",
    title="Auth demo",
    version="1.0.0",
    base_url="http://127.0.0.1:9",
    auth=(
        AuthScheme(name="bearer", type="bearer", secrets=(("token", "vault:bearer_token"),)),
        AuthScheme(name="app", type="oauth2", secrets=(("client_id", "vault:app_client_id"),),
                   flows=(OAuthFlow("authorization_code", scopes=("openid", "read")),),
                   issuer_url=os.environ.get("AUTHDEMO_TEST_ISSUER", "http://127.0.0.1:9")),
    ),
    security=(("bearer",),),
)
PACKAGE = RestPackage(connector=CONNECTOR, operations=OPERATIONS, package=__package__)


def main() -> None:
    run_cli(PACKAGE)
