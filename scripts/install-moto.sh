#!/usr/bin/env bash
# Installs moto's S3 server (`moto_server`, PyPI `moto[server]`), the real
# S3-compatible server the object-storage tests run on 127.0.0.1 (it
# enforces If-None-Match and If-Match). Idempotent, quick when present.
set -euo pipefail
if command -v moto_server >/dev/null 2>&1; then
    exit 0
fi
if ! command -v pip >/dev/null 2>&1 && ! command -v pip3 >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends python3-pip
fi
PIP=$(command -v pip || command -v pip3)
"$PIP" install --quiet 'moto[server]' || "$PIP" install --quiet --break-system-packages 'moto[server]'
command -v moto_server >/dev/null 2>&1 || {
    echo "moto_server is still missing after pip install 'moto[server]'" >&2
    exit 1
}
