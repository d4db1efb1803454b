#!/usr/bin/env bash
# Runs the soidc fuzz targets one after the other for a bounded time each, then
# minimizes each corpus and prints a summary table (executions, coverage, corpus).
#
# Usage: fuzz/run.sh [target...]        (default: every target of fuzz/Cargo.toml)
# Environment:
#   FUZZ_SECONDS     seconds per target (default 60)
#   FUZZ_TOOLCHAIN   rustup toolchain with -Zsanitizer support (default nightly)
#   FUZZ_SANITIZER   cargo fuzz -s value: address (default) or none (faster)
#   FUZZ_MINIMIZE    1 (default): minimize fuzz/corpus/<target> after the run; 0: keep it as is
#   FUZZ_MAX_FILES   warn when a minimized corpus has more files than this (default 200)
#   FUZZ_MAX_LEN     libFuzzer -max_len (default 4096)
#
# Inputs: fuzz/corpus/<t> (written: new inputs land here), fuzz/seeds/<t> (named,
# realistic starting inputs, read only) and fuzz/regressions/<t> (former crashes,
# read only). Crashes go to fuzz/artifacts/<t>/ (git-ignored): turn each into
# fuzz/regressions/<t>/<name> plus a named test in tests/fuzz_corpus.rs.
# Logs: fuzz/target/fuzz-logs/<t>.log. Exit status 1 if any target crashed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

secs="${FUZZ_SECONDS:-60}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
sanitizer="${FUZZ_SANITIZER:-address}"
minimize="${FUZZ_MINIMIZE:-1}"
max_files="${FUZZ_MAX_FILES:-200}"
max_len="${FUZZ_MAX_LEN:-4096}"
triple="$(rustc +"$toolchain" -vV | sed -n 's/^host: //p')"
bin_dir="$here/target/$triple/release"
log_dir="$here/target/fuzz-logs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"

if ! cargo +"$toolchain" fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +"$toolchain" fuzz list --fuzz-dir "$here")
fi

fuzz_flags=(--fuzz-dir "$here" -a -s "$sanitizer")
echo "== building ${#targets[@]} fuzz targets (cargo +$toolchain fuzz build, sanitizer $sanitizer)"
cargo +"$toolchain" fuzz build "${fuzz_flags[@]}"
mkdir -p "$log_dir"

# dir_stats DIR -> "files KB"
dir_stats() {
  local n kb
  n=$(find "$1" -type f 2>/dev/null | wc -l)
  kb=$(du -sk --apparent-size "$1" 2>/dev/null | cut -f1)
  echo "$n ${kb:-0}"
}

