#!/usr/bin/env bash
# Runs fuzz targets on the stable toolchain, each for SECONDS (default 180),
# starting from the committed seeds (fuzz/seeds/: the vectors' inputs), the
# committed hand-written inputs (fuzz/inputs/) and regression inputs
# (fuzz/regressions/), and the local corpus (fuzz/corpus/, grown by
# earlier runs, not committed), with the target's dictionary
# (fuzz/dicts/<target>.dict) when there is one.
#
# A finding does not stop the run: libFuzzer stops that target at its first
# finding (written to fuzz/artifacts/<target>/) and the next target starts.
# At the end one summary line per target, in the order given, gives the
# time it ran, executions, coverage and findings; the exit status is 1 if
# anything was found (or a target failed without leaving an artifact), 0
# otherwise.
#
#   fuzz/run.sh [-j JOBS] [SECONDS] [TARGET...]    # default: every target
#
# With -j JOBS, up to JOBS targets run at once (one core each); each
# target's messages are printed when it ends, the summary is the same.
set -euo pipefail
cd "$(dirname "$0")"
jobs=1
if [ "${1:-}" = "-j" ]; then
  jobs="${2:?-j needs a number of jobs}"
  shift 2
fi
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
  echo "run.sh: -j takes a positive number, not '$jobs'" >&2
  exit 2
fi
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

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs target number $1 ($2); writes its messages to $work/$1.out, its
# summary line to $work/$1.line and 1 to $work/$1.bad on a finding.
run_one() {
  local i="$1" t="$2"
  # Only the corpus is created here: seeds/<target>/ exists only for the
  # targets the vectors seed (the core crate's seed test refuses others).
  mkdir -p "corpus/$t"
  local dirs=("corpus/$t") opts=()
  for d in "seeds/$t" "inputs/$t" "regressions/$t"; do
    if [ -d "$d" ]; then
      dirs+=("$d")
    fi
  done
  if [ -f "dicts/$t.dict" ]; then
    opts+=("-dict=dicts/$t.dict")
  fi
  local log="$work/$i.log" out="$work/$i.out"
  : >"$out"
  local start rc=0
  start="$(date +%s)"
  cargo fuzz run --sanitizer none "$t" "${dirs[@]}" -- \
    -max_total_time="$secs" -print_final_stats=1 "${opts[@]}" >"$log" 2>&1 || rc=$?
  local elapsed=$(($(date +%s) - start))
  # Slow units are reported, not counted as findings.
  local found execs cov
  found="$(grep -cE 'Test unit written to .*/(crash|leak|timeout|oom)-' "$log" || true)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  cov="$(grep -oE ' cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)"
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    echo 1 >"$work/$i.bad"
    # The panic message and the artifact, else the end of the log.
    {
      grep -E -A2 'panicked at|Test unit written' "$log" || tail -n 40 "$log"
      if [ "$found" -gt 0 ]; then
        echo "FINDING: $t (artifact in fuzz/artifacts/$t/)"
      fi
    } >>"$out"
    if [ "$found" -eq 0 ]; then
      found="error (exit $rc, no artifact)"
    fi
  fi
  rm -f "$log"
  local rate=""
  if [ -n "$execs" ] && [ "$elapsed" -gt 0 ]; then
    rate=" ($((execs / elapsed))/s)"
  fi
  printf '%-20s time %4ss  execs %s%s  cov %s  findings %s\n' \
    "$t" "$elapsed" "${execs:-?}" "$rate" "${cov:-?}" "$found" >"$work/$i.line"
}

running=0
for i in "${!targets[@]}"; do
  t="${targets[$i]}"
  printf '==> %s for %ss\n' "$t" "$secs"
  if [ "$jobs" -eq 1 ]; then
    run_one "$i" "$t"
    cat "$work/$i.out"
    continue
  fi
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$i" "$t" &
  running=$((running + 1))
done
wait
status=0
for i in "${!targets[@]}"; do
  if [ "$jobs" -gt 1 ] && [ -s "$work/$i.out" ]; then
    printf '==> %s\n' "${targets[$i]}"
    cat "$work/$i.out"
  fi
  if [ -f "$work/$i.bad" ]; then
    status=1
  fi
done
printf '\n==> summary\n'
for i in "${!targets[@]}"; do
  if [ -f "$work/$i.line" ]; then
    cat "$work/$i.line"
  else
    printf '%-20s did not finish (run.sh failed)\n' "${targets[$i]}"
    status=1
  fi
done
exit "$status"
