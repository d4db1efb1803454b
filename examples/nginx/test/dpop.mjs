// DPoP proofs (RFC 9449 section 4.2) for features.sh, made with node's crypto only.
//   node dpop.mjs key FILE                                  a new P-256 private key (JWK)
//   node dpop.mjs proof FILE METHOD URL [TOKEN|-] [TWEAK]   prints a proof signed with it
// TWEAK: "noath" leaves ath out; "oldiat" dates iat an hour back.
import { generateKeyPairSync, createPrivateKey, createPublicKey, sign, randomUUID, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const b64u = (b) => Buffer.from(b).toString('base64url');
const [cmd, file, method, url, token, tweak] = process.argv.slice(2);

if (cmd === 'key' && file) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(file, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600 });
} else if (cmd === 'proof' && file && method && url) {
  const key = createPrivateKey({ key: JSON.parse(readFileSync(file, 'utf8')), format: 'jwk' });
  const pub = createPublicKey(key).export({ format: 'jwk' });
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y } };
  const claims = {
    jti: randomUUID(), htm: method, htu: url,
    iat: Math.floor(Date.now() / 1000) - (tweak === 'oldiat' ? 3600 : 0),
  };
  if (token && token !== '-' && tweak !== 'noath') {
    claims.ath = b64u(createHash('sha256').update(token).digest());
  }
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  process.stdout.write(`${input}.${b64u(sig)}`);
} else {
  process.stderr.write('usage: dpop.mjs key FILE | dpop.mjs proof FILE METHOD URL [TOKEN|-] [noath|oldiat]\n');
  process.exit(2);
}
