#!/usr/bin/env bash
# Prints export lines for development keys, made once under .local/ (git-ignored).
# Production sets GANTRY_KEK, GANTRY_TOKEN_KEY, GANTRY_CODE_KEY and
# GANTRY_LOG_KEY itself; the key-encryption key and the log signing key must
# never be stored in the database.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
f=$root/.local/dev.env
if [ ! -f "$f" ]; then
  mkdir -p "$root/.local"
  umask 077
  {
    echo "export GANTRY_KEK=$(head -c 32 /dev/urandom | base64)"
    echo "export GANTRY_TOKEN_KEY=$(head -c 32 /dev/urandom | base64)"
    # Certificate verification codes (older dev.env files lack it: the code
    # key is then derived from the token key, and existing codes stay valid).
    echo "export GANTRY_CODE_KEY=$(head -c 32 /dev/urandom | base64)"
  } >"$f"
fi
if ! grep -q GANTRY_LOG_KEY "$f"; then
  # The transparency log's signing key (a note signer key), made by gantry itself.
  skey=$(cd "$root" && go run ./cmd/gantry log keygen gantry.local/log | head -n 1)
  echo "export GANTRY_LOG_KEY='$skey'" >>"$f"
fi
cat "$f"
