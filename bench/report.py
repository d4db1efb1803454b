"""Turns the "R <key> <value>" lines of one bench/run.sh run into the markdown report.

    python3 report.py RESULTS STDERR_LOG      (run metadata comes in BENCH_* variables)

Standard library only. Every figure is the median over the rounds of this run; ratios are
ratios of those medians, so every ratio compares figures measured in the same run.

Rates come twice: per wall-clock second (what the issue asks for) and per CPU-second of the
measuring process (key suffix `.cpu`; for n threads: operations x n / CPU-seconds, the rate
with one core per thread). On a machine shared with other work the wall-clock rate falls with
every preemption, the CPU-second rate does not; both are judged against each target.
"""

import os
import re
import statistics
import sys
from collections import defaultdict

ALGS = ["RS256", "ES256", "EdDSA"]
DECODE_TARGET = {"RS256": 0.85, "ES256": 0.93, "EdDSA": 0.93}
# (key prefix, label, minimum soidc/peer ratio on RS256)
PEERS = [
    ("simple_openid_connect", "simple_openid_connect 2.5.0 `decode_id_token` (Python)", 5.0),
    ("jose", "jose 6.2.18 `jwtVerify`, local JWKS (Node)", 5.0),
    ("openidconnect", "openidconnect 4.1.0 ID token verifier (Rust)", 10.0),
    ("go-oidc", "go-oidc v3.21.0 `IDTokenVerifier`, `StaticKeySet` (Go)", 2.0),
]


def load(path):
    values = defaultdict(list)
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "R":
                values[parts[1]].append(parts[2])
    return values


V = load(sys.argv[1])
ERRORS = open(sys.argv[2]).read() if len(sys.argv) > 2 and os.path.exists(sys.argv[2]) else ""


def nums(key):
    return [float(v) for v in V.get(key, []) if v != "rejected"]


def med(key):
    xs = nums(key)
    return statistics.median(xs) if xs else None


def rejected(key):
    return bool(V.get(key)) and all(v == "rejected" for v in V[key])


def rate(x):
    if x is None:
        return "–"
    return f"{x / 1000:.1f} k/s" if x >= 1000 else f"{x:.0f} /s"


def spread(key, fmt):
    xs = nums(key)
    return f"{fmt(min(xs))} – {fmt(max(xs))}" if len(xs) >= 2 else ""


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def rx(x, suffix=""):
    return "–" if x is None else f"{x:.2f}×{suffix}"


tally = {"met": 0, "missed": 0}


def judge(ok_wall, ok_cpu=None):
    """Verdict text from the wall-clock and the CPU-second comparison (None = not judged)."""
    if ok_wall is None and ok_cpu is None:
        return ""
    if ok_cpu is None:
        ok = ok_wall
        tally["met" if ok else "missed"] += 1
        return "**met**" if ok else "**missed**"
    if ok_wall is None:
        tally["met" if ok_cpu else "missed"] += 1
        return "**met** (CPU)" if ok_cpu else "**missed** (CPU)"
    if ok_wall and ok_cpu:
        tally["met"] += 1
        return "**met**"
    if not ok_wall and not ok_cpu:
        tally["missed"] += 1
        return "**missed**"
    tally["missed"] += 1
    return "**missed** on wall clock, met per CPU-s" if ok_cpu else "**missed** per CPU-s, met on wall clock"


def at_least(r, t):
    return None if r is None else r >= t


def reason(peer, alg):
    m = re.search(rf"{re.escape(peer)} rejects the {alg} token: (.*)", ERRORS)
    return m.group(1).strip() if m else "rejects the token"


rows = []


def row(area, what, value="", runs="", cpu="", r_wall="", r_cpu="", target="", verdict=""):
    rows.append((area, what, value, runs, cpu, r_wall, r_cpu, target, verdict))


def rate_row(area, what, key, pair=None, ref_name="", target=None):
    """A rate row. `pair`: the paired ratio measured in the same process, in alternating
    slices (median over the rounds of the per-round median over the slice pairs)."""
    w, c = med(key), med(key + ".cpu")
    rw, rc = (med(pair), med(pair + ".cpu")) if pair else (None, None)
    verdict = judge(at_least(rw, target), at_least(rc, target)) if target is not None else ""
    row(area, what, rate(w), spread(key, rate), rate(c),
        rx(rw, " " + ref_name) if pair else "", rx(rc, " " + ref_name) if pair else "",
        f"≥ {target:.2f}× {ref_name}" if target is not None else "", verdict)


