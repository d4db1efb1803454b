// Peer for `make bench`: jose's jwtVerify with a local (preloaded) JWKS, one token at a
// time, verifying the identical tokens soidc decodes. Prints "R jose.<ALG> <tokens/s>" and
// "R jose.<ALG>.cpu <tokens per CPU-second>" with jwks1-<ALG>.json (the token's key alone),
// then "R jose.k3.<ALG> ..." with jwks3.json (three keys with kids, the token's not first).
//   node bench.mjs DIR SECS
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [dir, secsArg] = process.argv.slice(2);
const secs = Number(secsArg);
const read = (name) => readFileSync(join(dir, name), 'utf8').trim();
const params = JSON.parse(read('params.json'));
const options = { issuer: params.issuer, audience: params.client_id, algorithms: params.algs };

const runs = [
  ...params.algs.map((alg) => ({ key: `jose.${alg}`, alg, file: `jwks1-${alg}.json` })),
  ...params.algs3.map((alg) => ({ key: `jose.k3.${alg}`, alg, file: 'jwks3.json' })),
].map((r) => ({ ...r, jwks: createLocalJWKSet(JSON.parse(read(r.file))), token: read(`${r.alg}.jwt`) }));

// V8 compiles the hot paths during the first timed run otherwise, which would make the
// first row slower than the later ones: every configuration is run for a while first.
const warmAll = performance.now();
while (performance.now() - warmAll < 400) {
  for (const { jwks, token } of runs) {
    try {
      await jwtVerify(token, jwks, options);
    } catch {
      // a rejected token is reported below
    }
  }
}

for (const { key, alg, file, jwks, token } of runs) {
  // Verify signature, iss, aud, exp/iat; check the nonce; the claims object is the result.
  const decode = async () => {
    const { payload } = await jwtVerify(token, jwks, options);
    if (payload.nonce !== params.nonce) throw new Error('nonce mismatch');
    return payload;
  };
  try {
    await decode();
  } catch (e) {
    console.log(`R ${key} rejected`);
    console.error(`jose rejects the ${alg} token (${file}): ${e.message}`);
    continue;
  }
  const warm = performance.now();
  while (performance.now() - warm < 150) await decode();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  let el;
  do {
    await decode();
    n++;
  } while ((el = performance.now() - start) < secs * 1000);
  const cpu = process.cpuUsage(cpu0); // microseconds, the whole process (GC threads too)
  console.log(`R ${key} ${(n / (el / 1000)).toFixed(1)}`);
  console.log(`R ${key}.cpu ${(n / ((cpu.user + cpu.system) / 1e6)).toFixed(1)}`);
}
