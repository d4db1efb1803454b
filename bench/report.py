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
# Issue 18's targets.
DECODE_TARGET = {"RS256": 0.88, "ES256": 0.95, "EdDSA": 0.95}
# (key prefix, label, minimum soidc/peer ratio on RS256, judged with the three-key JWKS)
PEERS = [
    ("simple_openid_connect", "simple_openid_connect 2.5.0 `decode_id_token` (Python)", 3.5),
    ("jose", "jose 6.2.18 `jwtVerify`, `createLocalJWKSet` (Node)", 7.0),
    ("openidconnect", "openidconnect 4.1.0 ID token verifier (Rust)", 10.0),
    ("go-oidc", "go-oidc v3.21.0 `IDTokenVerifier`, `StaticKeySet` (Go)", 5.0),
]
# The key sets the peer rows are measured with (bench/rust `gen` writes them): the key of
# `<peer>.<ALG>` rows, of `<peer>.k3.<ALG>` rows.
JWKS1 = "JWKS: the token's key alone"
JWKS3 = {"RS256": "JWKS: 3 keys (RSA, EC, RSA), the token's last", "ES256": "JWKS: 3 keys (RSA, EC, RSA), the token's 2nd"}
JWKS3_ALGS = ["RS256", "ES256"]

# nginx (examples/nginx/test/bench.sh). Its `RESULT <name> <value> <unit>` lines become rows:
# each ratio named here one row (protected / unprotected location of the same nginx, same
# round), with the two rates it divides; any other RESULT line a row of its own. The issue
# 18 target (>= 0.9x the unprotected location with the verified-token cache and a
# realistic token mix) is judged on the ratio whose target is set. Adjust the names here
# when bench.sh renames its results.
#   (ratio name, the same ratio per worker CPU-second, protected rate name, unprotected rate
#    name, label, target or None)
NGINX_RATIOS = [
    ("mix_cached_ratio", "mix_cached_cpu_ratio", "mix_cached_rps", "mix_open_cached_rps",
     "**token mix with the verified-token cache** (`soidc_verified_cache`): 1,000 valid tokens cycling + 5 % invalid", 0.9),
    ("mix_ratio", "mix_cpu_ratio", "mix_rps", "mix_open_rps", "token mix without the cache", None),
    ("one_token_cached_ratio", "one_token_cached_cpu_ratio", "one_token_cached_rps", "open_cached_rps",
     "one token, every request, with the cache", None),
    ("one_token_ratio", "one_token_cpu_ratio", "one_token_rps", "open_rps", "one token, every request, without the cache",
     None),
]
NGINX_TARGET_NAME = "mix_cached_ratio"
NGINX_LABELS = {"load": "1-minute load average before the nginx runs",
                "mix_cached_worker_us": "token mix with the cache: nginx worker CPU per request",
                "mix_open_cached_worker_us": "token mix, the same nginx unprotected: worker CPU per request",
                "mix_invalid_refused": "invalid tokens of the mix refused with 401, all rounds (each must be)"}
NGINX_TARGET = 0.9
# bench.sh before it printed RESULT lines: "soidc_bearer off/on ... N req/s" lines, read as
# these rate names (one token, no cache).
NGINX_OLD_LINES = {"off": "open_rps", "on": "one_token_rps"}
# PAM (examples/pam/test/bench.sh): its `RESULT <case>_<figure> <value> <unit>` lines become
# one row per case (mode and cache, e.g. pam_token_jwt_warm), the figures named by these
# suffixes in its columns; any other RESULT line is a row of its own. Issue 18 sets no
# threshold for them (logins per second and provider requests per login, warm and cold), so
# they are reported, not judged.
PAM_LABELS = {"pam_permit": "the floor, `pam_permit.so` (libpam and a module load, no soidc)",
              "pam_load_before": "1-minute load average before the PAM runs",
              "pam_load_after": "1-minute load average after the PAM runs"}
