#!/usr/bin/env bash
# Installs nginx (Debian package), used to serve a mirror's public/ directory
# as a static mirror in the CLI crate's tests/it/mirror_static_nginx.rs. Safe to run
# again: does nothing when nginx is already installed.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends nginx
