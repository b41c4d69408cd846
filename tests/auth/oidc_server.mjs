// A real OAuth 2.1 / OpenID Connect authorization server for the auth tests: oidc-provider 9.x on
// 127.0.0.1:<port>. Usage: node oidc_server.mjs <port> <config.json>
//
// config.json: {"clients": [...oidc-provider client metadata...], "short_ttl_clients": ["id", ...],
//               "short_ttl_s": 2}
// Enabled: client credentials, dynamic registration (+ RFC 7592 management), introspection, revocation,
// refresh-token rotation (every refresh), PKCE required, resource indicators (RFC 8707) for any resource
// server on 127.0.0.1 (the MCP servers of the tests), whose tokens are opaque (checked by introspection). Interactions approve at once (a test-only
// stand-in for the login and consent pages), so a test can play the browser by following redirects.
// GET /_stats answers how many tokens each grant type issued.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve(process.env.NODE_MODULES_DIR ?? '.', 'package.json'));
const { default: Provider, errors } = await import(require.resolve('oidc-provider'));

const port = Number(process.argv[2]);
const settings = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const shortLived = new Set(settings.short_ttl_clients ?? []);
const shortTtl = settings.short_ttl_s ?? 2;
const issuer = `http://127.0.0.1:${port}`;
const stats = {};

const accessTtl = (ctx, token, client) => (shortLived.has(client?.clientId) ? shortTtl : 600);

const provider = new Provider(issuer, {
  clients: settings.clients,
  scopes: ['openid', 'offline_access', 'read', 'write'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    registration: { enabled: true },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(indicator)) throw new errors.InvalidTarget();
        return { scope: 'read write', accessTokenFormat: 'opaque', audience: indicator };
      },
    },
  },
  ttl: {
    AccessToken: accessTtl,
    ClientCredentials: accessTtl,
    AuthorizationCode: 60,
    Grant: 3600,
    IdToken: 600,
    Interaction: 600,
    RefreshToken: 3600,
    Session: 3600,
  },
  rotateRefreshToken: () => true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
  cookies: { keys: ['specbridge-tests-only'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

provider.on('grant.success', (ctx) => {
  const grant = ctx.oidc.params.grant_type;
  stats[grant] = (stats[grant] ?? 0) + 1;
});

async function approve(req, res) {
  const details = await provider.interactionDetails(req, res);
  const accountId = details.session?.accountId ?? 'test-user';
  const result = { login: { accountId } };
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result.consent = { grantId: await grant.save() };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const handle = provider.callback();
http
  .createServer((req, res) => {
    if (req.url === '/_stats') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.url.startsWith('/interaction/')) {
      approve(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    handle(req, res);
  })
  .listen(port, '127.0.0.1');
