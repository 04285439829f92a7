#!/usr/bin/env bash
# Soak: pushes SOAK_MESSAGES messages (default 100,000,000) through every backend, spread
# evenly over a grid of producers x consumers x capacities, one verified harness run per cell.
# The harness checks every run's ledger (each item delivered exactly once, in per-producer
# order where the backend declares FIFO, every payload dropped once) and exits non-zero on a
# violation (3) or a hang (4); the soak stops at the first such run. Capacity 0 is skipped for
# a backend that `harness list` shows without rendezvous. Not part of CI.
#
#   scripts/soak.sh                                        # the full soak
#   SOAK_MESSAGES=2000000 scripts/soak.sh                  # a quick check of the script
#   SOAK_BACKENDS=condvar SOAK_CAPACITIES="1 2" scripts/soak.sh
#
# Settings (environment): SOAK_MESSAGES (per backend), SOAK_BACKENDS (default: every backend
# `harness list` shows), SOAK_PRODUCERS and SOAK_CONSUMERS (default "1 2 4 8"),
# SOAK_CAPACITIES (default "0 1 16 1024"), SOAK_BATCH (items per batch call, default 1),
# SOAK_OUTPUT (the CSV file of the runs, default target/soak.csv under the target dir).
set -euo pipefail
cd "$(dirname "$0")/.."

total=${SOAK_MESSAGES:-100000000}
read -r -a producers <<<"${SOAK_PRODUCERS:-1 2 4 8}"
read -r -a consumers <<<"${SOAK_CONSUMERS:-1 2 4 8}"
read -r -a capacities <<<"${SOAK_CAPACITIES:-0 1 16 1024}"
batch=${SOAK_BATCH:-1}
output=${SOAK_OUTPUT:-${CARGO_TARGET_DIR:-target}/soak.csv}

cargo build --release --locked -q -p harness
harness="${CARGO_TARGET_DIR:-target}/release/harness"
if [ -n "${SOAK_BACKENDS:-}" ]; then
    read -r -a backends <<<"$SOAK_BACKENDS"
else
    mapfile -t backends < <("$harness" list | tail -n +2 | awk '{ print $1 }')
fi

cells=$((${#producers[@]} * ${#consumers[@]} * ${#capacities[@]}))
per_cell=$(((total + cells - 1) / cells))
mkdir -p "$(dirname "$output")"
: >"$output"
printf 'soak: %s backends x %s cells x %s messages (%s per backend), batch %s; runs -> %s\n' \
    "${#backends[@]}" "$cells" "$per_cell" "$((cells * per_cell))" "$batch" "$output"

start=$SECONDS
messages=0
for backend in "${backends[@]}"; do
    backend_start=$SECONDS
    ran=0
    rendezvous=$("$harness" list | awk -v b="$backend" '$1 == b { print $2 }')
    for capacity in "${capacities[@]}"; do
        if [ "$capacity" -eq 0 ] && [ "$rendezvous" != yes ]; then
            printf '%-10s capacity 0 skipped: no rendezvous\n' "$backend"
            continue
        fi
        for p in "${producers[@]}"; do
            for c in "${consumers[@]}"; do
                status=0
                "$harness" run --backend "$backend" --producers "$p" --consumers "$c" \
                    --capacity "$capacity" --messages "$per_cell" --batch "$batch" \
                    --repeats 1 --warmup 0 --format csv --output "$output.run" || status=$?
                # The header once, then one line per run; the comment lines (machine, commit)
                # only from the first run.
                if [ -s "$output" ]; then
                    grep -v '^#' "$output.run" | tail -n +2 >>"$output"
                else
                    cat "$output.run" >>"$output"
                fi
                if [ "$status" -ne 0 ]; then
                    echo "soak FAILED: $backend ${p}:${c} capacity $capacity (exit $status)" >&2
                    exit "$status"
                fi
                ran=$((ran + 1))
            done
        done
    done
    printf '%-10s %s messages in %s s, every run verified\n' \
        "$backend" "$((ran * per_cell))" "$((SECONDS - backend_start))"
    messages=$((messages + ran * per_cell))
done
rm -f "$output.run"
printf 'soak: %s messages through %s backends in %s s, nothing lost\n' \
    "$messages" "${#backends[@]}" "$((SECONDS - start))"
