#!/usr/bin/env bash
# Image inspection figures: OCR redaction of a 1280x800 (1-megapixel) screenshot with the demo policy's secrets drawn
# in it, in images per second on one core, and metadata-only removal (images: {ocr: false}) of a 12-megapixel JPEG
# photo with EXIF GPS, in MB/s. Renders the inputs with Pillow (.build/python-clients), builds the release bench.
# Usage: Benchmarks/image-bench.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/bench-common.sh
bench_workdir airlock-image-bench
bash Benchmarks/machine.sh
python=.build/python-clients/bin/python3
"$python" - "$work" <<'PY'
import json, subprocess, sys
work = sys.argv[1]
texts = ["Roadmap review: Nightingale launch in Q3 2026", "Please label every button on the checkout page",
         "Contact jane.doe@lab.example.com for access", "Dashboard https://wiki.corp.example.com/metrics",
         "Weather forecast: sunny afternoon", "Tidewater training run finished", "Order #4471 shipped to the customer",
         "Settings  Profile  Billing  Notifications  Help", "Total due: $1,284.00   Pay now   Cancel"]
fonts = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf"]
lines = [{"text": texts[k % len(texts)], "font": fonts[k % len(fonts)], "size": 18 + 2 * (k % 4),
          "at": [30 + 400 * (k // 18), 24 + 42 * (k % 18)]} for k in range(36)]
spec = {"out": work + "/screenshot.png", "size": [1280, 800], "background": [248, 248, 250], "lines": lines}
subprocess.run([sys.executable, "Tests/Images/render_screenshot.py"], input=json.dumps(spec).encode(), check=True)
from PIL import Image
import random
rng = random.Random(7)
photo = Image.effect_noise((4000, 3000), 40).convert("RGB")
exif = Image.Exif(); exif[0x010F] = "LabCam"; gps = exif.get_ifd(0x8825); gps[1] = "N"; gps[2] = (37.0, 25.0, 19.2)
photo.save(work + "/photo.jpg", "JPEG", quality=90, exif=exif.tobytes())
PY
swift build -c release -j 1 --product airlock-image-bench >/dev/null
OMP_THREAD_LIMIT=1 "$(swift build -c release --show-bin-path)/airlock-image-bench" Policies/demo.yaml \
    "$work/screenshot.png" "$work/photo.jpg" "${1:-10}"
