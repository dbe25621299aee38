#!/usr/bin/env bash
# Installs Python's jsonschema (an independent JSON Schema validator) for
# the tests that validate the JSON report, the exports and the NIST ERR
# export against their schemas (crates/tallyboard/tests/it/results.rs).
# Idempotent: quick when it is already there.
set -euo pipefail
if python3 -c 'import jsonschema' 2>/dev/null; then
    exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q python3-jsonschema >/dev/null || true
fi
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema
python3 -c 'import jsonschema'
