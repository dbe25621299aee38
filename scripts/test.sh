#!/usr/bin/env bash
# The project's test command (README, "The two commands"; CI runs it).
# Installs what the tests need beyond the Rust toolchain on a fresh Debian
# machine (nginx, for the static-mirror and browser tests; Chromium, for the
# browser test of the results pages; Python jsonschema, for the schema
# validation of reports and exports; moto, the S3 server of the
# object-storage tests), then runs every test of the
# workspace. Extra arguments go to `cargo test` (e.g. `--locked`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-nginx.sh
scripts/install-chromium.sh
scripts/install-paper-tools.sh
scripts/install-jsonschema.sh
scripts/install-moto.sh
cargo test --workspace "$@"
