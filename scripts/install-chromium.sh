#!/usr/bin/env bash
# Installs Chromium (Debian package `chromium`), the real browser in which
# the results pages' self-verification is tested (the CLI crate's
# tests/it/browser.rs runs it headless). Safe to run again: does nothing
# when chromium is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
