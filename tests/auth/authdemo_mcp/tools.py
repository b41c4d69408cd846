from specbridge_runtime._core.descriptors import Operation

PATHS = {
    "authdemo_bearer": "/bearer",
    "authdemo_api_key_header": "/api-key/header",
    "authdemo_api_key_authorization": "/api-key/authorization",
    "authdemo_api_key_query": "/api-key/query",
    "authdemo_api_key_cookie": "/api-key/cookie",
    "authdemo_basic": "/basic",
    "authdemo_custom": "/custom",
    "authdemo_oauth_read": "/oauth/read",
    "authdemo_oauth_write": "/oauth/write",
    "authdemo_oauth_openid": "/oauth/openid",
    "authdemo_echo": "/echo",
}
# In the CLI package, the OAuth endpoints use the "app" scheme; the others the connector's default.
SECURITY = {"authdemo_oauth_read": (("app",),), "authdemo_oauth_write": (("app",),)}

OPERATIONS: tuple[Operation, ...] = tuple(
    Operation(tool=tool, method="GET", path=path, input_model="NoArguments", security=SECURITY.get(tool))
    for tool, path in PATHS.items()
)
