#!/usr/bin/env bash
# Debian packages the tests need beyond Node and PostgreSQL (which
# scripts/postgres.sh handles): espeak-ng synthesises the test speech,
# chromium runs the dashboard's browser tests, openssl makes the test
# certificate of the Azure runner tests. Idempotent; installs only
# what is missing, and needs root only when something is.
set -euo pipefail

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps.sh: missing ${missing[*]}; installing needs root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "test-deps.sh: installing ${missing[*]} (apt-get)" >&2
apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${missing[@]}" >&2
