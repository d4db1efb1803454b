// TEST-ONLY OpenID provider for the soidc test suites, built on oidc-provider 8.8.1.
// Never deploy this: it has fixed users, fixed client secrets, a test-only `password` grant
// and unauthenticated /test/* control endpoints. See README.md for the interface.
import * as http from 'node:http';
import * as https from 'node:https';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

import { Browser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DEBUG = process.env.PROVIDER_DEBUG === '1';

// oidc-provider prints notices with console.info (stdout!). stdout is reserved for the
// ISSUER= line, so route all library chatter to stderr, and only when debugging.
const toStderr = (...args) => { if (DEBUG) process.stderr.write(`${args.join(' ')}\n`); };
console.log = toStderr;
console.info = toStderr;
console.warn = toStderr;
console.debug = toStderr;

// ---------------------------------------------------------------------------------------
// Fixed data
// ---------------------------------------------------------------------------------------
const API = 'https://api.soidc.test';
const API_SCOPES = ['api:read', 'api:write'];
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'roles', 'pam'];

const USERS = {
  alice: {
    password: 'alice-password',
    claims: {
      sub: 'alice',
      email: 'alice@example.test',
      email_verified: true,
      name: 'Alice Liddell',
      given_name: 'Alice',
      family_name: 'Liddell',
      preferred_username: 'alice',
      // Claim-rule tests (scope "roles"): nested roles, a name with dots, an array of objects.
      realm_access: { roles: ['ssh-login', 'dev'] },
      'https://example.com/claims': { tenant: 'acme' },
      orgs: [{ id: 'org-1', roles: ['owner'] }, { id: 'org-2', roles: ['viewer', 'billing'] }],
      // scope pam (examples/pam tests: identity mapping, group rules)
      groups: ['admins', 'users'],
      upn: 'Alice@EXAMPLE.test',
    },
  },
  bob: {
    password: 'bob-password',
    claims: {
      sub: 'bob',
      email: 'bob@example.test',
      email_verified: true,
      name: 'Bob Builder',
      given_name: 'Bob',
      family_name: 'Builder',
      preferred_username: 'bob',
      realm_access: { roles: ['dev'] },
      'https://example.com/claims': { tenant: 'globex' },
      groups: ['users'],
      upn: 'Bob@example.test',
    },
  },
};

// Extra claims of the access tokens the password grant issues to a user (nested claims for
// claim paths and rules, e.g. the nginx module's soidc_claim_set / soidc_require_claim).
// (realm_access comes from the user's claims, for every access token: see extraTokenClaims)
const USER_AT_CLAIMS = {
  alice: {
    'https://example.com/claims': { tenant: 'acme' },
    groups: ['staff', 'ops'],
    level: 3,
  },
  bob: {
    'https://example.com/claims': { tenant: 'globex' },
    groups: [],
    level: 1,
  },
};

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const REDIRECT_URIS = ['http://127.0.0.1:9/callback'];
const POST_LOGOUT_URIS = ['http://127.0.0.1:9/logged-out'];
const CONF_GRANTS = ['authorization_code', 'refresh_token', 'client_credentials', 'password', DEVICE_GRANT];
const PUBLIC_GRANTS = ['authorization_code', 'refresh_token', 'password', DEVICE_GRANT];

function clientPublicJwks() {
  return {
    keys: ['client-rs256', 'client-es256', 'client-ed25519']
      .map((n) => JSON.parse(readFileSync(join(here, '..', 'keys', `${n}.pub.jwk.json`), 'utf8'))),
  };
}

// The client keys again, plus the RSA key without an `alg` under kid client-rs256-any so
// that it also verifies PS256 (request objects of each algorithm family).
function jarClientJwks() {
  const { keys } = clientPublicJwks();
  const rsa = { ...keys[0], kid: 'client-rs256-any' };
  delete rsa.alg;
  return { keys: [...keys, rsa] };
}

