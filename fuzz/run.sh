#!/usr/bin/env bash
# Runs fuzz targets one after another on the stable toolchain, each for
# SECONDS (default 180), starting from the committed seeds (fuzz/seeds/) and
# the local corpus (fuzz/corpus/, grown by earlier runs, not committed).
# Prints the final libFuzzer statistics of each run.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      # default: every target
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-180}"
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  printf '\n==> %s for %ss\n' "$t" "$secs"
  log="$(mktemp)"
  cargo fuzz run --sanitizer none "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1 || {
    tail -n 60 "$log"
    echo "FAILED: $t (artifact in fuzz/artifacts/$t/)"
    exit 1
  }
  grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|INITED|cov: .* corp:' "$log" | grep -vE 'NEW|REDUCE|pulse' | tail -n 6
  rm -f "$log"
done
