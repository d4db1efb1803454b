// Generates the committed TEST-ONLY key material in this directory.
// Run once: `node tests/keys/generate.mjs` (overwrites existing files).
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const specs = [
  ['client-rs256', 'rsa', { modulusLength: 2048 }, 'RS256'],
  ['client-es256', 'ec', { namedCurve: 'P-256' }, 'ES256'],
  ['client-ed25519', 'ed25519', {}, 'EdDSA'],
  ['stub-rs256', 'rsa', { modulusLength: 2048 }, 'RS256'],
  ['stub-rs256-b', 'rsa', { modulusLength: 2048 }, 'RS256'],
  ['stub-es256', 'ec', { namedCurve: 'P-256' }, 'ES256'],
  ['stub-es384', 'ec', { namedCurve: 'P-384' }, 'ES384'],
  ['stub-ed25519', 'ed25519', {}, 'EdDSA'],
];

for (const [name, type, options, alg] of specs) {
  const { privateKey, publicKey } = generateKeyPairSync(type, options);
  writeFileSync(join(here, `${name}.pem`), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: name, use: 'sig', alg };
  writeFileSync(join(here, `${name}.pub.jwk.json`), `${JSON.stringify(jwk, null, 2)}\n`);
  if (name === 'stub-rs256') {
    writeFileSync(join(here, `${name}.pub.pem`), publicKey.export({ format: 'pem', type: 'spki' }));
  }
}
console.log(`wrote ${specs.length} key pairs to ${here}`);
