"""Summarises `perf report --no-children --sort dso,symbol --stdio -g none` output (read from
stdin) for `bench/run.sh --profile`: the share of samples per cost category, then the top
symbols. Standard library only."""

import re
import sys

CATEGORIES = [
    ("crypto (aws-lc: bignum, SHA-2, EC, Ed25519, EVP)", r"(?i)aws_lc|^bn_|sha256|sha512|RSA|ec_GFp|p256|25519|fiat|EVP|ecdsa|bignum"),
    ("kernel (syscalls, thread creation, scheduling)", r"^\[k\]"),
    ("malloc / free", r"malloc|free|unlink_chunk|realloc|consolidate|tcache|__rust_alloc|__rdl_|__rust_dealloc|finish_grow|no_alloc_shim"),
    ("serde_json: serialise (claims / result to JSON)", r"serde_json::ser|itoa|ryu|Serialize|to_json"),
    ("serde_json: parse", r"serde|parse_integer"),
    ("IndexMap + SipHash (serde_json preserve_order Map)", r"indexmap|hashbrown|hash_one|sip::|Hasher"),
    ("base64", r"base64"),
    ("UTF-8 validation", r"from_utf8|run_utf8_validation"),
    ("memcpy / memset / memchr / memcmp", r"memmove|memcpy|memset|memchr|memcmp|strlen"),
    ("ureq / ureq-proto / url / idna (HTTP client, URL parsing)", r"ureq|url::|http::|httparse|idna|form_urlencoded"),
    ("thread creation in user space (pthread, std::thread)", r"pthread|start_thread|clone|std::thread|thread::"),
]


def main() -> None:
    rows = []
    for line in sys.stdin:
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(\[[.k]\])\s+(.*)", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()))
    totals = {}
    for pct, dso, kind, sym in rows:
        key = "other"
        for name, pattern in CATEGORIES:
            subject = "[k]" if kind == "[k]" else sym
            if re.search(pattern, subject):
                key = name
                break
        totals[key] = totals.get(key, 0.0) + pct
    print("share of samples by category:")
    for name, pct in sorted(totals.items(), key=lambda x: -x[1]):
        print(f"  {pct:6.2f}%  {name}")
    print()
    print("top symbols:")
    for pct, dso, kind, sym in rows[:40]:
        print(f"  {pct:6.2f}%  {dso:18.18s} {sym[:110]}")


if __name__ == "__main__":
    main()
