# Shared by scripts/test and scripts/cluster: installing Debian packages and building.
# shellcheck shell=bash

KV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KV_BUILD_DIR="${KV_BUILD_DIR:-$KV_ROOT/build}"
KV_JOBS="${KV_JOBS:-2}"

# Everything the build and the tests need, from Debian 12 (see ../shared/STACK.md).
KV_PACKAGES=(
  build-essential cmake ninja-build ccache lld pkg-config
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libleveldb-dev libsnappy-dev libabsl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  prometheus-cpp-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
)

kv_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
kv_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whichever of KV_PACKAGES are missing (needs root or sudo).
kv_install_deps() {
  local missing=() p
  for p in "${KV_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  kv_log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || kv_die "missing packages (${missing[*]}) and not root: install them or run as root"
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures $KV_BUILD_DIR with any extra cmake arguments given (optional): once, and
# again when those arguments change (a script that now builds with other flags).
# shellcheck disable=SC2120
kv_build_dir_configure() {
  local stamp="$KV_BUILD_DIR/.kv-cmake-args" wanted="$*"
  if [ ! -f "$KV_BUILD_DIR/build.ninja" ] ||
     { [ $# -gt 0 ] && [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; }; then
    kv_log "configuring $KV_BUILD_DIR${wanted:+ ($wanted)}"
    cmake -S "$KV_ROOT" -B "$KV_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    if [ $# -gt 0 ]; then printf '%s' "$wanted" > "$stamp"; fi
  fi
}

# Builds the given targets (all when none) in $KV_BUILD_DIR, incrementally.
kv_build() {
  # shellcheck disable=SC2119  # configured as it is, or as scripts/test configured it
  kv_build_dir_configure
  kv_log "building ${*:-everything} (-j$KV_JOBS)"
  CCACHE_BASEDIR="$KV_ROOT" ninja -C "$KV_BUILD_DIR" -j"$KV_JOBS" "$@"
}