# ---------------------------------------------------------------- decode
A = "decode"
for alg in ALGS:
    rate_row(A, f"**limit**: aws-lc-rs `ParsedPublicKey::verify_sig`, {alg}, 1 thread", f"raw.{alg}.t1")
for alg in ALGS:
    k = f"rawproc.{alg}.t1"
    if med(k) is not None:
        rate_row(A, f"limit, cross-check: the same verify timed in a Rust process of its own, {alg}", k)
for alg in ALGS:
    rate_row(A, f"**soidc** `soidc_decode_id_token` via the C ABI, {alg}, 1 thread (options NULL; claims JSON out, freed)",
             f"soidc.id.{alg}.t1", f"pair.soidc_vs_limit.{alg}", "limit", DECODE_TARGET[alg])
for alg in ALGS:
    rate_row(A, f"soidc, the same with options `{{\"nonce\":…}}` (every peer below checks the nonce), {alg}",
             f"soidc.idnonce.{alg}.t1", f"pair.soidcnonce_vs_limit.{alg}", "limit")
rate_row(A, "soidc `soidc_decode_access_token` (RFC 9068, typ at+jwt, options `{\"audience\":…}`), RS256, 1 thread",
         "soidc.at.RS256.t1", "pair.at_vs_limit.RS256", "limit")
rate_row(A, "soidc `soidc_decode_access_token`, DPoP-bound (`cnf.jkt`) RS256 token + ES256 proof (RFC 9449: "
            "two signatures, replay cache full and evicting), 1 thread",
         "soidc.atdpop.RS256.t1", "pair.atdpop_vs_at.RS256", "bearer at+jwt", 0.45)
for alg in ALGS:
    rate_row(A, f"limit, {alg}, 2 threads (what the machine gives 2 threads during this run)",
             f"raw.{alg}.t2", f"pair.limit_2t_vs_1t.{alg}", "limit 1 thread")
for alg in ALGS:
    rate_row(A, f"**soidc**, {alg}, 2 threads on one shared client", f"soidc.id.{alg}.t2", f"pair.soidc_2t_vs_1t.{alg}",
             "soidc 1 thread", 1.9)

# ---------------------------------------------------------------- peers
A = "peers"
for key, label, need in PEERS:
    for alg in ALGS:
        k = f"{key}.{alg}"
        if rejected(k):
            row(A, f"{label}, {alg}", "rejects", "", "", reason(key, alg))
            continue
        w, c = med(k), med(k + ".cpu")
        rw = ratio(med(f"soidc.idnonce.{alg}.t1"), w)
        rc = ratio(med(f"soidc.idnonce.{alg}.t1.cpu"), c)
        target, verdict = "", ""
        if alg == "RS256":
            ceiling = ratio(med(f"raw.{alg}.t1.cpu"), c)
            target = f"soidc ≥ {need:.0f}× (the limit itself: {rx(ceiling)} per CPU-s)"
            verdict = judge(at_least(rw, need), at_least(rc, need))
        row(A, f"{label}, {alg}", rate(w), spread(k, rate), rate(c), rx(rw, " (soidc/peer)"), rx(rc, " (soidc/peer)"),
            target, verdict)

# ---------------------------------------------------------------- HTTP
A = "HTTP"
us = lambda x: "–" if x is None else f"{x:.1f} µs"
cpu_s, cpu_u = med("http.soidc.cpu_us"), med("http.ureq.cpu_us")
cpu_t, cpu_w = med("http.ureq_timeout.cpu_us"), med("http.wrk.cpu_us")
r = ratio(cpu_s, cpu_u)
row(A, "**soidc** `soidc_client_credentials_grant` via the C ABI, 1 thread: client CPU per round trip (user+sys)",
    us(cpu_s), spread("http.soidc.cpu_us", us), "", "", rx(r, " ureq"), "≤ 1.20× plain client",
    judge(None, None if r is None else r <= 1.2))
row(A, "soidc client credentials: round trips per second", rate(med("http.soidc.rps")), spread("http.soidc.rps", rate))
reqs, conns = nums("http.soidc.requests"), nums("http.soidc.connections")
if reqs and conns:
    reused = all(c == 1 for c in conns)
    row(A, "soidc: TCP connections the token endpoint accepted per client (200 warm-up + timed requests)",
        f"{int(max(conns))} per client", f"{int(sum(reqs))} requests, {int(sum(conns))} connections", "",
        f"{sum(reqs) / sum(conns):.0f} requests per connection", "", "reused", judge(reused))
row(A, "plain keep-alive client: one ureq 3.5 agent (default config), same POST: CPU per round trip", us(cpu_u),
    spread("http.ureq.cpu_us", us), "", "", "1.00× (reference)")