function buildClients(issuer) {
  const conf = (client_id, client_secret, extra = {}) => ({
    client_id,
    client_secret,
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    redirect_uris: REDIRECT_URIS,
    post_logout_redirect_uris: POST_LOGOUT_URIS,
    grant_types: CONF_GRANTS,
    response_types: ['code'],
    // always put auth_time in ID tokens (oidc-provider otherwise drops it unless max_age
    // or a claims request asks for it)
    require_auth_time: true,
    ...extra,
  });
  return [
    conf('conf-basic', 'conf-basic-secret-0123456789abcdef'),
    conf('conf-post', 'conf-post-secret-0123456789abcdef', { token_endpoint_auth_method: 'client_secret_post' }),
    conf('conf-jwt', 'conf-jwt-secret-0123456789abcdef0123456789abcdef', { token_endpoint_auth_method: 'client_secret_jwt' }),
    conf('conf-pkjwt', null, { token_endpoint_auth_method: 'private_key_jwt', jwks: clientPublicJwks() }),
    conf('conf-es256', 'conf-es256-secret-0123456789abcdef', { id_token_signed_response_alg: 'ES256' }),
    conf('conf-eddsa', 'conf-eddsa-secret-0123456789abcdef', { id_token_signed_response_alg: 'EdDSA' }),
    conf('conf-jwtuserinfo', 'conf-jwtuserinfo-secret-0123456789abcdef', { userinfo_signed_response_alg: 'RS256' }),
    conf('public-pkce', null, { token_endpoint_auth_method: 'none', grant_types: PUBLIC_GRANTS }),
    conf('device-short', 'device-short-secret-0123456789abcdef'),
    conf('par-required', 'par-required-secret-0123456789abcdef', { require_pushed_authorization_requests: true }),
    conf('jar-pkjwt', null, {
      token_endpoint_auth_method: 'private_key_jwt', jwks: jarClientJwks(), require_signed_request_object: true,
    }),
    conf('conf-bcl', 'conf-bcl-secret-0123456789abcdef', {
      backchannel_logout_uri: `${issuer}/test/backchannel-sink`,
      backchannel_logout_session_required: true,
    }),
    ...mtlsClients(conf),
    // DPoP (RFC 9449): tokens only with a proof; dpop-nonce also needs a server nonce.
    conf('dpop-bound', 'dpop-bound-secret-0123456789abcdef', { dpop_bound_access_tokens: true }),
    conf('dpop-nonce', 'dpop-nonce-secret-0123456789abcdef', { dpop_bound_access_tokens: true }),
  ];
}

// ---------------------------------------------------------------------------------------
// Mutual TLS (RFC 8705), only when PROVIDER_MTLS_DIR names a directory holding ca.pem (the
// CA client certificates are checked against), server.pem/server.key (the https listener's)
// and self-client.pem (the certificate of client mtls-self). The provider then also
// listens on https (client certificates requested, not required) and advertises that
// listener as mtls_endpoint_aliases. Without it nothing changes.
// ---------------------------------------------------------------------------------------
const MTLS_DIR = process.env.PROVIDER_MTLS_DIR;
let mtlsBase; // https://127.0.0.1:<port> of the mTLS listener
const mtlsRequests = {}; // "METHOD /path" -> count, requests that came over the mTLS listener

function mtlsClients(conf) {
  if (!MTLS_DIR && !process.argv.includes('--write-clients')) return [];
  const selfJwks = () => {
    if (!MTLS_DIR) return undefined;
    const pem = readFileSync(join(MTLS_DIR, 'self-client.pem'), 'utf8');
    const cert = new X509Certificate(pem);
    return { keys: [{ ...cert.publicKey.export({ format: 'jwk' }), x5c: [cert.raw.toString('base64')] }] };
  };
  const bound = { tls_client_certificate_bound_access_tokens: true };
  return [
    conf('mtls-pki', null, { token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=soidc mtls client', ...bound }),
    conf('mtls-self', null, { token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: selfJwks(), ...bound }),
    conf('mtls-bound-basic', 'mtls-bound-basic-secret-0123456789abcdef', bound),
  ];
}

function mtlsFeature() {
  if (!MTLS_DIR) return { enabled: false };
  const peer = (ctx) => {
    const socket = ctx.req.socket;
    return typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  };
  return {
    enabled: true,
    certificateBoundAccessTokens: true,
    selfSignedTlsClientAuth: true,
    tlsClientAuth: true,
    getCertificate: peer,
    certificateAuthorized: (ctx) => ctx.req.socket.authorized === true,
    certificateSubjectMatches(ctx, property, expected) {
      const cert = peer(ctx);
      return property === 'tls_client_auth_subject_dn' && cert !== undefined && cert.subject === expected;
    },
  };
}

function mtlsConfiguration() {
  if (!MTLS_DIR) return {};
  const paths = {
    token_endpoint: '/token',
    introspection_endpoint: '/token/introspection',
    revocation_endpoint: '/token/revocation',
    userinfo_endpoint: '/me',
    device_authorization_endpoint: '/device/auth',
    pushed_authorization_request_endpoint: '/request',
  };
  return {
    discovery: { mtls_endpoint_aliases: Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, `${mtlsBase}${v}`])) },
  };
}

