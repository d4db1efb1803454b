"""Peer for `make bench`: simple_openid_connect 2.5.0 OpenidClient.decode_id_token, verifying
the identical tokens soidc decodes. Prints "R simple_openid_connect.<ALG> <tokens/s>" and
"R simple_openid_connect.<ALG>.cpu <tokens per CPU-second>" (or "rejected" when the library
refuses a token's algorithm) with the key set jwks1-<ALG>.json (the token's key alone), then
"R simple_openid_connect.k3.<ALG> ..." with jwks3.json (three keys with kids, the token's key
not first).

    python bench.py DIR SECS

A client per key set is built from the provider metadata (OpenidClient.from_issuer_config),
its jwks_uri pointing at that set on the local stub server. Its keys are
loaded once before timing: the first decode fetches the JWKS from the local stub server and the
client caches it (min_jwks_cache_duration, 10 minutes), exactly as in production. (2.5.0 ignores
the deprecated provider_keys= constructor argument, so this is the way to preload keys.)
"""

import json
import sys
import time
from pathlib import Path

from simple_openid_connect.client import OpenidClient
from simple_openid_connect.data import ProviderMetadata


def main() -> None:
    d = Path(sys.argv[1])
    secs = float(sys.argv[2])
    params = json.loads((d / "params.json").read_text())
    meta = ProviderMetadata.model_validate_json((d / "metadata.json").read_text())
    base = str(meta.jwks_uri).rsplit("/", 1)[0]
    runs = [(f"simple_openid_connect.{a}", a, f"jwks1-{a}.json") for a in params["algs"]]
    runs += [(f"simple_openid_connect.k3.{a}", a, "jwks3.json") for a in params["algs3"]]
    for key, alg, jwks_file in runs:
        m = meta.model_copy(update={"jwks_uri": f"{base}/{jwks_file}"})
        client = OpenidClient.from_issuer_config(m, None, params["client_id"], None)
        client.provider_keys  # fetch and cache the JWKS once, before any timing
        token = (d / f"{alg}.jwt").read_text().strip()

        def decode() -> None:
            client.decode_id_token(token, nonce=params["nonce"])

        try:
            decode()
        except Exception as e:  # noqa: BLE001 - report what the library says and go on
            print(f"R {key} rejected", flush=True)
            print(f"simple_openid_connect rejects the {alg} token ({jwks_file}): {type(e).__name__}: {e}", file=sys.stderr)
            continue
        warm = time.perf_counter()
        while time.perf_counter() - warm < 0.15:
            decode()
        n = 0
        cpu0 = time.process_time()
        start = time.perf_counter()
        while True:
            decode()
            n += 1
            el = time.perf_counter() - start
            if el >= secs:
                break
        cpu = time.process_time() - cpu0
        print(f"R {key} {n / el:.1f}", flush=True)
        print(f"R {key}.cpu {n / cpu:.1f}", flush=True)


if __name__ == "__main__":
    main()
