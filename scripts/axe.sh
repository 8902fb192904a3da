#!/usr/bin/env bash
# Installs axe-core (pinned, from npm) into the git-ignored .local/axe for the
# browser tests' accessibility check (test/e2e, injected into Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.10.3
dir=.local/axe
if [ -f "$dir/node_modules/axe-core/axe.min.js" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/axe-core/package.json"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "axe.sh: please install npm (apt-get install npm)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2
fi
mkdir -p "$dir"
npm install --silent --no-audit --no-fund --prefix "$dir" "axe-core@$version" >&2