// Starts the https listener, then calls `ready` (the provider is built after it, so that
// the aliases carry its port).
function startMtlsListener(ready) {
  if (!MTLS_DIR) return ready();
  const read = (name) => readFileSync(join(MTLS_DIR, name));
  const server = https.createServer({
    key: read('server.key'), cert: read('server.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: false,
  }, (req, res) => {
    const key = `${req.method} ${new URL(req.url, 'https://localhost').pathname}`;
    mtlsRequests[key] = (mtlsRequests[key] || 0) + 1;
    handle(req, res);
  });
  return server.listen(0, '127.0.0.1', () => {
    mtlsBase = `https://127.0.0.1:${server.address().port}`;
    ready();
  });
}

// ---------------------------------------------------------------------------------------
// In-memory adapter. Module-level Maps, so the store survives a Provider rebuild.
// ---------------------------------------------------------------------------------------
const STORE = new Map(); // `${model}:${id}` -> { payload, expiresAt }
const GRANT_INDEX = new Map(); // grantId -> Set of store keys
const USER_CODE_INDEX = new Map(); // userCode -> store key
const UID_INDEX = new Map(); // uid -> store key
const EXPIRED_GRACE_MS = 10 * 60 * 1000;

function live(key) {
  const entry = STORE.get(key);
  if (!entry) return undefined;
  // Keep entries for a grace period after expiry: oidc-provider checks `exp` itself and
  // needs to see an expired device code to answer `expired_token` (not invalid_grant).
  if (entry.expiresAt && entry.expiresAt + EXPIRED_GRACE_MS <= Date.now()) {
    STORE.delete(key);
    return undefined;
  }
  return entry.payload;
}

class MemoryAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    STORE.set(key, { payload: structuredClone(payload), expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      if (!GRANT_INDEX.has(payload.grantId)) GRANT_INDEX.set(payload.grantId, new Set());
      GRANT_INDEX.get(payload.grantId).add(key);
    }
    if (payload.userCode) USER_CODE_INDEX.set(payload.userCode, key);
    if (payload.uid) UID_INDEX.set(payload.uid, key);
  }

  async find(id) {
    const p = live(this.key(id));
    return p ? structuredClone(p) : undefined;
  }

  async findByUserCode(userCode) {
    const key = USER_CODE_INDEX.get(userCode);
    const p = key ? live(key) : undefined;
    return p ? structuredClone(p) : undefined;
  }

  async findByUid(uid) {
    const key = UID_INDEX.get(uid);
    const p = key ? live(key) : undefined;
    return p ? structuredClone(p) : undefined;
  }

  async consume(id) {
    const entry = STORE.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { STORE.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const keys = GRANT_INDEX.get(grantId);
    if (keys) for (const k of keys) STORE.delete(k);
    GRANT_INDEX.delete(grantId);
  }
}

// ---------------------------------------------------------------------------------------
// Signing keys (regenerated at startup and on /test/rotate)
// ---------------------------------------------------------------------------------------
function newKeySet() {
  const tag = randomBytes(6).toString('hex');
  const mk = (type, options, alg, prefix) => {
    const { privateKey } = generateKeyPairSync(type, options);
    return {
      ...privateKey.export({ format: 'jwk' }), kid: `${prefix}-${tag}`, alg, use: 'sig',
    };
  };
  return [
    mk('rsa', { modulusLength: 2048 }, 'RS256', 'rs256'),
    mk('ec', { namedCurve: 'P-256' }, 'ES256', 'es256'),
    mk('ed25519', {}, 'EdDSA', 'eddsa'),
  ];
}

let signingKeys = newKeySet();

// DPoP server nonces (RFC 9449 §8): oidc-provider derives them from this secret (one per
// minute). POST /test/dpop-nonce {"rotate": true} replaces it, which invalidates every
// nonce handed out so far; {"require": true} requires a nonce of every client (default:
// of dpop-nonce only).
let dpopNonceSecret = randomBytes(32);
let dpopRequireNonceAll = false;

// ---------------------------------------------------------------------------------------
// Test observation state
// ---------------------------------------------------------------------------------------
let jwksFetchCount = 0;
let discoveryFetchCount = 0;
// POST /test/outage {"down": true}: discovery and JWKS answer 503 until {"down": false}.
let metadataOutage = false;
// POST /test/password-auth-age {"s": N}: the password grant's auth_time lies N s back.
let passwordAuthAgeS = 0;
let tokenRequests = [];
// Requests at the device authorization and pushed authorization request endpoints:
// the client authentication, the names of the parameters and the device code issued.
let endpointRequests = [];
const logoutTokens = [];

function authMethodOf(ctx) {
  const authz = ctx.get('authorization');
  if (/^basic /i.test(authz)) return 'basic';
  const body = (ctx.oidc && ctx.oidc.body) || {};
  if (body.client_assertion_type || body.client_assertion) {
    try {
      const header = JSON.parse(Buffer.from(String(body.client_assertion).split('.')[0], 'base64url').toString());
      return /^HS/.test(header.alg) ? 'client_secret_jwt' : 'private_key_jwt';
    } catch {
      return 'client_assertion_unparseable';
    }
  }
  if (body.client_secret !== undefined) return 'post';
  return 'none';
}

// ---------------------------------------------------------------------------------------
// HTML (minimal pages; <meta name="soidc-page"> tells browser.mjs which page it is on)
// ---------------------------------------------------------------------------------------
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(kind, title, body) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="soidc-page" content="${kind}"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

// ---------------------------------------------------------------------------------------
// Resource indicator rule (documented in README):
//  - an explicitly requested `resource` must be https://api.soidc.test (else invalid_target);
//  - with no `resource`, client `conf-basic` using grant client_credentials or password
//    whose scope includes `api:read` gets https://api.soidc.test by default;
//  - otherwise no resource (opaque access token usable at userinfo).
// ---------------------------------------------------------------------------------------
function defaultResourceRule(clientId, grantType, scopes) {
  if (clientId === 'conf-basic' && ['client_credentials', 'password'].includes(grantType) && scopes.includes('api:read')) {
    return API;
  }
  return undefined;
}

function resourceServerInfo(indicator) {
  if (indicator !== API) throw new errors.InvalidTarget();
  return {
    scope: API_SCOPES.join(' '),
    audience: API,
    accessTokenTTL: 3600,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  };
}

// ---------------------------------------------------------------------------------------
// TEST-ONLY `password` grant (Resource Owner Password Credentials). oidc-provider has no
// such grant; this exists only so tests can get tokens without a browser.
// ---------------------------------------------------------------------------------------
async function passwordGrant(ctx, next) {
  const { params, client, provider } = ctx.oidc;
  if (!params.username || !params.password) {
    throw new errors.InvalidRequest('missing required parameter(s) (username, password)');
  }
  const user = USERS[params.username];
  if (!user || user.password !== params.password) {
    throw new errors.InvalidGrant('invalid resource owner credentials');
  }
  const requested = params.scope ? [...new Set(params.scope.split(' ').filter(Boolean))] : [];
  const unknown = requested.filter((s) => !OIDC_SCOPES.includes(s) && !API_SCOPES.includes(s));
  if (unknown.length) throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));

  let { resource } = params;
  if (Array.isArray(resource)) {
    if (resource.length > 1) throw new errors.InvalidTarget('only a single resource indicator value is supported for this grant type');
    [resource] = resource;
  }
  if (!resource) resource = defaultResourceRule(client.clientId, 'password', requested);
  const rsInfo = resource ? resourceServerInfo(resource) : undefined;

  const oidcScope = requested.filter((s) => OIDC_SCOPES.includes(s));
  const apiScope = resource ? requested.filter((s) => API_SCOPES.includes(s)) : [];

  const account = await provider.Account.findAccount(ctx, user.claims.sub);
  ctx.oidc.entity('Account', account);

  const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
  if (oidcScope.length) grant.addOIDCScope(oidcScope.join(' '));
  if (resource) grant.addResourceScope(resource, apiScope.join(' '));
  await grant.save();
  ctx.oidc.entity('Grant', grant);

  const authTime = Math.floor(Date.now() / 1000) - passwordAuthAgeS;
  const at = new provider.AccessToken({
    accountId: account.accountId, client, grantId: grant.jti, gty: 'password',
  });
  if (resource) {
    at.resourceServer = new provider.ResourceServer(resource, rsInfo);
    at.scope = apiScope.join(' ') || undefined;
  } else {
    at.scope = oidcScope.join(' ') || undefined;
  }
  ctx.oidc.entity('AccessToken', at);
  const accessToken = await at.save();

  let refreshToken;
  if (requested.includes('offline_access') && client.grantTypeAllowed('refresh_token')) {
    const rt = new provider.RefreshToken({
      accountId: account.accountId,
      authTime,
      client,
      grantId: grant.jti,
      gty: 'password',
      nonce: params.nonce || undefined,
      resource,
      rotations: 0,
      scope: [...oidcScope, ...apiScope].join(' '),
      // ask for auth_time in ID tokens issued on refresh too
      claims: { id_token: { auth_time: { essential: true } } },
    });
    ctx.oidc.entity('RefreshToken', rt);
    refreshToken = await rt.save();
  }

  let idToken;
  if (oidcScope.includes('openid')) {
    const claims = await account.claims('id_token', oidcScope.join(' '), {}, []);
    const token = new provider.IdToken({ ...claims, auth_time: authTime }, { ctx });
    token.scope = oidcScope.join(' ');
    token.mask = { auth_time: { essential: true } };
    token.rejected = [];
    if (params.nonce) token.set('nonce', params.nonce);
    // A password is one factor: a password grant that asks for acr_values gets urn:acr:pwd,
    // whatever it asked for (PAM's require_acr tests and tests/acr_max_age.rs).
    if (params.acr_values) token.set('acr', 'urn:acr:pwd');
    token.set('at_hash', accessToken);
    idToken = await token.issue({ use: 'idtoken' });
  }

  ctx.body = {
    access_token: accessToken,
    expires_in: at.expiration,
    id_token: idToken,
    refresh_token: refreshToken,
    scope: at.scope,
    token_type: at.tokenType,
  };
  await next();
}

