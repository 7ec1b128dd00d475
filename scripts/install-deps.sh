#!/usr/bin/env bash
# Installs what a fresh Debian machine with the Swift toolchain lacks:
# libzstd-dev, zlib1g-dev and libdeflate-dev (linked by flameconv), erlang-nox
# (the agent, the test oracles, the live BEAM comparison), zstd and gzip (test
# inputs, and the tools that read compressed outputs back), and
# pytest and jsonschema for the reader-parser and schema checks, chromium and
# python3-websocket for the report's browser tests. Does nothing that is already there.
set -euo pipefail

need=()
dpkg -s libzstd-dev >/dev/null 2>&1 || need+=(libzstd-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
dpkg -s libdeflate-dev >/dev/null 2>&1 || need+=(libdeflate-dev)
# flameconv batch: libarchive (linked), bsdtar for test archives, xxhsum to check the
# manifest's content hashes, and Slurm (controller, node daemon, client) and munge
# for the job-array test.
dpkg -s libarchive-dev >/dev/null 2>&1 || need+=(libarchive-dev)
command -v bsdtar >/dev/null 2>&1 || need+=(libarchive-tools)
command -v xxhsum >/dev/null 2>&1 || need+=(xxhash)
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1; then
    need+=(slurm-wlm)
fi
command -v munged >/dev/null 2>&1 || need+=(munge)
command -v erl >/dev/null 2>&1 || need+=(erlang-nox)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v gzip >/dev/null 2>&1 || need+=(gzip)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if ! python3 -c 'import pytest' >/dev/null 2>&1; then need+=(python3-pytest); fi
if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then need+=(python3-jsonschema); fi
# The report's browser tests (Tests/browser): headless Chromium, driven through DevTools.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! python3 -c 'import websocket' >/dev/null 2>&1; then need+=(python3-websocket); fi

if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
    # A pip-managed python3 may not see Debian's python3-pytest.
    python3 -c 'import pytest' >/dev/null 2>&1 || python3 -m pip install -q pytest
    python3 -c 'import jsonschema' >/dev/null 2>&1 || python3 -m pip install -q jsonschema
fi
# Likewise for the DevTools client (PyPI's websocket-client is Debian's python3-websocket).
python3 -c 'import websocket' >/dev/null 2>&1 || python3 -m pip install -q websocket-client
