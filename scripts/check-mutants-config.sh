#!/usr/bin/env bash
# Checks that every `exclude_re` pattern of .cargo/mutants.toml still names something, so that a
# rename cannot silently turn an exclusion into dead text (and its mutants back into survivors).
#
#   scripts/check-mutants-config.sh            # exits 1 and names each stale pattern
#
# With cargo-mutants installed (`cargo mutants --version` answers), each pattern must match at
# least one mutant that `cargo mutants --list` finds in the examined files, listed without the
# config so that the exclusions themselves hide nothing. Without it (as in CI), each pattern's
# function name (what follows its last ` in ` and last `::`, for `replace F -> T with V` the F)
# must appear as `fn NAME` or `const NAME` in one of the examined files: a coarser check, but
# one that needs only grep. scripts/cargo-mutants.sh runs this before it starts.
set -uo pipefail
cd "$(dirname "$0")/.."

config=.cargo/mutants.toml

# The quoted strings of the TOML array `$1 = [ ... ]`, one per line, with the TOML escapes
# `\\` and `\"` undone (comments and blank lines skipped).
toml_strings() {
    awk -v key="$1" '
        $0 ~ "^" key " *= *\\[" { inside = 1; next }
        inside && /^\]/ { inside = 0 }
        inside && /^ *"/ {
            sub(/^ *"/, ""); sub(/", *$/, "")
            gsub(/\\\\/, "\001"); gsub(/\\"/, "\""); gsub(/\001/, "\\")
            print
        }
    ' "$config"
}

# The function (or constant) an exclusion pattern names, as an extended regex.
function_name() {
    local name=$1
    [[ $name == *" in "* ]] && name=${name##* in }
    if [[ $name == "<impl "* ]]; then
        # `<impl fmt::Debug for ` names every `impl ... fmt::Debug for ...` block.
        name=${name#<impl }
        printf 'impl.* %s' "${name% }"
        return
    fi
    name=${name#replace }
    name=${name%% -> *}
    name=${name%% with *}
    printf '(fn|const) %s' "${name##*::}"
}

mapfile -t patterns < <(toml_strings exclude_re)
mapfile -t globs < <(toml_strings examine_globs)
files=()
for glob in "${globs[@]}"; do
    matched=$(compgen -G "$glob") || { echo "examine_globs: $glob matches no file" >&2; exit 1; }
    mapfile -t -O "${#files[@]}" files <<<"$matched"
done
[ "${#patterns[@]}" -gt 0 ] || { echo "$config: no exclude_re patterns found" >&2; exit 1; }

stale=()
if cargo mutants --version >/dev/null 2>&1; then
    how="matches no mutant of \`cargo mutants --list\`"
    file_args=()
    for file in "${files[@]}"; do
        file_args+=(--file "$file")
    done
    if ! mutants=$(cargo mutants --list --no-config "${file_args[@]}"); then
        echo "cargo mutants --list failed" >&2
        exit 1
    fi
    for pattern in "${patterns[@]}"; do
        grep -qE -e "$pattern" <<<"$mutants" || stale+=("$pattern")
    done
else
    how="names no function of the examined files (grep; cargo-mutants is not installed)"
    for pattern in "${patterns[@]}"; do
        grep -qE -e "$(function_name "$pattern")" "${files[@]}" || stale+=("$pattern")
    done
fi

if [ "${#stale[@]}" -gt 0 ]; then
    echo "$config: each exclude_re pattern below $how:" >&2
    printf '  %s\n' "${stale[@]}" >&2
    exit 1
fi
echo "$config: all ${#patterns[@]} exclude_re patterns name something"
