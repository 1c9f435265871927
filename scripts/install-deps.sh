#!/usr/bin/env bash
# Installs the Debian packages tvgeo builds against, when they are missing; with --test also what
# the end-to-end tests use (Chromium renders the HTML report, pdflatex compiles the LaTeX tables).
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
packages=(pkg-config libopenblas-dev liblapacke-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core fonts-wqy-microhei poppler-utils)
if [ "${1:-}" = "--test" ]; then
    packages+=(chromium texlive-latex-base texlive-latex-recommended)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "tvgeo: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "tvgeo: missing Debian packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "tvgeo: swift is not on PATH (Swift 6 is needed: https://www.swift.org/install/linux/)" >&2
    exit 1
fi
