#!/usr/bin/env bash
# Installs the Debian 12 packages Airlock builds and tests against: apt-get update, then one install of the whole
# list (a no-op for what is already there). Needs root (or sudo). The Swift 6 toolchain is not a Debian package: it
# must already be on PATH or in /opt/swift (see README.md).
set -euo pipefail

packages=(
    # build: system OpenSSL 3, libhs and zlib through pkg-config. libhs is Debian 12's Hyperscan 5.4.0, not its
    # Vectorscan 5.4.9, which misses matches (see Package.swift); Vectorscan conflicts with it and is removed.
    pkg-config libssl-dev libhyperscan-dev zlib1g-dev
    # the tests' real peers and tools: openssl s_client/s_server, curl, python3, sha256sum, zcat, mount
    openssl curl python3 ca-certificates coreutils gzip util-linux
    # the vendors' official Python clients for the end-to-end tests, in a virtual environment (section below)
    python3-venv
    # images: Leptonica decodes and re-encodes, Tesseract's C API recognises text (issue 14); the tests OCR the vendor's
    # copy with the tesseract command and render screenshots with Debian's fonts
    libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-eng fonts-dejavu-core fonts-liberation
    # the review console's browser tests (headless Chromium driven by Selenium), the scale-out test's load balancer,
    # and systemd-analyze for the packaged unit
    chromium chromium-driver haproxy systemd
)
if [[ "${AIRLOCK_BENCH:-0}" == "1" ]]; then
    # wrk and nginx: proxy-bench.sh; nginx as the stand-in vendor of proxy-memory-bench.sh, and heaptrack for its
    # HEAPTRACK=FILE (where the peak is allocated); GNU time: the CPU time redact-file-bench.sh reports
    packages+=(nginx-light wrk heaptrack time)
fi
if dpkg-query -W -f='${Status}' libvectorscan5 2>/dev/null | grep -q "install ok installed"; then
    packages+=("libvectorscan-dev-" "libvectorscan5-")
fi

sudo=""
if [[ "$(id -u)" != "0" ]]; then sudo="sudo"; fi
echo "==> apt-get update"
$sudo apt-get update -q
echo "==> installing: ${packages[*]}"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"

export PATH="/opt/swift/usr/bin:$PATH"
if ! command -v swift >/dev/null 2>&1; then
    echo "error: no Swift toolchain on PATH or in /opt/swift; install Swift 6 (swift.org) first" >&2
    exit 1
fi

# --- The vendors' official Python clients (Tests/AirlockProxyTests/VendorClientTests.swift) ---------------------------
# Debian's python3 is externally managed (PEP 668): the clients live in a virtual environment at
# .build/python-clients, made with Debian's /usr/bin/python3 whatever else is on PATH. pip runs only when the pinned
# versions are not already there; their dependencies are pinned too (scripts/python-clients-constraints.txt).
# Pillow renders the image tests' screenshots; Selenium drives headless Chromium for the review console's tests.
python_clients=("scaleapi==2.18.4" "labelbox==7.17.0" "pillow==13.0.0" "selenium==4.27.1")
venv="$(cd "$(dirname "$0")/.." && pwd)/.build/python-clients"
pinned_check='import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (a.split("==") for a in sys.argv[1:])))'
if "$venv/bin/python3" -c "$pinned_check" "${python_clients[@]}" 2>/dev/null; then
    echo "==> vendor Python clients already installed: ${python_clients[*]}"
else
    echo "==> vendor Python clients into $venv: ${python_clients[*]}"
    if ! "$venv/bin/python3" -c "" 2>/dev/null; then
        rm -rf "$venv"
        /usr/bin/python3 -m venv "$venv"
    fi
    "$venv/bin/python3" -m pip install -q --disable-pip-version-check --no-input \
        --constraint "$(dirname "$0")/python-clients-constraints.txt" "${python_clients[@]}"
fi
