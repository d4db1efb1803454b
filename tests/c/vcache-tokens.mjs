// Tokens for tests/c/test_verified_cache.c, signed here with node's crypto and the keys
// of tests/keys (stub-rs256, stub-rs256-b), for an issuer that exists only in the test
// (the client is made from metadata and imported keys: no network).
//
// Usage: eval "$(node tests/c/vcache-tokens.mjs)"
// Prints `export NAME='value'` lines:
//   VC_ISSUER, VC_AUDIENCE   the issuer and audience of every token
//   VC_JWKS_AB, VC_JWKS_B    a JWKS of both keys, and of stub-rs256-b only
//   VC_TOKEN_A, VC_TOKEN_B   valid for an hour, signed by stub-rs256 / stub-rs256-b
//   VC_TOKEN_SHORT           by stub-rs256, expires 5 s after this script ran
//   VC_TOKEN_EXPIRED         by stub-rs256-b, expired 100 s ago
//   VC_TOKENS                40 valid tokens (subjects u0..u39, both keys), space-separated
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const keys = join(dirname(fileURLToPath(import.meta.url)), '..', 'keys');
const ISSUER = 'https://issuer.vcache.test';
const AUDIENCE = 'https://api.vcache.test';
const b64 = (buf) => Buffer.from(buf).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const jwk = (name) => JSON.parse(readFileSync(join(keys, `${name}.pub.jwk.json`), 'utf8'));

function token(key, sub, expIn) {
  const header = { alg: 'RS256', typ: 'at+jwt', kid: key };
  const claims = {
    iss: ISSUER, sub, aud: AUDIENCE, exp: now + expIn, iat: now, jti: `jti-${sub}`,
    client_id: 'rp', scope: 'api:read',
  };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const pem = createPrivateKey(readFileSync(join(keys, `${key}.pem`)));
  return `${input}.${b64(sign('sha256', Buffer.from(input), pem))}`;
}

const out = {
  VC_ISSUER: ISSUER,
  VC_AUDIENCE: AUDIENCE,
  VC_JWKS_AB: JSON.stringify({ keys: [jwk('stub-rs256'), jwk('stub-rs256-b')] }),
  VC_JWKS_B: JSON.stringify({ keys: [jwk('stub-rs256-b')] }),
  VC_TOKEN_A: token('stub-rs256', 'alice', 3600),
  VC_TOKEN_B: token('stub-rs256-b', 'bob', 3600),
  VC_TOKEN_SHORT: token('stub-rs256', 'short', 5),
  VC_TOKEN_EXPIRED: token('stub-rs256-b', 'old', -100),
  VC_TOKENS: Array.from({ length: 40 }, (_, i) => token(i % 2 ? 'stub-rs256-b' : 'stub-rs256', `u${i}`, 3600)).join(' '),
};
for (const [k, v] of Object.entries(out)) {
  if (v.includes("'")) throw new Error(`${k} contains a quote`);
  console.log(`export ${k}='${v}'`);
}
