#!/usr/bin/env bash
# Runs every benchmark of the roles at the limit of their signatures and
# writes one table (README, "Speed"): each figure, the strict-verification
# limit measured in the same run, the ratio, the machine's CPU model and
# features, its load and the date.
#
#     scripts/bench.sh [--quick] [--runs N] [--out FILE]
#
# --quick   smaller sizes (verifier 1,000,000 instead of 4,000,000; 5 s of
#           server load; 20,000 tallies submitted), for a first look
# --runs N  repeat each benchmark N times and keep the median ratio (default 1)
# --out F   the table (Markdown; default target/bench/table.md); every run's
#           full output goes next to it
#
# The first run generates and signs the benchmark logs (cached under
# target/bench-*; minutes at 4,000,000 tallies). Installs nginx and wrk if
# they are missing (the read-path comparison).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
runs=1
out=target/bench/table.md
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --runs) runs="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--runs N] [--out FILE]" >&2; exit 2 ;;
    esac
    shift
done
if [ "$quick" = 1 ]; then
    verify_n=1000000; mirror_n=200000; server_secs=5; submit_n=20000
else
    # The mirror's origin writes the pages of every unit once (cached
    # with its log): 200,000 units take about 8 minutes on a disk mounted
    # with discard, 500,000 about 20.
    verify_n=4000000; mirror_n=200000; server_secs=10; submit_n=50000
fi

scripts/install-nginx.sh >/dev/null
if ! command -v wrk >/dev/null; then
    apt-get install -y --no-install-recommends wrk >/dev/null
fi

logs="$(dirname "$out")"
mkdir -p "$logs"
echo "building the benchmarks (release)" >&2
cargo build --release --locked -p tallyboard --bin tallyboard \
    --example bench_server --example bench_submit --example bench_mirror --example bench_read >&2
cargo build --release --locked -p tallyboard-verify --example bench_verify >&2
ex=target/release/examples

# Each benchmark prints a last line `BENCH|what|figure|limit|ratio|notes`.
rows=()
run() {
    local name="$1"; shift
    local lines=()
    for i in $(seq 1 "$runs"); do
        echo "== $name, run $i of $runs: $* (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
        "$@" >"$logs/$name.$i.txt" 2>"$logs/$name.$i.err" || {
            echo "$name failed; see $logs/$name.$i.err" >&2
            tail -5 "$logs/$name.$i.err" >&2
            return 1
        }
        while IFS= read -r l; do lines+=("$l"); done < <(grep '^BENCH|' "$logs/$name.$i.txt")
    done
    # The median by ratio of each distinct row (a benchmark may print several).
    local whats
    whats=$(printf '%s\n' "${lines[@]}" | cut -d'|' -f2 | sort -u)
    while IFS= read -r w; do
        local pick
        pick=$(printf '%s\n' "${lines[@]}" | awk -F'|' -v w="$w" '$2 == w' |
            sort -t'|' -k5,5g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
        rows+=("$pick")
    done <<<"$whats"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run verify "$ex/bench_verify" "$verify_n"
run mirror "$ex/bench_mirror" "$mirror_n"
run server "$ex/bench_server" "$server_secs"
# Fewer in flight: the latency at a rate just under the limit.
run server-latency "$ex/bench_server" "$server_secs" 1200 100
run submit "$ex/bench_submit" "$submit_n"
run read "$ex/bench_read"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { case " $flags " in *" $1 "*) echo "$1 yes" ;; *) echo "$1 no" ;; esac; }
{
    echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) with \`scripts/bench.sh$([ "$quick" = 1 ] && echo ' --quick') --runs $runs\`"
    echo "(median of $runs by ratio) on $(nproc) cores of $cpu ($(has avx2), $(has avx512ifma), $(has sha_ni));"
    echo "load average $load_before before, $load_after after."
    echo
    echo "| benchmark | figure | strict-verification limit, same run | ratio | notes |"
    echo "| --- | --- | --- | --- | --- |"
    for r in "${rows[@]}"; do
        IFS='|' read -r _ what figure limit ratio notes <<<"$r"
        echo "| $what | $figure | $limit | $ratio | $notes |"
    done
} >"$out"
cat "$out"
# The runs' directories, moved aside rather than deleted before each run
# (see `run_dir` in crates/tallyboard-testkit/src/bench.rs).
echo "removing the runs' directories (target/bench-trash)" >&2
rm -rf target/bench-trash
