#!/bin/sh
# Prints fwdsim's layer graph -- each layer and the layers its CMake target
# links, as CMake generates it (layer_graph.cmake) -- and then every
# `#include <fwdsim/...>` of `grep -R "#include <fwdsim/" src include` the
# graph does not allow (a layer may include itself and the layers it links
# directly).  Exits 1 if there is one.  Also lists the edges the graph has
# but no include uses (link-only, or left over).
#
# Usage: scripts/layer_graph.sh [BUILD_DIR]
#   BUILD_DIR: a configured build (e.g. build/asan), re-configured first so
#   the graph is current; without it a throwaway configure is made.
# This is a second, independent reading of the rule tests/layering checks.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
    build=$1
    cmake -S "$root" -B "$build" >/dev/null
else
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    cmake -S "$root" -B "$build" -DFWDSIM_BUILD_TESTS=OFF -DFWDSIM_BUILD_APPS=OFF \
        -DFWDSIM_BUILD_BENCH=OFF -DFWDSIM_BUILD_EXAMPLES=OFF >/dev/null
fi
graph=$build/layer_graph.cmake

cd "$root"
grep -R "#include <fwdsim/" src include | awk -v graph="$graph" '
BEGIN {
    # set(FWDSIM_LAYER_USES_<layer> <used>...)
    while ((getline line < graph) > 0) {
        if (line !~ /^set\(FWDSIM_LAYER_USES_/) continue
        sub(/^set\(FWDSIM_LAYER_USES_/, "", line)
        sub(/\)$/, "", line)
        n = split(line, w, " ")
        order[++layers] = w[1]
        known[w[1]] = 1
        list[w[1]] = ""
        for (i = 2; i <= n; i++) { edge[w[1], w[i]] = 1; list[w[1]] = list[w[1]] " " w[i] }
    }
    if (layers == 0) { print "no layer graph in " graph > "/dev/stderr"; exit 2 }
    print "layer graph (" graph "), bottom-up; each layer and what it links:"
    for (i = 1; i <= layers; i++) printf "  %-9s ->%s\n", order[i], list[order[i]]
}
{
    file = $0; sub(/:.*/, "", file)
    text = substr($0, length(file) + 2)
    if (text !~ /^[ \t]*#[ \t]*include[ \t]*<fwdsim\//) next # a comment quoting one
    n = split(file, p, "/")
    layer = (p[1] == "src") ? p[2] : p[3]
    header = text; sub(/^[^<]*</, "", header); sub(/>.*/, "", header)
    split(header, h, "/")
    used = (h[3] == "") ? "" : h[2]
    ++total
    if (used != "" && known[layer] && (used == layer || edge[layer, used])) { seen[layer, used] = 1; next }
    bad[++nbad] = "  " file ": layer " layer " includes <" header ">"
}
END {
    if (layers == 0) exit 2
    printf "\n%d includes of <fwdsim/...> in src/ and include/; outside the graph: %d\n", total, nbad
    for (i = 1; i <= nbad; i++) print bad[i]
    unused = ""
    for (i = 1; i <= layers; i++) {
        n = split(list[order[i]], w, " ")
        for (j = 1; j <= n; j++) if (!seen[order[i], w[j]]) unused = unused "\n  " order[i] " -> " w[j]
    }
    if (unused != "") print "\nedges in the graph that no include uses (link-only or left over):" unused
    exit nbad > 0
}'
