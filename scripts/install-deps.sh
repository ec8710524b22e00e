#!/usr/bin/env bash
# Installs what signoff builds with, from Debian 12's packages only.
# Boost 1.81 is named explicitly: Debian's default Boost (1.74) has neither
# Boost.JSON nor Boost.URL. With --with-browser, also Chromium and
# ChromeDriver, which the inbox's browser test drives; with --with-fuzz,
# clang and its libFuzzer runtime, which fuzz/run.sh builds with. libssl-dev
# serves the HTTP adapter and the cluster (CAF's openssl module); the
# `openssl` command makes the cluster tests' certificates.
set -euo pipefail
packages=(g++ cmake make libcaf-dev libboost-json1.81-dev libboost-url1.81-dev
          libssl-dev libboost-test1.81-dev liblmdb-dev libcli11-dev
          openssl)
for option in "$@"; do
  case $option in
    --with-browser) packages+=(chromium chromium-driver) ;;
    --with-fuzz) packages+=(clang libclang-rt-14-dev) ;;
    *) echo "unknown option $option" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
