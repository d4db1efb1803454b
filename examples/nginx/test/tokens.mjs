// node tokens.mjs ISSUER CLIENT SECRET RESOURCE SCOPE COUNT: prints COUNT distinct access
// tokens of the provider (client_credentials), one per line, fetched a few at a time
// (bench.sh: the realistic token mix of the verified-cache benchmark).
const [issuer, client, secret, resource, scope, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!issuer || !(count > 0)) {
  console.error('usage: node tokens.mjs ISSUER CLIENT SECRET RESOURCE SCOPE COUNT');
  process.exit(2);
}
const auth = 'Basic ' + Buffer.from(`${client}:${secret}`).toString('base64');
const body = new URLSearchParams({ grant_type: 'client_credentials', scope, resource }).toString();
const tokens = new Set();
async function one() {
  const r = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const doc = await r.json();
  if (r.status !== 200 || typeof doc.access_token !== 'string') {
    throw new Error(`token endpoint answered ${r.status}: ${JSON.stringify(doc)}`);
  }
  tokens.add(doc.access_token);
}
async function worker() {
  while (tokens.size < count) await one();
}
await Promise.all(Array.from({ length: 8 }, worker));
process.stdout.write([...tokens].slice(0, count).join('\n') + '\n');
