// Peer for `make bench`: github.com/coreos/go-oidc/v3 IDTokenVerifier with a static key
// set (keys parsed once), verifying the identical tokens soidc decodes. It prints
// "R go-oidc.<ALG> <tokens/s>" and "R go-oidc.<ALG>.cpu <tokens per CPU-second>" lines
// (one timed run per algorithm, key set jwks1-<ALG>.json: the token's key alone), then the
// same as "R go-oidc.k3.<ALG> ..." with jwks3.json (three keys, the token's not first; a
// StaticKeySet tries its keys in turn) for bench/run.sh.
//
//	go-bench DIR SECS
package main

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

type params struct {
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Nonce    string   `json:"nonce"`
	Algs     []string `json:"algs"`
	Algs3    []string `json:"algs3"`
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-bench:", err)
		os.Exit(1)
	}
}

func read(dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	must(err)
	return b
}

// cpuSeconds is the process CPU time (user + system, all threads: the GC included).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func main() {
	if len(os.Args) != 3 {
		must(fmt.Errorf("usage: go-bench DIR SECS"))
	}
	dir := os.Args[1]
	secs, err := strconv.ParseFloat(os.Args[2], 64)
	must(err)
	var p params
	must(json.Unmarshal(read(dir, "params.json"), &p))
	// A verifier per key set: the token's key alone, and the provider-like three keys.
	verifierFor := func(file string) *oidc.IDTokenVerifier {
		var set jose.JSONWebKeySet
		must(json.Unmarshal(read(dir, file), &set))
		keys := make([]crypto.PublicKey, 0, len(set.Keys))
		for _, k := range set.Keys {
			keys = append(keys, k.Key)
		}
		return oidc.NewVerifier(p.Issuer, &oidc.StaticKeySet{PublicKeys: keys}, &oidc.Config{
			ClientID:             p.ClientID,
			SupportedSigningAlgs: p.Algs,
		})
	}
	type run struct{ key, alg, file string }
	var runs []run
	for _, alg := range p.Algs {
		runs = append(runs, run{"go-oidc." + alg, alg, "jwks1-" + alg + ".json"})
	}
	for _, alg := range p.Algs3 {
		runs = append(runs, run{"go-oidc.k3." + alg, alg, "jwks3.json"})
	}
	ctx := context.Background()
	for _, r := range runs {
		alg := r.alg
		verifier := verifierFor(r.file)
		token := strings.TrimSpace(string(read(dir, alg+".jwt")))
		// A full decode as an application does it: verify (signature, iss, aud, exp),
		// check the nonce, and take every claim out (soidc returns all claims too).
		decode := func() error {
			t, err := verifier.Verify(ctx, token)
			if err != nil {
				return err
			}
			if t.Nonce != p.Nonce {
				return fmt.Errorf("nonce mismatch")
			}
			var claims map[string]any
			return t.Claims(&claims)
		}
		if err := decode(); err != nil {
			fmt.Printf("R %s rejected\n", r.key)
			fmt.Fprintf(os.Stderr, "go-oidc rejects the %s token (%s): %v\n", alg, r.file, err)
			continue
		}
		warm := time.Now()
		for time.Since(warm) < 150*time.Millisecond {
			must(decode())
		}
		limit := time.Duration(secs * float64(time.Second))
		cpu0 := cpuSeconds()
		start := time.Now()
		n := 0
		for {
			must(decode())
			n++
			if time.Since(start) >= limit {
				break
			}
		}
		wall := time.Since(start).Seconds()
		cpu := cpuSeconds() - cpu0
		fmt.Printf("R %s %.1f\n", r.key, float64(n)/wall)
		fmt.Printf("R %s.cpu %.1f\n", r.key, float64(n)/cpu)
	}
}
