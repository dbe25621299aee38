#!/usr/bin/env bash
# Runs fuzz targets one after another on the stable toolchain, each for
# SECONDS (default 180), starting from the committed seeds (fuzz/seeds/),
# the committed regression inputs (fuzz/regressions/) and the local corpus
# (fuzz/corpus/, grown by earlier runs, not committed).
#
# A finding does not stop the run: libFuzzer stops that target at its first
# finding (written to fuzz/artifacts/<target>/) and the next target starts.
# At the end one summary line per target gives the time it ran, executions,
# coverage and findings; the exit status is 1 if anything was found (or a
# target failed without leaving an artifact), 0 otherwise.
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
# Build once up front, so that the time of each run is fuzzing time.
for t in "${targets[@]}"; do
  cargo fuzz build --sanitizer none "$t"
done

summary=()
status=0
for t in "${targets[@]}"; do
  # Only the corpus is created here: seeds/<target>/ exists only for the
  # targets the vectors seed (the core crate's seed test refuses others).
  mkdir -p "corpus/$t"
  dirs=("corpus/$t")
  for d in "seeds/$t" "regressions/$t"; do
    if [ -d "$d" ]; then
      dirs+=("$d")
    fi
  done
  printf '==> %s for %ss\n' "$t" "$secs"
  log="$(mktemp)"
  start="$(date +%s)"
  rc=0
  cargo fuzz run --sanitizer none "$t" "${dirs[@]}" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  elapsed=$(($(date +%s) - start))
  # Slow units are reported, not counted as findings.
  found="$(grep -cE 'Test unit written to .*/(crash|leak|timeout|oom)-' "$log" || true)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  cov="$(grep -oE ' cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)"
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    status=1
    # The panic message and the artifact, else the end of the log.
    grep -E -A2 'panicked at|Test unit written' "$log" || tail -n 40 "$log"
    if [ "$found" -gt 0 ]; then
      echo "FINDING: $t (artifact in fuzz/artifacts/$t/)"
    else
      found="error (exit $rc, no artifact)"
    fi
  fi
  rm -f "$log"
  rate=""
  if [ -n "$execs" ] && [ "$elapsed" -gt 0 ]; then
    rate=" ($((execs / elapsed))/s)"
  fi
  summary+=("$(printf '%-16s time %4ss  execs %s%s  cov %s  findings %s' \
    "$t" "$elapsed" "${execs:-?}" "$rate" "${cov:-?}" "$found")")
done
printf '\n==> summary\n'
printf '%s\n' "${summary[@]}"
exit "$status"
