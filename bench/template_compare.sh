#!/bin/sh
# Runs bench/template_bench (vial) and bench/template_bench.py (Jinja2) in
# interleaved rounds, checks that both render identical bytes, and prints the
# median ns/render of each and their ratio, plus callgrind's instructions per
# render for vial (independent of machine load).
#
#   bench/template_compare.sh [BUILD_DIR] [ROUNDS]     (from the repository root)
set -eu
build=${1:-build/release}
rounds=${2:-5}
export VIAL_SOURCE_DIR=$(pwd)
bin=$build/bench/template_bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --dump "$tmp" >/dev/null
/usr/bin/python3 bench/template_bench.py --compare "$tmp"
for i in $(seq "$rounds"); do
    "$bin" --iterations-scale 0.25 >>"$tmp/vial.txt"
    /usr/bin/python3 bench/template_bench.py --iterations-scale 0.25 >>"$tmp/jinja.txt"
done
for case in fortunes page; do
    v=$(grep "^$case " "$tmp/vial.txt" | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    j=$(grep "^$case " "$tmp/jinja.txt" | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v c="$case" -v v="$v" -v j="$j" 'BEGIN {printf "%-9s vial %10.0f ns  jinja2 %12.0f ns  ratio %5.1fx  (medians of '"$rounds"' rounds)\n", c, v, j, j / v}'
done
if command -v valgrind >/dev/null 2>&1; then
    for spec in "fortunes 200 600 20 60" "page 3 9 1 3"; do
        set -- $spec
        a=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bin" --only "$1" --callgrind "$2" 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}')
        b=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bin" --only "$1" --callgrind "$3" 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}')
        ja=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" /usr/bin/python3 bench/template_bench.py --only "$1" --callgrind "$4" 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}')
        jb=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" /usr/bin/python3 bench/template_bench.py --only "$1" --callgrind "$5" 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}')
        awk -v c="$1" -v a="$a" -v b="$b" -v n="$(( $3 - $2 ))" -v ja="$ja" -v jb="$jb" -v jn="$(( $5 - $4 ))" \
            'BEGIN {v = (b - a) / n; j = (jb - ja) / jn; printf "%-9s vial %10.0f  jinja2 %12.0f instructions/render (callgrind)  ratio %5.1fx\n", c, v, j, j / v}'
    done
fi
