#!/usr/bin/env bash
# Installs what weft needs from Debian 12 packages.
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --test   plus test tools (gtest, benchmark, clang, PostgreSQL, chromium)
set -euo pipefail

pkgs=(cmake ninja-build g++ pkg-config nlohmann-json3-dev libre2-dev libicu-dev libcli11-dev libyaml-cpp-dev
  libvalijson-dev libboost1.81-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev liblua5.4-dev libpq-dev curl
  libhowardhinnant-date-dev tzdata libsodium-dev libargon2-dev libjemalloc-dev libmagic-dev libpoppler-cpp-dev libsimdjson-dev libhnswlib-dev)
# node and npm bundle the web assets at build time (and run the
# differential test against the reference JSONata); keep ones already
# installed (any source), else take Debian's.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev clang-format clang-tidy postgresql chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
