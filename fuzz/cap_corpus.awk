# Reads a libFuzzer merge control file written by -set_cover_merge=1 (every
# input with all of its features) and prints the paths of at most k inputs,
# chosen greedily (lazy greedy: gains only shrink) to cover the most features
# that the inputs of the first corpus directory (the base: seeds and
# regressions) do not cover. Ties go to the smaller input. With -v
# keepfile=FILE, only inputs whose file name is listed in FILE are candidates
# (run.sh passes the result of the set-cover merge).
# Used by run.sh when a set-cover merge still keeps more than k inputs.
BEGIN {
    if (keepfile != "") while ((getline line < keepfile) > 0) keep[line] = 1
}
FNR == 1 { nfiles = $1; next }
FNR == 2 { nfirst = $1; next }
FNR <= 2 + nfiles {
    name = $0; sub(/.*\//, "", name)
    path[FNR - 3] = $0; fname[FNR - 3] = name
    next
}
$1 == "STARTED" { size[$2] = $3; next }
$1 == "FT" {
    id = $2
    if (id < nfirst) {
        for (i = 3; i <= NF; i++) covered[$i] = 1
    } else if (keepfile == "" || (fname[id] in keep)) {
        raw[id] = $0
    }
    next
}
END {
    # Keep only the features the base does not cover.
    for (id in raw) {
        n = split(raw[id], a, " ")
        c = 0
        for (i = 3; i <= n; i++) if (!(a[i] in covered)) ft[id, ++c] = a[i]
        nf[id] = c
        gain[id] = c
    }
    picked = 0
    while (picked < k) {
        best = ""
        for (id in gain)
            if (best == "" || gain[id] > gain[best] || (gain[id] == gain[best] && size[id] + 0 < size[best] + 0)) best = id
        if (best == "" || gain[best] <= 0) break
        g = 0
        for (j = 1; j <= nf[best]; j++) if (!(ft[best, j] in covered)) g++
        if (g < gain[best]) { gain[best] = g; continue }
        for (j = 1; j <= nf[best]; j++) covered[ft[best, j]] = 1
        delete gain[best]
        print path[best]
        picked++
    }
}
