#!/usr/bin/env bash
# Installs what Gantry needs from Debian's packages, once: PostgreSQL (the
# embedded default and every test's database), nats-server (the NATS
# JetStream bus path is tested against a real server), IPA Gothic (Japanese
# font embedded in certificate and invoice PDFs), PC/SC for the store
# station: pcscd (the PC/SC daemon), vsmartcard-vpcd (its virtual reader
# driver, which the tests' virtual cards connect to on 127.0.0.1:35963) and
# libpcsclite-dev (the headers github.com/ebfe/scard builds against with cgo),
# Node.js and npm (for the OpenAPI linter); then @redocly/cli, pinned, into the
# git-ignored .local/redocly (the OpenAPI lint test in cmd/gantry/app runs it);
# Chromium (the web pages' browser tests drive it headless) and, with
# scripts/axe.sh, axe-core (pinned, into .local/axe).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
[ -f /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || need+=(fonts-ipafont-gothic)
[ -x /usr/sbin/pcscd ] || need+=(pcscd)
ls /usr/lib/pcsc/drivers/serial/libifdvpcd.so* >/dev/null 2>&1 || need+=(vsmartcard-vpcd)
[ -f /usr/include/PCSC/winscard.h ] || need+=(libpcsclite-dev)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: please install: ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "deps.sh: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${need[@]}" >&2
fi

REDOCLY_VERSION=2.77.0
root="$(cd "$(dirname "$0")/.." && pwd)"
redocly="$root/.local/redocly/node_modules/.bin/redocly"
if [ "$("$redocly" --version 2>/dev/null)" != "$REDOCLY_VERSION" ]; then
  echo "deps.sh: installing @redocly/cli@$REDOCLY_VERSION into .local/redocly" >&2
  mkdir -p "$root/.local/redocly"
  npm install --silent --no-audit --no-fund --prefix "$root/.local/redocly" "@redocly/cli@$REDOCLY_VERSION" >&2
fi
"$(dirname "$0")/axe.sh"
