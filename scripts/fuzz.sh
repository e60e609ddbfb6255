#!/usr/bin/env bash
# Fuzzing: builds every harness under Fuzz/ with libFuzzer and AddressSanitizer into .build-fuzz
# (apart from the normal .build, which it leaves alone), then runs each for a fixed number of
# inputs, starting from a copy of its seeds in Fuzz/Corpus/<harness>/ (the repository's corpus is
# never changed). Fails on any crash, sanitizer report, timeout or out-of-memory, naming the input
# (kept in .build-fuzz/artifacts/); prints each harness's executions, speed and coverage.
#   scripts/fuzz.sh [RUNS [HARNESS...]]   RUNS: inputs per harness (default 20000)
#   FUZZ_MAX_TIME: seconds per harness at most (default 60); FUZZ_JOBS: build jobs (default 2)
#   FUZZ_CONFIG: debug (default; CI) or release (optimised, several times faster, for long runs;
#                built into .build-fuzz-release)
#   FUZZ_CORPUS_DIR: keep each harness's grown corpus in DIR/<harness> across runs (default: a
#                throw-away copy of the seeds)
# A crashing input replays without the sanitizer through the normal build's tool of the same
# name: swift run FuzzEnvelope .build-fuzz/artifacts/FuzzEnvelope-crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '== %s\n' "$*"; }

runs="${1:-20000}"
[ "$#" -gt 0 ] && shift
harnesses=("$@")
if [ "${#harnesses[@]}" -eq 0 ]; then
  harnesses=(FuzzCiphertext FuzzEnvelope FuzzStream FuzzFernet FuzzPasswordHash FuzzPolicyHCL FuzzRequestJSON
    FuzzRequestTarget FuzzTransform FuzzURLs FuzzAge)
fi
max_time="${FUZZ_MAX_TIME:-60}"

# -sanitize=fuzzer alone links libFuzzer but leaves Swift code without coverage here: ask for it.
config="${FUZZ_CONFIG:-debug}"
case "$config" in
  debug) scratch=.build-fuzz ;;
  release) scratch=.build-fuzz-release ;;
  *) echo "FUZZ_CONFIG must be debug or release" >&2; exit 2 ;;
esac
flags=(-c "$config" --sanitize=fuzzer --sanitize=address --scratch-path "$scratch" -j "${FUZZ_JOBS:-2}"
  -Xswiftc -DBULWARK_FUZZING -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$SECONDS
for harness in "${harnesses[@]}"; do
  log "build $harness"
  if ! swift build "${flags[@]}" --product "$harness" >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    echo "building $harness failed" >&2
    exit 1
  fi
  # What the compiler says about the project's own code is shown (dependencies' notes are not).
  grep -E "^$(pwd)/(Fuzz|Sources)/.*(warning|error):" "$work/build.log" || true
done
bin="$(swift build "${flags[@]}" --show-bin-path)"
log "fuzz build: $((SECONDS - start)) s"
mkdir -p .build-fuzz/artifacts
corpora="${FUZZ_CORPUS_DIR:-}"
failed=()
summary=()
for harness in "${harnesses[@]}"; do
  corpus="$work/$harness"
  if [ -n "$corpora" ]; then
    corpus="$corpora/$harness"
    mkdir -p "$corpus"
  fi
  cp -R "Fuzz/Corpus/$harness/." "$corpus/"
  log "fuzz $harness: $runs runs, at most $max_time s"
  status=0
  # Swift's own crash reporter would take over libFuzzer's signal handling (and wait for a
  # symbolicator): off, so a trap is reported and saved by libFuzzer at once.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
    "$bin/$harness" -runs="$runs" -max_total_time="$max_time" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$harness-" "$corpus" >"$work/$harness.log" 2>&1 || status=$?
  executed="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$harness.log")"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$harness.log")"
  coverage="$(grep -E '^#[0-9]+' "$work/$harness.log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)"
  if [ "$status" -ne 0 ] || grep -qE '^==[0-9]+==ERROR|^SUMMARY: |deadly signal|Fatal error' "$work/$harness.log"; then
    tail -n 60 "$work/$harness.log"
    failed+=("$harness")
    summary+=("$harness: FAILED (exit $status) after ${executed:-?} runs; input in .build-fuzz/artifacts/")
  else
    summary+=("$harness: ${executed:-?} runs, ${speed:-?} exec/s, ${coverage:-no coverage line}")
  fi
done
log "fuzz summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
log "fuzz: ${#harnesses[@]} harnesses, no crash, $((SECONDS - start)) s"
