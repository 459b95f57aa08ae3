#!/usr/bin/env bash
# Prints one line naming where and when a benchmark ran: CPU model, cores, the commit (with +dirty when the work tree
# has changes) and the date. Every benchmark prints it first, so a figure never travels without its machine.
cd "$(dirname "$0")/.."
cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then commit="$commit+dirty"; fi
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores; commit $commit; $(date -u '+%Y-%m-%d %H:%M UTC')"
