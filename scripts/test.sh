#!/usr/bin/env bash
# The project's test command (README, "The two commands"; CI runs it).
# Installs what the tests need beyond the Rust toolchain on a fresh Debian
# machine (nginx, for the static-mirror test; Python jsonschema, for the
# schema validation of reports and exports), then runs every test of the
# workspace. Extra arguments go to `cargo test` (e.g. `--locked`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-nginx.sh
scripts/install-paper-tools.sh
scripts/install-jsonschema.sh
cargo test --workspace "$@"
