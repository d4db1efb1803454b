#!/usr/bin/env bash
# Prints one fenced code block of README.md (its content, without the fences), for tests
# that run what the README says:
#   tests/readme/block.sh id=NAME   the block marked <!-- readme-test: ... id=NAME ... -->
#   tests/readme/block.sh lang=c    the first block of that language with no wrap= marker
# (the marker convention is described in tests/readme/run.sh). Exits 1 if there is none.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
case "${1:-}" in
  id=?*|lang=?*) ;;
  *) echo "usage: $0 id=NAME | lang=LANG" >&2; exit 2 ;;
esac
awk -v want="$1" '
  BEGIN { split(want, w, "="); key = w[1]; val = w[2] }
  /^```/ && !inside {
    inside = 1; lang = substr($0, 4); gsub(/[ \t]/, "", lang)
    n = split(marker, words, " "); id = ""; wrapped = 0
    for (i = 1; i <= n; i++) {
      if (words[i] ~ /^id=/) id = substr(words[i], 4)
      if (words[i] ~ /^wrap=/) wrapped = 1
    }
    take = !done && ((key == "id" && id == val) || (key == "lang" && lang == val && !wrapped))
    marker = ""; next
  }
  /^```/ && inside { inside = 0; if (take) { done = 1; take = 0 } next }
  inside { if (take) print; next }
  /^<!-- readme-test:.*-->$/ { marker = $0; sub(/^<!-- readme-test: */, "", marker); sub(/ *-->$/, "", marker); next }
  NF { marker = "" }
  END { exit done ? 0 : 1 }
' "$root/README.md"
