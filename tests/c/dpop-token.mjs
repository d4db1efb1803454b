// Gets a DPoP-bound access token (RFC 9449 §5) from the test provider and makes proofs for
// tests/c/test_dpop.c, with node's own crypto only: the token and proofs do not depend on
// soidc. A fresh P-256 key each run. Client credentials of conf-basic, resource the API.
//
// Usage (SOIDC_TEST_ISSUER set, inside tests/with-provider.sh):
//     eval "$(node tests/c/dpop-token.mjs)"
// Prints `export NAME='value'` lines:
//   SOIDC_TEST_DPOP_TOKEN       the bound access token (cnf.jkt)
//   SOIDC_TEST_DPOP_URI         the resource URI the proofs are for (method GET)
//   SOIDC_TEST_DPOP_PROOF       a right proof for GET of that URI with that token
//   SOIDC_TEST_DPOP_PROOF_POST  the same for POST (refused for a GET: reason dpop_htm)
import { generateKeyPairSync, sign, createHash, randomUUID } from 'node:crypto';

const issuer = process.env.SOIDC_TEST_ISSUER;
if (!issuer) {
  console.error('dpop-token.mjs: SOIDC_TEST_ISSUER is not set');
  process.exit(1);
}
const API = 'https://api.soidc.test';
const URI = 'https://rs.soidc.test/api/items';
const b64 = (buf) => Buffer.from(buf).toString('base64url');
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });

function proof(htm, htu, token) {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } };
  const claims = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (token) claims.ath = b64(createHash('sha256').update(token).digest());
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64(sig)}`;
}

const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const res = await fetch(meta.token_endpoint, {
  method: 'POST',
  headers: {
    authorization: `Basic ${Buffer.from('conf-basic:conf-basic-secret-0123456789abcdef').toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
    dpop: proof('POST', meta.token_endpoint),
  },
  body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: API }),
});
const body = await res.json();
if (res.status !== 200 || body.token_type !== 'DPoP') {
  console.error(`dpop-token.mjs: token endpoint answered ${res.status}: ${JSON.stringify(body)}`);
  process.exit(1);
}
const out = {
  SOIDC_TEST_DPOP_TOKEN: body.access_token,
  SOIDC_TEST_DPOP_URI: URI,
  SOIDC_TEST_DPOP_PROOF: proof('GET', URI, body.access_token),
  SOIDC_TEST_DPOP_PROOF_POST: proof('POST', URI, body.access_token),
};
for (const [k, v] of Object.entries(out)) console.log(`export ${k}='${v}'`);
