#!/usr/bin/env bash
# Installs the Debian 12 packages Airlock builds and tests against. Idempotent; needs root (or sudo).
# The Swift 6 toolchain itself is not a Debian package: it must already be on PATH (see README.md).
set -euo pipefail

packages=(
    # build: system OpenSSL 3, Vectorscan, zlib through pkg-config
    # libhs: Debian 12's Hyperscan 5.4.0, not its Vectorscan 5.4.9, which misses matches (see Package.swift)
    pkg-config libssl-dev libhyperscan-dev zlib1g-dev
    # tests drive real peers
    openssl curl python3 python3-venv ca-certificates
)
if [[ "${AIRLOCK_BENCH:-0}" == "1" ]]; then
    packages+=(nginx-light wrk)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

# Vectorscan conflicts with Hyperscan (both provide libhs); remove it in the same transaction.
if dpkg-query -W -f='${Status}' libvectorscan5 2>/dev/null | grep -q "install ok installed"; then
    missing+=("libvectorscan-dev-" "libvectorscan5-")
fi

if ((${#missing[@]})); then
    sudo=""
    if [[ "$(id -u)" != "0" ]]; then sudo="sudo"; fi
    echo "==> installing: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    if [[ -x /opt/swift/usr/bin/swift ]]; then
        echo "==> swift is at /opt/swift/usr/bin; add it to PATH" >&2
    else
        echo "error: no Swift toolchain on PATH; install Swift 6 (swift.org) first" >&2
    fi
    exit 1
fi