# Minimizes fuzz/corpus/$1 to the inputs that add coverage beyond the seeds and
# the regressions (libFuzzer's set-cover merge, as `cargo fuzz cmin` does, with
# the seeds and regressions as the already-kept base so that they are not
# duplicated). Passes, until at most FUZZ_MAX_FILES files remain:
#   1. features (edges and hit counts), 2. edges alone (-use_counters=0),
#   3. the FUZZ_MAX_FILES inputs of pass 2 that a greedy choice finds to cover
#      the most edges beyond the base (cap_corpus.awk; may lose a few edges).
minimize_corpus() {
  local t="$1" corpus="$here/corpus/$1" work f n pass out
  work="$(mktemp -d)"
  mkdir -p "$work/base"
  for f in "$here/seeds/$t"/* "$here/regressions/$t"/*; do
    if [ -f "$f" ]; then cp "$f" "$work/base/base-$(basename "$f")"; fi
  done
  for pass in 1 2 3; do
    out="$work/out$pass"
    cp -r "$work/base" "$out"
    if [ "$pass" = 3 ]; then
      # The control file of pass 2 lists every input with all its features;
      # the candidates are the inputs pass 2 kept.
      find "$out" -type f -delete
      ls "$work/out2" >"$work/keep"
      awk -v k="$max_files" -v keepfile="$work/keep" -f "$here/cap_corpus.awk" "$work/control2" |
        while IFS= read -r f; do
          cp "$f" "$out/"
        done
    elif ! "$bin_dir/$t" -set_cover_merge=1 -use_counters=$((pass == 1 ? 1 : 0)) -max_len="$max_len" \
        -timeout=10 -artifact_prefix="$here/artifacts/$t/" -merge_control_file="$work/control$pass" "$out" "$corpus" >"$log_dir/$t.cmin.log" 2>&1; then
      echo "fuzz/run.sh: minimizing $t failed, corpus kept (see $log_dir/$t.cmin.log)" >&2
      rm -rf "$work"
      return 0
    fi
    rm -f "$out"/base-*
    n=$(find "$out" -type f | wc -l)
    if [ "$n" -le "$max_files" ] || [ "$pass" = 3 ]; then
      rm -rf "$corpus"
      mv "$out" "$corpus"
      break
    fi
  done
  rm -rf "$work"
}

# Coverage of the committed inputs alone: libFuzzer's INITED line with -runs=0.
inited_cov() {
  local t="$1" dirs=("$here/corpus/$1")
  [ -d "$here/seeds/$t" ] && dirs+=("$here/seeds/$t")
  [ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
  "$bin_dir/$t" -runs=0 -max_len="$max_len" -artifact_prefix="$here/artifacts/$t/" "${dirs[@]}" 2>&1 | grep -E 'INITED' | tail -1 |
    sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/'
}

rows=()
crashed=0
for t in "${targets[@]}"; do
  corpus="$here/corpus/$t"
  mkdir -p "$corpus" "$here/artifacts/$t"
  dirs=("$corpus")
  [ -d "$here/seeds/$t" ] && dirs+=("$here/seeds/$t")
  [ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
  log="$log_dir/$t.log"
  echo "== $t: fuzzing for $secs s (log: ${log#"$root"/})"
  status=ok
  if ! cargo +"$toolchain" fuzz run "${fuzz_flags[@]}" "$t" "${dirs[@]}" -- \
      -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -close_fd_mask=1 >"$log" 2>&1; then
    status=CRASH
    crashed=1
    echo "!! $t crashed; the input and the panic:" >&2
    { grep -A2 -E "panicked at" "$log" | head -6; grep -E "ERROR: (libFuzzer|AddressSanitizer)|Test unit written to" "$log"; } >&2 ||
      tail -40 "$log" >&2
  fi
  # "#N DONE cov: X ft: Y corp: Z/S lim: L exec/s: E rss: R"
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
  if [ -z "$done_line" ]; then
    done_line="$(grep -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED)' "$log" | tail -1 || true)"
  fi
  execs="$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")"
  ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")"
  eps="$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")"
  read -r before_files _ < <(dir_stats "$corpus")
  if [ "$minimize" = 1 ] && [ "$status" = ok ]; then
    minimize_corpus "$t"
  fi
  read -r files kb < <(dir_stats "$corpus")
  read -r kept_cov kept_ft < <(inited_cov "$t" || echo "- -")
  if [ "$files" -gt "$max_files" ]; then
    echo "fuzz/run.sh: $t corpus has $files files (more than $max_files)" >&2
  fi
  rows+=("$t|${execs:--}|${eps:--}|${cov:--}|${ft:--}|$before_files|$files|$kb|${kept_cov:--}|${kept_ft:--}|$status")
done

echo
echo "== summary: $secs s per target, sanitizer $sanitizer (cov/ft: libFuzzer edge coverage / features)"
{
  echo "target|execs|exec/s|cov|ft|corpus_before|corpus_files|corpus_KB|committed_cov|committed_ft|result"
  printf '%s\n' "${rows[@]}"
} | column -t -s '|'
total_kb=$(du -sk --apparent-size "$here/corpus" | cut -f1)
echo "total fuzz/corpus: ${total_kb} KB"
exit "$crashed"