row(A, "plain keep-alive client (ureq): round trips per second", rate(med("http.ureq.rps")), spread("http.ureq.rps", rate))
if cpu_t is not None:
    row(A, "diagnostic: the same ureq agent with `timeout_global` set (as soidc's): CPU per round trip", us(cpu_t),
        spread("http.ureq_timeout.cpu_us", us), "", "", rx(ratio(cpu_t, cpu_u), " ureq"))
cpu_r = med("http.ureq_timeout_resolver.cpu_us")
if cpu_r is not None:
    row(A, "diagnostic: the same, with a resolver that answers IP literals itself (no thread): CPU per round trip",
        us(cpu_r), spread("http.ureq_timeout_resolver.cpu_us", us), "", "", rx(ratio(cpu_r, cpu_u), " ureq"))
if cpu_w is not None:
    row(A, "reference: `wrk -t1 -c1` (C, epoll), same POST: CPU per round trip", us(cpu_w), spread("http.wrk.cpu_us", us),
        "", "", rx(ratio(cpu_s, cpu_w), " (soidc/wrk)"))
    row(A, "reference: `wrk -t1 -c1`: round trips per second", rate(med("http.wrk.rps")), spread("http.wrk.rps", rate))

# ---------------------------------------------------------------- footprint
A = "footprint"
so = med("footprint.so_bytes")
if so:
    row(A, "`libsoidc.so`, stripped copy", f"{so / 1e6:.2f} MB", "", "",
        f"unstripped {med('footprint.so_unstripped_bytes') / 1e6:.2f} MB")
per = med("footprint.rss_per_client_kb")
if per is not None:
    row(A, f"VmRSS growth per client handle ({int(med('footprint.clients'))} clients from config in one process)",
        f"{per:.1f} KiB", "", "", f"first client of a process: {med('footprint.first_client_kb'):.0f} KiB")
after, warm, n = med("net.jwks_requests_after"), med("net.jwks_requests_warmup"), med("net.decodes")
if after is not None:
    row(A, f"JWKS requests at the stub during {int(n)} cached decodes (after a warm-up that fetched {int(warm)})",
        f"{int(after)}", "", "", "", "", "0", judge(after == 0))

# ---------------------------------------------------------------- print
env = os.environ.get
sizes = ", ".join(f"{a} {int(med('token_bytes.' + a))} B" for a in ALGS if med("token_bytes." + a))
print(f"# soidc benchmark, {env('BENCH_DATE', '?')}")
print()
print(f"- **machine**: {env('BENCH_CPU', '?')}, nproc {env('BENCH_NPROC', '?')}; load average "
      f"{env('BENCH_LOAD_START', '?')} at the start, {env('BENCH_LOAD_END', '?')} at the end. On a shared machine "
      f"wall-clock rates fall with the load; the per-CPU-second column (operations / CPU time of the measuring "
      f"process, × threads) does not, and ratios within this run are what count.")
print(f"- **run**: commit {env('BENCH_COMMIT', '?')}; {env('BENCH_ROUNDS', '?')} rounds, each measuring every figure "
      f"once for {env('BENCH_SECS', '?')} s after a 150 ms warm-up, the programs interleaved; value = median of the "
      f"rounds, runs = min – max; {env('BENCH_VERSIONS', '')}; bench/run.sh took {env('BENCH_WALL_S', '?')} s.")
print("- **method**: the limit and soidc (1 and 2 threads, nonce option, access token) run in one process "
      "(bench/c/decode_bench.c, the limit through bench/rust's libsoidc_bench_limit.so) in alternating 0.1 s slices; "
      "their ratios are paired (per slice pair, median) and so hold under load. Peers run in their own processes in "
      "the same rounds; their ratios compare medians, with soidc's nonce-checking figure (every peer checks the nonce).")
print(f"- **tokens**: the same files for every row, signed with tests/keys/stub-*: ID tokens ({sizes}; 21 claims: "
      f"iss, sub, aud, exp far ahead, iat, auth_time, nonce, at_hash, sid, azp, acr, amr, email, name, …) and an "
      f"RFC 9068 access token ({int(med('token_bytes.at') or 0)} B); the token endpoint answers "
      f"{int(med('net.token_response_bytes') or 0)} B over HTTP/1.1 keep-alive on 127.0.0.1.")
print(f"- **targets**: {tally['met']} met, {tally['missed']} missed (a target counts as met only when it is met both "
      f"per wall-clock second and per CPU-second).")
print()
print("| area | measurement | value | runs (min – max) | per CPU-second | ratio (wall clock) | ratio (per CPU-s) | target | verdict |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
