# tools/lib.sh -- what the tools/ scripts share: installing missing packages and building.
# Sourced, not run. Every function reports what it does on stderr.

GREETER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build, the tests and the scripts need.
GREETER_PACKAGES="cmake make g++ gcc pkg-config libssl-dev libgtest-dev libjansson-dev zlib1g-dev netbase python3 procps gnuplot-nox clang libclang-rt-14-dev cppcheck clang-tidy iproute2 python3-yaml default-jre-headless libhdrhistogram-java prometheus"
# systemd: systemd-socket-activate and systemd-analyze for the deploy tests; dpkg-dev: cpack -G DEB.
GREETER_PACKAGES+=" systemd dpkg-dev"

# Installs whatever of GREETER_PACKAGES (plus any extra names given) is missing.
greeter_install_missing() {
  local missing=() pkg
  for pkg in $GREETER_PACKAGES "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "greeter: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
    return 1
  fi
  echo "greeter: installing ${missing[*]}" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# greeter_build DIR [CMAKE ARGS...]: configures (once) and builds into DIR: every target, or
# only those named in GREETER_BUILD_TARGETS (space-separated) when it is set.
greeter_build() {
  local dir=$1 targets=()
  shift
  [[ ${GREETER_BUILD_TARGETS:-} =~ [^[:space:]] ]] && read -r -a targets <<<"--target $GREETER_BUILD_TARGETS"
  cmake -S "$GREETER_ROOT" -B "$dir" "$@" >/dev/null || return 1
  cmake --build "$dir" -j"$(nproc)" "${targets[@]}" >/dev/null ||
    { cmake --build "$dir" -j1 "${targets[@]}"; return 1; }
}
