# tools/lib.sh -- what the tools/ scripts share: installing the packages each one needs, and
# building. Sourced, not run. Every function reports what it does on stderr.

GREETER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages, one list per use; a tool installs only the lists it uses. Add a package to
# the list of what needs it (a test's tool goes in the test list).
# Building the tools (the -dev packages are optional features the build finds when present).
GREETER_BUILD_PACKAGES="cmake make ninja-build gcc g++ pkg-config libssl-dev libjansson-dev zlib1g-dev"
# Running the test suite: GoogleTest, and the real things the tests check against (systemd:
# systemd-socket-activate and systemd-analyze for the deploy tests; dpkg-dev: cpack -G DEB;
# openssh-server, postfix, redis-server, memcached, openssl (s_server): loadgen's tests against
# real servers; haproxy: the PROXY protocol and scale-out tests; strace: the system calls a
# greeting costs; testssl.sh: what the TLS server offers; clang and lld: tools/test compiles
# the test programs with clang++ and links with lld, both faster than the GNU tools).
GREETER_TEST_PACKAGES="libgtest-dev netbase python3 python3-yaml procps iproute2 valgrind
  gnuplot-nox systemd prometheus default-jre-headless libhdrhistogram-java nginx-light
  libnginx-mod-stream haproxy dpkg-dev openssh-server postfix redis-server memcached openssl
  strace testssl.sh clang lld"
# Fuzzing: clang; the libFuzzer runtime that matches it is added by greeter_install_fuzz.
GREETER_FUZZ_PACKAGES="clang"
# Static analysis.
GREETER_LINT_PACKAGES="cppcheck clang-tidy"

# greeter_install PACKAGE...: installs those of the packages that are missing, without
# recommends, and says in one line what it installed; apt's own output goes to a log that is
# shown only when the install fails. Not root: names what is missing and fails.
greeter_install() {
  local missing=() pkg log start
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "greeter: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
    return 1
  fi
  log=$(mktemp)
  start=$(date +%s)
  if apt-get update -q >"$log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    echo "greeter: installed ${missing[*]} ($(grep -c '^Setting up ' "$log") packages with dependencies, $(( $(date +%s) - start ))s)" >&2
    rm -f "$log"
    return 0
  fi
  echo "greeter: installing ${missing[*]} FAILED; apt-get said:" >&2
  tail -40 "$log" >&2
  rm -f "$log"
  return 1
}

# greeter_install_missing [PACKAGE...]: what building needs, plus the packages named.
greeter_install_missing() {
  # shellcheck disable=SC2086 # the lists are word lists
  greeter_install $GREETER_BUILD_PACKAGES "$@"
}

# greeter_install_fuzz: clang and the clang runtime (libFuzzer, sanitizers) of the same
# version as the clang installed, whichever that is.
greeter_install_fuzz() {
  # shellcheck disable=SC2086
  greeter_install $GREETER_FUZZ_PACKAGES || return 1
  local major
  major=$(clang -dumpversion | cut -d. -f1)
  greeter_install "libclang-rt-$major-dev"
}

# greeter_build DIR [CMAKE ARGS...]: configures (once) and builds into DIR: every target, or
# only those named in GREETER_BUILD_TARGETS (space-separated) when it is set. A new tree uses
# Ninja when it is installed (a from-scratch build takes 10% less time than with make). A tree
# that this function configured with other arguments (another compiler, say, which CMake
# cannot switch in place) is started afresh; a tree configured by hand is never removed.
greeter_build() {
  local dir=$1 targets=() generator=() args
  shift
  [[ ${GREETER_BUILD_TARGETS:-} =~ [^[:space:]] ]] && read -r -a targets <<<"--target $GREETER_BUILD_TARGETS"
  args=$(printf '%s\n' "$@")
  if [ -f "$dir/CMakeCache.txt" ] && [ -f "$dir/.greeter-cmake-args" ] &&
    [ "$(cat "$dir/.greeter-cmake-args")" != "$args" ]; then
    echo "greeter: $dir was configured with other options; building it afresh" >&2
    rm -rf "$dir"
  fi
  [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$GREETER_ROOT" -B "$dir" "${generator[@]}" "$@" >/dev/null || return 1
  printf '%s\n' "$args" >"$dir/.greeter-cmake-args"
  cmake --build "$dir" -j"$(nproc)" "${targets[@]}" >/dev/null ||
    { cmake --build "$dir" -j1 "${targets[@]}"; return 1; }
}
