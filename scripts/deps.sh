#!/usr/bin/env bash
# Installs, from Debian's packages, whatever fwdsim needs that is missing.
# Usage: scripts/deps.sh [EXTRA_PACKAGE...]
# Does nothing when everything is already installed, so it is safe to run
# before every build.  Installing needs root (or sudo).
set -euo pipefail

packages=(cmake ninja-build g++ libboost-dev catch2 libfmt-dev libyaml-cpp-dev libyaml-dev libcli11-dev "$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "fwdsim: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "fwdsim: need root to install: ${missing[*]} (run as root, or install them yourself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
