#!/usr/bin/env bash
# Mutation tests for the buffers on the buffer-sync facade: builds each deliberately broken
# variant of the facade (a `mutant_*` cfg, in the `mutants` module of buffer-sync/src/lib.rs;
# docs/mutants.md) under each model suite (buffer-condvar's loom and shuttle tests,
# buffer-steal's shuttle tests), runs every test of it one by one, and prints which tests
# catch it. The script fails if a mutant survives every suite, or if a mutant does not even
# build.
#
#   scripts/mutants.sh                         # every mutant
#   scripts/mutants.sh mutant_if_wait          # one or more, by name
#
# A catching test fails by a panic: a wrong outcome, or the checker's deadlock report. Loom
# reports a deadlock by aborting the test process (its handles' drops then panic inside the
# dead model), which is why the tests run one process each.
#
# Each mutant and checker builds in its own target dir under target/mutants/, because a
# change of RUSTFLAGS rebuilds every dependency; a cold run takes about 8 minutes on 2 cores,
# a warm one (only buffer-condvar rebuilt) about one.
set -uo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"

all_mutants=(mutant_if_wait mutant_one_condvar mutant_close_notify_one)
if [ "$#" -gt 0 ]; then
    mutants=("$@")
else
    mutants=("${all_mutants[@]}")
fi
target_root="${MUTANTS_TARGET_DIR:-target/mutants}"
survivors=()

for mutant in "${mutants[@]}"; do
    caught=()
    for suite in buffer-condvar:loom buffer-condvar:shuttle buffer-steal:shuttle; do
        package=${suite%%:*}
        checker=${suite##*:}
        target="$target_root/$mutant-$checker"
        flags="--cfg $checker --cfg $mutant"
        printf '\n== %s: %s under %s\n' "$mutant" "$package" "$checker"
        if ! binary=$(RUSTFLAGS="$flags" cargo test -q -p "$package" --release --locked \
            --test "$checker" --target-dir "$target" --no-run --message-format=json 2>/dev/null |
            sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1) || [ -z "$binary" ]; then
            echo "the mutant does not build:" >&2
            RUSTFLAGS="$flags" cargo test -p "$package" --release --locked \
                --test "$checker" --target-dir "$target" --no-run >&2
            exit 1
        fi
        for test in $("$binary" --list --format=terse | sed -n 's/: test$//p'); do
            output=$("$binary" --exact "$test" --test-threads=1 2>&1)
            status=$?
            if [ "$status" -eq 0 ]; then
                printf '  %-72s passes (misses it)\n' "$test"
            elif grep -q 'panicked at' <<<"$output"; then
                message=$(grep -A1 -m1 'panicked at' <<<"$output" | tail -n 1)
                printf '  %-72s CATCHES it: %s\n' "$test" "$message"
                caught+=("$package::$checker::$test")
            else
                echo "  $test failed without a panic (status $status):" >&2
                tail -n 20 <<<"$output" >&2
                exit 1
            fi
        done
    done
    if [ "${#caught[@]}" -eq 0 ]; then
        survivors+=("$mutant")
    fi
done

printf '\n'
if [ "${#survivors[@]}" -gt 0 ]; then
    echo "SURVIVED: ${survivors[*]} (the models are too weak; strengthen them)"
    exit 1
fi
echo "every mutant was caught: ${mutants[*]}"