PAM_RATE = "_logins_per_s"                    # value column
PAM_CPU_RATE = "_logins_per_host_cpu_s"       # per CPU-second column
PAM_DETAILS = [                               # in the measurement text
    ("_requests_per_login", "provider requests per login"),
    ("_host_cpu_ms_per_login", "host CPU ms per login"),
    ("_provider_cpu_ms_per_login", "provider CPU ms per login"),
    ("_first_login_ms", "first login of a process ms"),
    ("_first_login_host_cpu_ms", "its host CPU ms"),
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


def rx(x, suffix="", target=None):
    """A ratio, 2 decimals; 3 when 2 would hide that it misses `target` (0.948 is not 0.95)."""
    if x is None:
        return "–"
    if target is not None and x < target <= round(x, 2):
        return f"{x:.3f}×{suffix}"
    return f"{x:.2f}×{suffix}"


tally = {"met": 0, "missed": 0, "not measured": 0}


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


def reason(peer, alg, jwks_file):
    m = re.search(rf"{re.escape(peer)} rejects the {alg} token(?: \({re.escape(jwks_file)}\))?: (.*)", ERRORS)
    return m.group(1).strip() if m else "rejects the token"


rows = []


def row(area, what, value="", runs="", cpu="", r_wall="", r_cpu="", target="", verdict=""):
    rows.append((area, what, value, runs, cpu, r_wall, r_cpu, target, verdict))


def rate_row(area, what, key, pair=None, ref_name="", target=None, note=""):
    """A rate row. `pair`: the paired ratio measured in the same process, in alternating
    slices (median over the rounds of the per-round median over the slice pairs); `note`
    follows the target."""
    w, c = med(key), med(key + ".cpu")
    rw, rc = (med(pair), med(pair + ".cpu")) if pair else (None, None)
    verdict = judge(at_least(rw, target), at_least(rc, target)) if target is not None else ""
    row(area, what, rate(w), spread(key, rate), rate(c),
        rx(rw, " " + ref_name, target) if pair else "", rx(rc, " " + ref_name, target) if pair else "",
        (f"≥ {target:.2f}× {ref_name}" + note) if target is not None else "", verdict)


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
    rate_row(A, f"soidc, the same with options `{{\"nonce\":…}}` (every peer below checks the nonce), {alg}, "
                f"{JWKS1}", f"soidc.idnonce.{alg}.t1", f"pair.soidcnonce_vs_limit.{alg}", "limit")
for alg in JWKS3_ALGS:
    rate_row(A, f"soidc, the same, {alg}, {JWKS3[alg]}", f"soidc.idnonce3.{alg}.t1",
             f"pair.soidcnonce3_vs_limit.{alg}", "limit")
rate_row(A, "soidc `soidc_decode_access_token` (RFC 9068, typ at+jwt, options `{\"audience\":…}`), RS256, 1 thread",
         "soidc.at.RS256.t1", "pair.at_vs_limit.RS256", "limit")
rate_row(A, "soidc `soidc_decode_access_token`, DPoP-bound (`cnf.jkt`) RS256 token + ES256 proof (RFC 9449: "
            "two signatures, replay cache full and evicting), 1 thread",
         "soidc.atdpop.RS256.t1", "pair.atdpop_vs_at.RS256", "bearer at+jwt", 0.45)
for alg in ALGS:
    rate_row(A, f"limit, {alg}, 2 threads (what the machine gives 2 threads during this run)",
             f"raw.{alg}.t2", f"pair.limit_2t_vs_1t.{alg}", "limit 1 thread")
for alg in ALGS:
    # issue 18: wall clock "when the machine is otherwise idle (report the load next to the
    # figure)"; what the machine gave 2 threads is the limit's own 2-thread ratio
    lw = med(f"pair.limit_2t_vs_1t.{alg}")
    rate_row(A, f"**soidc**, {alg}, 2 threads on one shared client", f"soidc.id.{alg}.t2", f"pair.soidc_2t_vs_1t.{alg}",
             "soidc 1 thread", 1.9,
             f" (wall clock: on an otherwise idle machine; load {os.environ.get('BENCH_LOAD_START', '?').split()[0]} "
             f"at the start of this run, the limit itself reached {rx(lw)} on 2 threads)")

# ---------------------------------------------------------------- peers
A = "peers"
for key, label, need in PEERS:
    for alg in ALGS:
        sets = [("", JWKS1, "")] + ([(".k3", JWKS3[alg], "3")] if alg in JWKS3_ALGS else [])
        for sub, jwks_label, soidc_sub in sets:
            k = f"{key}{sub}.{alg}"
            what = f"{label}, {alg}, {jwks_label}"
            if rejected(k):
                row(A, what, "rejects", "", "", reason(key, alg, "jwks3.json" if sub else f"jwks1-{alg}.json"))
                continue
            if med(k) is None:
                row(A, what, "–", "", "", "not measured (no figure in this run)")
                continue
            w, c = med(k), med(k + ".cpu")
            # soidc decoding the same token with the same key set, the nonce checked
            s_key = f"soidc.idnonce{soidc_sub}.{alg}.t1"
            rw, rc = ratio(med(s_key), w), ratio(med(s_key + ".cpu"), c)
            target, verdict = "", ""
            if alg == "RS256" and sub:
                ceiling = ratio(med(f"raw.{alg}.t1.cpu"), c)
                k1 = f"{key}.{alg}"
                r1w = ratio(med(f"soidc.idnonce.{alg}.t1"), med(k1))
                r1c = ratio(med(f"soidc.idnonce.{alg}.t1.cpu"), med(k1 + ".cpu"))
                target = (f"soidc ≥ {need:g}×, judged on this 3-key row (1 key: {rx(r1w)} wall, {rx(r1c)} per CPU-s; "
                          f"the limit itself: {rx(ceiling)} per CPU-s)")
                verdict = judge(at_least(rw, need), at_least(rc, need))
            elif alg == "RS256":
                target = f"(soidc ≥ {need:g}× is judged on the 3-key row below)"
            t = need if (alg == "RS256" and sub) else None
            row(A, what, rate(w), spread(k, rate), rate(c), rx(rw, " (soidc/peer)", t), rx(rc, " (soidc/peer)", t),
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

# ---------------------------------------------------------------- nginx, PAM
def part_lines(name):
    """(RESULT entries [(name, value, unit)], raw text, why it has none) of an integrated script."""
    path = os.environ.get(f"BENCH_{name.upper()}_OUT", "")
    text = open(path).read() if path and os.path.exists(path) else ""
    results = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "RESULT":
            try:
                results.append((parts[1], float(parts[2]), " ".join(parts[3:])))
            except ValueError:
                pass
    why = ""
    if med(f"part.{name}.missing"):
        why = f"not run: examples/{name}/test/bench.sh is not on this commit"
    elif med(f"part.{name}.status") is None:
        why = "not run (left out: BENCH_" + name.upper() + "=0)"
    elif med(f"part.{name}.status") != 0:
        err_path = os.environ.get(f"BENCH_{name.upper()}_ERR", "")
        err = open(err_path).read().strip().splitlines() if err_path and os.path.exists(err_path) else []
        why = f"bench.sh exited with {int(med(f'part.{name}.status'))}" + (f": {err[-1][:160]}" if err else "")
    return results, text, why


def fmt_value(v, unit):
    u = unit.lower()
    if u in ("rps", "req/s", "requests/s"):
        return f"{v:.0f} req/s" if v < 1000 else f"{v / 1000:.1f} k req/s"
    if u in ("logins/s", "login/s"):
        return f"{v:.1f} logins/s" if v < 1000 else f"{v / 1000:.1f} k logins/s"
    if u in ("x", "×", "ratio"):
        return f"{v:.2f}×"
    if u == "us":
        return f"{v:g} µs"
    return f"{v:g} {unit}".strip()


A = "nginx"
res, text, why = part_lines("nginx")
if not res and text:  # bench.sh before RESULT lines: read its human-readable lines
    for line in text.splitlines():
        m = re.match(r"soidc_bearer (off|on) .*?([0-9.]+) req/s", line)
        if m:
            res.append((NGINX_OLD_LINES[m.group(1)], float(m.group(2)), "req/s"))
    by_name = {n: v for n, v, _ in res}
    if "open_rps" in by_name and "one_token_rps" in by_name:
        res.append(("one_token_ratio", by_name["one_token_rps"] / by_name["open_rps"], "x"))
by_name = {n: (v, u) for n, v, u in res}
head = next((l for l in text.splitlines() if l.startswith("nginx ")), "")
used = set()
for rname, cname, prot, opn, label, target in NGINX_RATIOS:
    if rname not in by_name:
        continue
    used |= {rname, cname, prot, opn}
    r = by_name[rname][0]
    rc = by_name.get(cname, (None, ""))[0]
    pv, ov = by_name.get(prot, (None, ""))[0], by_name.get(opn, (None, ""))[0]
    value = f"{fmt_value(pv, 'req/s')} vs {fmt_value(ov, 'req/s')} unprotected" if pv and ov else ""
    row(A, f"{label}: requests/s protected / the same location unprotected, same nginx and round (`{rname}`"
           f"{', `' + cname + '`' if rc is not None else ''})", value, "",
        "", rx(r, " unprotected", target), rx(rc, " unprotected", target) if rc is not None else "",
        (f"≥ {target:.2f}× unprotected" if target else "reported"),
        judge(at_least(r, target), at_least(rc, target)) if target else "")
if NGINX_TARGET_NAME not in by_name:
    tally["not measured"] += 1
    row(A, f"**token mix with the verified-token cache**: protected / unprotected (`{NGINX_TARGET_NAME}`)", "–", "", "",
        why or f"bench.sh printed no `{NGINX_TARGET_NAME}` (the cache's figures are not on this commit, or "
               "bench/report.py NGINX_RATIOS needs the new name)", "", f"≥ {NGINX_TARGET:.2f}× unprotected",
        "**not measured**")
for n, (v, unit) in by_name.items():
    if n not in used:
        row(A, f"{NGINX_LABELS.get(n, '')} (`{n}`)".lstrip(), fmt_value(v, unit))
if head:
    row(A, f"setup: {head}", "")
elif why and res:
    row(A, "examples/nginx/test/bench.sh", why)

A = "PAM"
res, text, why = part_lines("pam")
cases = [n[: -len(PAM_RATE)] for n, _, _ in res if n.endswith(PAM_RATE)]
by_name = {n: (v, u) for n, v, u in res}
used = set()
for case in cases:
    rate_v = by_name[case + PAM_RATE][0]
    cpu_v = by_name.get(case + PAM_CPU_RATE, (None, ""))[0]
    details = [f"{label} {by_name[case + suf][0]:g}" for suf, label in PAM_DETAILS if case + suf in by_name]
    used |= {case + PAM_RATE, case + PAM_CPU_RATE} | {case + suf for suf, _ in PAM_DETAILS}
    what = f"{PAM_LABELS[case]} (`{case}`)" if case in PAM_LABELS else f"`{case}`"
    row(A, f"{what}: logins per second, one process (examples/pam/test/bench.sh, real provider)"
           f"{': ' + '; '.join(details) if details else ''}",
        fmt_value(rate_v, "logins/s"), "", "" if cpu_v is None else f"{cpu_v:g} logins/CPU-s", "", "", "reported")
for n, (v, unit) in by_name.items():
    if n not in used:
        row(A, f"{PAM_LABELS.get(n, '')} (`{n}`)".lstrip(), fmt_value(v, unit))
if why or not res:
    row(A, "logins per second and provider requests per login, warm and cold cache", "–", "", "",
        why or "no RESULT lines in bench.sh's output", "", "reported", "")

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
def part_secs():
    took = [f"{label} {int(med(f'part.{n}.secs'))} s" for n, label in (("nginx", "nginx"), ("pam", "PAM"))
            if med(f"part.{n}.secs") is not None]
    return f" ({', '.join(took)})" if took else ""


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
      "the same rounds; their ratios compare medians, with soidc's nonce-checking figure (every peer checks the nonce) "
      "measured with the same key set as the peer's row. nginx (examples/nginx/test/bench.sh: wrk against one nginx "
      "worker, the protected and the unprotected location in the same run) and PAM (examples/pam/test/bench.sh, "
      f"the real test provider) run once after the rounds{part_secs()}.")
print(f"- **tokens**: the same files for every row, signed with tests/keys/stub-*: ID tokens ({sizes}; 21 claims: "
      f"iss, sub, aud, exp far ahead, iat, auth_time, nonce, at_hash, sid, azp, acr, amr, email, name, …) and an "
      f"RFC 9068 access token ({int(med('token_bytes.at') or 0)} B); the token endpoint answers "
      f"{int(med('net.token_response_bytes') or 0)} B over HTTP/1.1 keep-alive on 127.0.0.1.")
print(f"- **targets**: {tally['met']} met, {tally['missed']} missed, {tally['not measured']} not measured (a target "
      f"counts as met only when it is met both per wall-clock second and per CPU-second where both exist). Peers: "
      f"each RS256 target is judged on the 3-key JWKS row (two RSA keys and one EC key with kids, the token's key "
      f"last, as providers publish several keys); the 1-key row (the token's key alone) is reported beside it. soidc "
      f"is compared on the same key set in the same run.")
print()
print("| area | measurement | value | runs (min – max) | per CPU-second | ratio (wall clock) | ratio (per CPU-s) | target | verdict |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