// ---------------------------------------------------------------------------------------
// Provider construction (also used to rebuild after key rotation)
// ---------------------------------------------------------------------------------------
function buildProvider(issuer) {
  const configuration = {
    adapter: MemoryAdapter,
    clients: buildClients(issuer).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null))),
    jwks: { keys: signingKeys },
    cookies: { keys: ['soidc-test-cookie-key-not-a-secret'] },
    async findAccount(ctx, id) {
      const user = USERS[id];
      if (!user) return undefined;
      return { accountId: id, async claims() { return { ...user.claims }; } };
    },
    claims: {
      acr: null, // released when the login has one (acr tests)
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      roles: ['realm_access', 'https://example.com/claims', 'orgs'],
      pam: ['groups', 'upn'],
    },
    // The user's realm_access in JWT access tokens too (claim-rule tests of access tokens).
    // Access tokens of the password grant also carry the user's USER_AT_CLAIMS (nginx tests).
    async extraTokenClaims(ctx, token) {
      const user = USERS[token.accountId];
      const extra = token.kind === 'AccessToken' && token.gty === 'password' && USER_AT_CLAIMS[token.accountId]
        ? structuredClone(USER_AT_CLAIMS[token.accountId]) : {};
      if (user && user.claims.realm_access) extra.realm_access = user.claims.realm_access;
      return Object.keys(extra).length ? extra : undefined;
    },
    scopes: ['openid', 'offline_access'],
    conformIdTokenClaims: false,
    // acr tests: the ACRs a login can have (without any, oidc-provider drops the acr claim).
    acrValues: ['urn:acr:pwd', 'urn:acr:mfa'],
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none',
      ...(MTLS_DIR ? ['tls_client_auth', 'self_signed_tls_client_auth'] : [])],
    ...mtlsConfiguration(),
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      introspectionSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      // HS256 too, so that tests can forge JARM responses keyed with a client secret
      authorizationSigningAlgValues: ['RS256', 'ES256', 'EdDSA', 'HS256'],
      clientAuthSigningAlgValues: ['HS256', 'RS256', 'ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'],
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'],
    },
    pkce: {
      methods: ['S256'],
      required: (ctx, client) => client.clientAuthMethod === 'none',
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 3600,
      DeviceCode: (ctx, token, client) => (client && client.clientId === 'device-short' ? 3 : 600),
      Grant: 14 * 24 * 3600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('error', 'Error', `<pre id="error">${esc(JSON.stringify(out))}</pre>`);
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      // Dynamic client registration (RFC 7591, anonymous: no initial access token) and
      // its management (RFC 7592), for tests/registration.rs.
      registration: { enabled: true },
      registrationManagement: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      requestObjects: { request: true, requestUri: false, requireSignedRequestObject: false },
      jwtResponseModes: { enabled: true },
      jwtUserinfo: { enabled: true },
      mTLS: mtlsFeature(),
      backchannelLogout: { enabled: true },
      // RFC 9449: DPoP-bound tokens for a token request with a DPoP proof (tests/dpop_resource.rs,
      // tests/dpop_client.rs); server nonces from dpopNonceSecret, required as requireNonce says.
      dPoP: {
        enabled: true,
        nonceSecret: dpopNonceSecret,
        requireNonce: (ctx) => dpopRequireNonceAll || ctx.oidc.client?.clientId === 'dpop-nonce',
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('logout', 'Sign out?', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('logged-out', 'Signed out', '<p>soidc-test: signed out</p>');
        },
      },
      deviceFlow: {
        enabled: true,
        async userCodeInputSource(ctx, form, out, err) {
          const msg = err ? `<p id="message">${esc(err.name === 'AbortedError' ? 'The Sign-in request was interrupted' : (err.message || err.name))}</p>` : '';
          ctx.body = page('device-input', 'Enter device code', `${msg}${form}`);
        },
        async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
          ctx.body = page('device-confirm', 'Confirm device', `<p>Client ${esc(client.clientId)}, code <code>${esc(userCode)}</code></p>${form}`);
        },
        async successSource(ctx) {
          ctx.body = page('device-success', 'Device signed in', '<p>soidc-test: device success</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf;
          const p = ctx.oidc.params || {};
          const scopes = p.scope ? String(p.scope).split(' ') : [];
          return ctx.oidc.route === 'token' ? defaultResourceRule(client.clientId, p.grant_type, scopes) : undefined;
        },
        async getResourceServerInfo(ctx, indicator) { return resourceServerInfo(indicator); },
        async useGrantedResource() { return false; },
      },
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = false;
  provider.registerGrantType('password', passwordGrant, ['username', 'password', 'scope', 'resource', 'nonce', 'acr_values'], ['resource']);

  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && ctx.method === 'POST') {
      tokenRequests.push({
        method: ctx.method,
        path: ctx.path,
        auth_method: authMethodOf(ctx),
        grant_type: ctx.oidc && ctx.oidc.body ? ctx.oidc.body.grant_type : undefined,
        code_verifier: Boolean(ctx.oidc && ctx.oidc.body && ctx.oidc.body.code_verifier),
        dpop: Boolean(ctx.get('DPoP')),
        client_id: ctx.oidc && ctx.oidc.client ? ctx.oidc.client.clientId : undefined,
        device_code: ctx.oidc && ctx.oidc.body ? ctx.oidc.body.device_code : undefined,
        status: ctx.status,
      });
    }
    if ((ctx.path === '/device/auth' || ctx.path === '/request' || ctx.path === '/token/introspection') && ctx.method === 'POST') {
      const body = (ctx.oidc && ctx.oidc.body) || {};
      endpointRequests.push({
        path: ctx.path,
        auth_method: authMethodOf(ctx),
        params: Object.keys(body).sort(),
        code_challenge_method: body.code_challenge_method,
        dpop: Boolean(ctx.get('DPoP')),
        // the device code issued, so that a test can pick its own request
        device_code: ctx.body && typeof ctx.body === 'object' ? ctx.body.device_code : undefined,
        status: ctx.status,
      });
    }
  });

  if (DEBUG) {
    provider.on('server_error', (ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
    provider.on('grant.error', (ctx, err) => process.stderr.write(`grant.error: ${err.message} ${err.error_description || ''}\n`));
    provider.on('backchannel.error', (ctx, err) => process.stderr.write(`backchannel.error: ${err.message}\n`));
  } else {
    provider.on('server_error', (ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
  }
  return provider;
}

// ---------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------
async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] || '';
  if (!raw) return {};
  if (type.includes('application/json')) return JSON.parse(raw);
  return Object.fromEntries(new URLSearchParams(raw));
}

function send(res, status, body, type = 'application/json') {
  const text = type === 'application/json' ? JSON.stringify(body) : body;
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
}

// Login + consent interaction pages (our own; they check the user table).
function loginPage(uid, message) {
  return page('login', 'Sign in', `${message ? `<p id="message">${esc(message)}</p>` : ''}
<form id="login" method="post" action="/interaction/${uid}/login"><input type="text" name="login" value=""><input type="password" name="password" value=""><button type="submit">Sign in</button></form>
<form id="abort" method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
}

function consentPage(uid, details, clientId) {
  return page('consent', 'Authorize', `<p>Client ${esc(clientId)} asks for: ${esc(JSON.stringify(details))}</p>
<form id="consent" method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>
<form id="abort" method="post" action="/interaction/${uid}/abort"><button type="submit">Deny</button></form>`);
}

async function handleInteraction(provider, req, res, path) {
  const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(path);
  if (!m) return send(res, 404, { error: 'not_found' });
  const [, uid, action] = m;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'interaction mismatch', 'text/plain');
  const { prompt, params, session } = details;
  if (!action && req.method === 'GET') {
    if (prompt.name === 'login') return send(res, 200, loginPage(uid), 'text/html');
    return send(res, 200, consentPage(uid, prompt.details, params.client_id), 'text/html');
  }
  if (req.method !== 'POST') return send(res, 405, { error: 'method_not_allowed' });
  const body = await readBody(req);
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'login') {
    const user = USERS[body.login];
    if (!user || user.password !== body.password) {
      return send(res, 200, loginPage(uid, 'Invalid username or password'), 'text/html');
    }
    // The acr of the login: the first of the requested acr_values (acr tests), else none.
    const acr = params.acr_values ? String(params.acr_values).split(' ')[0] : undefined;
    return provider.interactionFinished(req, res, { login: { accountId: body.login, acr } }, { mergeWithLastSubmission: false });
  }
  // confirm (consent)
  const { details: d } = prompt;
  let grant;
  if (details.grantId) grant = await provider.Grant.find(details.grantId);
  if (!grant) grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  if (d.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

let issuer;
let provider;
let providerCallback;

function swapProvider() {
  provider = buildProvider(issuer);
  providerCallback = provider.callback();
}

async function handleTest(req, res, url) {
  const { pathname } = url;
  if (req.method === 'POST' && pathname === '/test/rotate') {
    const fresh = newKeySet();
    signingKeys = url.searchParams.get('drop_old') === '1' ? fresh : [...fresh, ...signingKeys];
    swapProvider();
    return send(res, 200, { kids: signingKeys.map((k) => k.kid) });
  }
  if (req.method === 'POST' && pathname === '/test/dpop-nonce') {
    const body = await readBody(req);
    if (typeof body.require === 'boolean') dpopRequireNonceAll = body.require;
    if (body.rotate === true) { dpopNonceSecret = randomBytes(32); swapProvider(); }
    return send(res, 200, { require: dpopRequireNonceAll });
  }
  if (req.method === 'GET' && pathname === '/test/jwks-fetch-count') return send(res, 200, { count: jwksFetchCount });
  if (req.method === 'GET' && pathname === '/test/discovery-fetch-count') return send(res, 200, { count: discoveryFetchCount });
  if (req.method === 'POST' && pathname === '/test/outage') {
    const body = await readBody(req);
    metadataOutage = body.down === true;
    return send(res, 200, { down: metadataOutage });
  }
  if (req.method === 'POST' && pathname === '/test/password-auth-age') {
    const body = await readBody(req);
    passwordAuthAgeS = Number.isInteger(body.s) && body.s >= 0 ? body.s : 0;
    return send(res, 200, { s: passwordAuthAgeS });
  }
  if (req.method === 'GET' && pathname === '/test/requests') return send(res, 200, tokenRequests);
  if (req.method === 'POST' && pathname === '/test/requests/reset') { tokenRequests = []; endpointRequests = []; return send(res, 200, { ok: true }); }
  if (req.method === 'GET' && pathname === '/test/endpoint-requests') return send(res, 200, endpointRequests);
  if (req.method === 'GET' && pathname === '/test/mtls-requests') return send(res, 200, mtlsRequests);
  if (req.method === 'POST' && pathname === '/test/backchannel-sink') {
    const body = await readBody(req);
    if (body.logout_token) logoutTokens.push(body.logout_token);
    res.writeHead(200); return res.end();
  }
  if (req.method === 'GET' && pathname === '/test/backchannel-logout-tokens') return send(res, 200, logoutTokens);
  if (req.method === 'POST' && (pathname === '/test/device/approve' || pathname === '/test/device/deny')) {
    const body = await readBody(req);
    if (!body.user_code) return send(res, 400, { error: 'user_code required' });
    const user = body.user || 'alice';
    const deny = pathname.endsWith('/deny');
    try {
      const result = await new Browser().run(`${issuer}/device`, {
        user, password: USERS[user] ? USERS[user].password : '', deny, userCode: body.user_code,
      });
      const ok = deny ? result.kind === 'device-aborted' : result.kind === 'device-success';
      return send(res, ok ? 200 : 500, { ok, result: result.kind });
    } catch (err) {
      return send(res, 400, { ok: false, error: err.message });
    }
  }
  if (req.method === 'POST' && pathname === '/test/backchannel-logout') {
    // Logs `user` in to `client_id` through the real authorization endpoint with a fresh
    // cookie jar, then runs RP-initiated logout (end_session + confirmation form) for that
    // session. The provider itself generates and POSTs the logout token to the sink.
    const body = await readBody(req);
    const user = body.user || 'alice';
    const clientId = body.client_id || 'conf-bcl';
    const browser = new Browser();
    const before = logoutTokens.length;
    try {
      const auth = new URL(`${issuer}/auth`);
      auth.search = new URLSearchParams({
        client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URIS[0], state: 'bcl',
      }).toString();
      await browser.run(auth.href, { user, password: USERS[user] ? USERS[user].password : '' });
      const end = new URL(`${issuer}/session/end`);
      end.search = new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: POST_LOGOUT_URIS[0] }).toString();
      await browser.run(end.href, {});
      return send(res, 200, { logout_tokens: logoutTokens.slice(before) });
    } catch (err) {
      return send(res, 400, { ok: false, error: err.message });
    }
  }
  return send(res, 404, { error: 'not_found' });
}

async function handle(req, res) {
  const url = new URL(req.url, issuer);
  try {
    if (DEBUG) process.stderr.write(`${req.method} ${url.pathname}\n`);
    if (url.pathname.startsWith('/test/')) return await handleTest(req, res, url);
    const current = provider;
    if (url.pathname.startsWith('/interaction/')) return await handleInteraction(current, req, res, url.pathname);
    if (url.pathname === '/jwks') jwksFetchCount += 1;
    if (url.pathname === '/.well-known/openid-configuration') discoveryFetchCount += 1;
    if (metadataOutage && (url.pathname === '/jwks' || url.pathname === '/.well-known/openid-configuration')) {
      return send(res, 503, { error: 'temporarily_unavailable', error_description: 'outage simulated by /test/outage' });
    }
    return await providerCallback(req, res);
  } catch (err) {
    if (DEBUG || !(err instanceof errors.OIDCProviderError)) process.stderr.write(`error handling ${req.method} ${url.pathname}: ${err.stack}\n`);
    if (!res.headersSent) send(res, err.statusCode || 500, { error: err.error || 'server_error', error_description: err.error_description || err.message });
    return undefined;
  }
}

// `node server.mjs --write-clients` regenerates the committed clients.json and exits.
function writeClientsJson() {
  writeFileSync(join(here, 'clients.json'), `${JSON.stringify(buildClients('http://127.0.0.1:<port>').map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    id_token_signed_response_alg: c.id_token_signed_response_alg,
    userinfo_signed_response_alg: c.userinfo_signed_response_alg,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: c.grant_types,
    backchannel_logout_uri: c.backchannel_logout_uri,
    require_pushed_authorization_requests: c.require_pushed_authorization_requests,
    require_signed_request_object: c.require_signed_request_object,
    tls_client_auth_subject_dn: c.tls_client_auth_subject_dn,
    tls_client_certificate_bound_access_tokens: c.tls_client_certificate_bound_access_tokens,
    dpop_bound_access_tokens: c.dpop_bound_access_tokens,
  })), null, 2)}\n`);
}

if (process.argv.includes('--write-clients')) {
  writeClientsJson();
  process.exit(0);
}

const server = http.createServer((req, res) => { handle(req, res); });
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  // PROVIDER_ISSUER: the issuer URL when the provider is reached through something else
  // (the fault tests put a TCP proxy in front of it); default: its own address.
  issuer = process.env.PROVIDER_ISSUER || `http://127.0.0.1:${port}`;
  startMtlsListener(() => {
    swapProvider();
    process.stdout.write(`ISSUER=${issuer}\n`);
  });
});

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (process.env.PROVIDER_IGNORE_STDIN !== '1') {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
