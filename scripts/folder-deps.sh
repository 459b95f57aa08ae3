#!/usr/bin/env bash
# Prints the dependency edges between the folders of one module (A -> B: a file in A names a type declared at the top
# level of a file in B; comments ignored) and exits 1 if the edges form a cycle. Files directly in the module's
# directory count as the folder ".". Usage: scripts/folder-deps.sh Sources/AirlockProxy
set -euo pipefail
module=${1:?usage: $0 Sources/<Module>}
cd "$module"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

folders=(. $(find . -mindepth 1 -maxdepth 1 -type d -printf '%P\n' | sort))
files_of() { if [ "$1" = . ]; then find . -maxdepth 1 -name '*.swift'; else find "$1" -name '*.swift'; fi; }

for f in "${folders[@]}"; do
    key=${f//\//_}
    files_of "$f" | xargs -r cat | sed 's#//.*##' >"$work/$key.src"
    grep -hoE '^((public|package|internal|private|fileprivate|final|indirect|@[A-Za-z_]+) +)*(struct|class|enum|protocol|actor|typealias) +[A-Za-z_][A-Za-z0-9_]*' \
        "$work/$key.src" | awk '{print $NF}' | sort -u >"$work/$key.types" || true
done

: >"$work/edges"
for a in "${folders[@]}"; do
    for b in "${folders[@]}"; do
        [ "$a" = "$b" ] && continue
        types="$work/${b//\//_}.types"
        [ -s "$types" ] || continue
        if grep -qwF -f "$types" "$work/${a//\//_}.src"; then
            echo "$a -> $b"
            echo "$a $b" >>"$work/edges"
        fi
    done
done

if ! tsort "$work/edges" >/dev/null 2>"$work/tsort"; then
    echo "cycle between folders of $module:" >&2
    grep -v 'input contains a loop' "$work/tsort" | sed 's/^tsort: /  /' >&2
    exit 1
fi
