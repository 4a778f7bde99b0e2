#!/usr/bin/env bash
# Fuzzes every parser of user text: builds the targets of fuzz/ and runs each for a
# bounded time, starting from its corpus in fuzz/corpus/TARGET.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 10 s, every target)
#
# - The fuzzer is libFuzzer (the libfuzzer-sys crate builds it with the C++ compiler),
#   guided by coverage from rustc's `sancov-module` pass: stable options only, so it
#   runs on the stable toolchain. `--target` keeps the instrumentation off build
#   scripts, which cannot link the fuzzer's hooks.
# - The build has its own target directory (target/fuzz): its flags differ from every
#   other build's, and sharing a directory would rebuild both each time.
# - New inputs the fuzzer finds go to a scratch corpus, removed at the end: the corpus
#   in the repository stays the small set of seeds and past findings.
# - Prints, per target, how many inputs ran and whether one crashed (panic, timeout or
#   memory blow-up). A crashing input is kept in target/fuzz/crashes/TARGET/ with the
#   fuzzer's log, and the script exits 1; replay it with
#   `target/fuzz/HOST/release/TARGET FILE`, and once fixed, add it to the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
shift || true
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for file in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$file" .rs)")
    done
fi

# Limits for one input: a parser that takes longer or grows larger has a bug (one
# input is at most MAX_LEN bytes, a few kilobytes of graph or metadata).
MAX_LEN=8192
TIMEOUT_SECONDS=10
RSS_LIMIT_MB=2048

host=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR=target/fuzz
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing"
cargo build --quiet --manifest-path fuzz/Cargo.toml --release --target "$host" --bins

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
total=0
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target/found" "$scratch/$target/tmp" "$scratch/$target/crash"
    log="$scratch/$target/log"
    status=0
    TMPDIR="$scratch/$target/tmp" "$CARGO_TARGET_DIR/$host/release/$target" \
        "$scratch/$target/found" "fuzz/corpus/$target" \
        -max_total_time="$seconds" -max_len="$MAX_LEN" -timeout="$TIMEOUT_SECONDS" \
        -rss_limit_mb="$RSS_LIMIT_MB" -print_final_stats=1 \
        -artifact_prefix="$scratch/$target/crash/" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    runs=${runs:-0}
    total=$((total + runs))
    if [ "$status" -eq 0 ]; then
        printf '%-14s %12d inputs, no crash\n' "$target" "$runs"
    else
        failed=1
        kept="target/fuzz/crashes/$target"
        mkdir -p "$kept"
        cp "$scratch/$target/crash/"* "$log" "$kept/" 2>/dev/null || true
        printf '%-14s %12d inputs, CRASHED (exit %d): input and log in %s\n' \
            "$target" "$runs" "$status" "$kept"
        grep -m 1 -A 3 -E "panicked at|ERROR: libFuzzer" "$log" | sed 's/^/    /' || true
    fi
done
printf '%-14s %12d inputs\n' "total" "$total"
exit "$failed"
