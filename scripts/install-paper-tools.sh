#!/usr/bin/env bash
# Installs the independent QR decoder and PDF renderer of the paper-channel
# tests (Debian's zbar-tools and poppler-utils: `zbarimg`, `pdftoppm`),
# used by crates/tallyboard-paper/tests and the exercise's sheet test.
# Safe to run again: does nothing when both are already installed.
set -euo pipefail
if command -v zbarimg >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends zbar-tools poppler-utils
