#!/usr/bin/env bash
# cargo-mutants over the concurrency core (.cargo/mutants.toml), reporting the mutants that
# every test suite misses. docs/mutants.md says what each surviving mutant needs: a test that
# fails on it, or an argument that it changes only performance and an exclusion in the config.
#
#   scripts/cargo-mutants.sh gate       # the close gate: buffer-api, crossbeam-close, flume-close tests
#   scripts/cargo-mutants.sh condvar    # buffer-condvar: unit + conformance, then loom and then
#                                       # shuttle on what the suites before them missed
#   scripts/cargo-mutants.sh            # both
#
# Needs cargo-mutants (`cargo install cargo-mutants --locked`). Builds in release, where the
# suites run several times faster, with incremental compilation: a mutant changes one function,
# and rebuilding only what it touches takes a few seconds instead of half a minute. Not in CI:
# one mutant still costs a build and a suite run, over an hour for the condvar part on 2 cores.
# Output: target/mutants/<run>/mutants.out/.
set -uo pipefail
cd "$(dirname "$0")/.."

# An exclusion whose function was renamed excludes nothing, and its mutants would come back as
# unexplained survivors after an hour's run: check the config first.
scripts/check-mutants-config.sh || exit 1

export CARGO_TERM_COLOR=never
export CARGO_PROFILE_RELEASE_INCREMENTAL=true
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
parts=("$@")
[ "${#parts[@]}" -eq 0 ] && parts=(gate condvar)
root=target/mutants
mkdir -p "$root"
status=0

# CARGO_MUTANTS_SHARD=k/n runs the k-th of n slices of the condvar mutants (0-based), so that
# the hours it takes can be spread over several runs.
shard=()
[ -n "${CARGO_MUTANTS_SHARD:-}" ] && shard=(--shard "$CARGO_MUTANTS_SHARD")

# A regex that matches exactly the mutant names given one per line.
exactly() {
    printf '^(%s)$' "$(sed 's/[][\.*^$()+?{}|]/\\&/g' <<<"$1" | paste -sd'|')"
}

# Runs cargo-mutants into $root/$1 with the remaining arguments; prints its missed mutants.
run() {
    local name=$1
    shift
    printf '\n== %s\n' "$name" >&2
    cargo mutants --profile release --output "$root/$name" "$@" >&2 || true
    local missed="$root/$name/mutants.out/missed.txt"
    [ -f "$missed" ] && sort "$missed"
}

for part in "${parts[@]}"; do
    case "$part" in
    gate)
        survivors=$(run gate --re '^buffer-api/src/close_gate' --test-package buffer-api \
            --test-package buffer-crossbeam --test-package buffer-flume)
        ;;
    condvar)
        # Each suite sees only what the suites before it missed: loom and shuttle are slow.
        survivors=$(run condvar --re '^buffer-condvar/src/' "${shard[@]}" \
            --test-package buffer-condvar)
        [ -n "$survivors" ] && survivors=$(RUSTFLAGS="--cfg loom" run condvar-loom \
            --re "$(exactly "$survivors")" --test-package buffer-condvar -- --test loom)
        [ -n "$survivors" ] && survivors=$(RUSTFLAGS="--cfg shuttle" run condvar-shuttle \
            --re "$(exactly "$survivors")" --test-package buffer-condvar -- --test shuttle)
        ;;
    *)
        echo "usage: scripts/cargo-mutants.sh [gate] [condvar]" >&2
        exit 2
        ;;
    esac
    if [ -n "$survivors" ]; then
        printf '\n%s: mutants no suite caught (add a test or an argued exclusion):\n%s\n' \
            "$part" "$survivors"
        status=1
    else
        printf '\n%s: no unexplained survivor\n' "$part"
    fi
done
exit "$status"
