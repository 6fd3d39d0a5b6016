#!/usr/bin/env bash
# Installs the system packages the project needs and the machine lacks, from Debian's archive:
# Java 17 and Maven (the local Kafka broker) and, with --browser, Chromium (the browser test).
# Needs root (or sudo) for apt-get; otherwise says what to install and fails.
set -euo pipefail

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [[ "${1:-}" == "--browser" ]]; then
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
((${#need[@]})) || exit 0

echo "installing ${need[*]} from Debian's packages"
if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "need root to install: apt-get install ${need[*]}" >&2
    exit 1
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}"
