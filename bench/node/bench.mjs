// Peer for `make bench`: jose's jwtVerify with a local (preloaded) JWKS, one token at a
// time, verifying the identical tokens soidc decodes. Prints "R jose.<ALG> <tokens/s>" and
// "R jose.<ALG>.cpu <tokens per CPU-second>".
//   node bench.mjs DIR SECS
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [dir, secsArg] = process.argv.slice(2);
const secs = Number(secsArg);
const read = (name) => readFileSync(join(dir, name), 'utf8').trim();
const params = JSON.parse(read('params.json'));
const jwks = createLocalJWKSet(JSON.parse(read('jwks.json')));
const options = { issuer: params.issuer, audience: params.client_id, algorithms: params.algs };

for (const alg of params.algs) {
  const token = read(`${alg}.jwt`);
  // Verify signature, iss, aud, exp/iat; check the nonce; the claims object is the result.
  const decode = async () => {
    const { payload } = await jwtVerify(token, jwks, options);
    if (payload.nonce !== params.nonce) throw new Error('nonce mismatch');
    return payload;
  };
  try {
    await decode();
  } catch (e) {
    console.log(`R jose.${alg} rejected`);
    console.error(`jose rejects the ${alg} token: ${e.message}`);
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
  console.log(`R jose.${alg} ${(n / (el / 1000)).toFixed(1)}`);
  console.log(`R jose.${alg}.cpu ${(n / ((cpu.user + cpu.system) / 1e6)).toFixed(1)}`);
}
