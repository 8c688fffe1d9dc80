#!/usr/bin/env bash
# Installs what building and testing Wharf needs on a Debian machine of the kind
# Wharf is developed on. Idempotent: each step is skipped when already satisfied.
set -euo pipefail

need_apt=()
# etcd: the benchmark compares Wharf's store with a real single-member etcd.
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
# protoc: the benchmark's etcd client compiles etcd's gRPC definitions.
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
# kubectl drives the end-to-end tests; these machines ship it, others get Debian's.
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubernetes-client)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The official Kubernetes Python client, for the client-library tests, in a
# virtualenv of its own so nothing on the system changes.
tools="${WHARF_TOOLS:-/var/tmp/wharf-tools}"
if ! "$tools/py/bin/python3" -c 'import kubernetes' >/dev/null 2>&1; then
  echo "setup: installing the Kubernetes Python client into $tools/py"
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    # Debian's own python3 ships venv separately.
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$tools/py"
  python3 -m venv "$tools/py"
  "$tools/py/bin/pip" install --quiet --disable-pip-version-check kubernetes
fi

# The toolchain pinned by rust-toolchain.toml (rustup installs it on first use), and
# the WebAssembly target the plugins are built for.
rustup show active-toolchain >/dev/null
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "setup: adding the wasm32-wasip2 target"
  rustup target add wasm32-wasip2
fi
