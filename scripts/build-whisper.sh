#!/usr/bin/env bash
# Builds whisper.cpp (static, CPU only) and durascribe's N-API addon over its
# C API into build/native/durascribe-whisper.node. npm runs it after install
# (postinstall); `npm run build:native` runs it by hand. Offline: whisper.cpp
# comes from node_modules/nodejs-whisper, the headers from node-addon-api and
# from the node that runs this script.
#
# Environment:
#   DURASCRIBE_WHISPER_CPU  auto (default) | x86-64-v3 | generic
#                           auto: x86-64-v3 (AVX, AVX2, FMA, F16C, BMI2) on an
#                           x86-64 CPU that has them, otherwise generic.
#   DURASCRIBE_NATIVE_DIR   output folder (default build/native)
#   DURASCRIBE_BUILD_JOBS   parallel compile jobs (default 2)
#   DURASCRIBE_NATIVE_FORCE=1  rebuild even when up to date
#   DURASCRIBE_SKIP_NATIVE=1   do nothing (for installs that never transcribe)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ "${DURASCRIBE_SKIP_NATIVE:-}" == 1 ]]; then
  echo "whisper addon: skipped (DURASCRIBE_SKIP_NATIVE=1)"
  exit 0
fi

out=${DURASCRIBE_NATIVE_DIR:-$root/build/native}
mkdir -p "$out"
out=$(cd "$out" && pwd)
addon="$out/durascribe-whisper.node"
log="$out/build.log"
jobs=${DURASCRIBE_BUILD_JOBS:-2}

fail() {
  echo "whisper addon: $*" >&2
  exit 1
}

whisper_dir="$root/node_modules/nodejs-whisper/cpp/whisper.cpp"
[[ -f "$whisper_dir/include/whisper.h" ]] ||
  fail "whisper.cpp source not found at $whisper_dir (is nodejs-whisper installed?)"
for tool in cmake c++ node; do
  command -v "$tool" >/dev/null || fail "$tool is needed to build the addon"
done

node_include=$(node -p 'require("path").resolve(process.execPath, "../../include/node")')
[[ -f "$node_include/node_api.h" ]] ||
  fail "node's headers are missing at $node_include (install node with its include/ folder)"
addon_api=$(node -p 'require("path").dirname(require.resolve("node-addon-api/package.json"))')
whisper_version=$(sed -n 's/^project("whisper.cpp" VERSION \([0-9.]*\))/\1/p' "$whisper_dir/CMakeLists.txt")

cpu=${DURASCRIBE_WHISPER_CPU:-auto}
if [[ "$cpu" == auto ]]; then
  cpu=generic
  case "$(uname -m)" in
    x86_64 | amd64)
      if [[ ! -r /proc/cpuinfo ]]; then
        cpu=x86-64-v3
      elif grep -m1 '^flags' /proc/cpuinfo | grep -qw avx2 &&
        grep -m1 '^flags' /proc/cpuinfo | grep -qw fma &&
        grep -m1 '^flags' /proc/cpuinfo | grep -qw f16c; then
        cpu=x86-64-v3
      fi
      ;;
  esac
fi
case "$cpu" in
  x86-64-v3) simd=ON ;;
  generic) simd=OFF ;;
  *) fail "DURASCRIBE_WHISPER_CPU must be auto, x86-64-v3 or generic, not '$cpu'" ;;
esac

# The build is skipped when the addon exists, is newer than every source,
# and was built from the same sources, whisper.cpp, node ABI and CPU level.
sources=(native/* scripts/build-whisper.sh "$whisper_dir/CMakeLists.txt")
stamp="whisper.cpp=$whisper_version cpu=$cpu node-abi=$(node -p process.versions.modules) sources=$(cat native/* scripts/build-whisper.sh | sha256sum | cut -c1-16)"
if [[ "${DURASCRIBE_NATIVE_FORCE:-}" != 1 && -f "$addon" && -f "$out/stamp" &&
  "$(cat "$out/stamp")" == "$stamp" && -z "$(find "${sources[@]}" -newer "$addon" 2>/dev/null)" ]]; then
  echo "whisper addon: up to date ($cpu, $addon)"
  exit 0
fi

echo "whisper addon: building whisper.cpp $whisper_version for $cpu with $jobs jobs (log: $log)"
start=$(date +%s)
{
  cmake -S native -B "$out/cmake" \
    -DCMAKE_BUILD_TYPE=Release \
    -DWHISPER_CPP_DIR="$whisper_dir" \
    -DNODE_INCLUDE_DIR="$node_include" \
    -DNODE_ADDON_API_DIR="$addon_api" \
    -DGGML_NATIVE=OFF \
    -DGGML_SSE42=$simd -DGGML_AVX=$simd -DGGML_AVX2=$simd \
    -DGGML_FMA=$simd -DGGML_F16C=$simd -DGGML_BMI2=$simd &&
    cmake --build "$out/cmake" --target durascribe_whisper -j "$jobs"
} >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  fail "build failed; full log in $log"
}

cp "$out/cmake/durascribe-whisper.node" "$addon.tmp"
mv "$addon.tmp" "$addon"
echo "$stamp" >"$out/stamp"
echo "whisper addon: built $addon in $(($(date +%s) - start)) s"
