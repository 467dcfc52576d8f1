#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with libFuzzer (AddressSanitizer on): each target of
# berth-fuzz (layer, image-json, api, registry, docker-archive, seccomp) for SECONDS seconds
# (default 60), starting from fuzz/seeds/<target> and a working corpus kept in
# .build-fuzz/corpus/<target>. A crash is saved as fuzz/crashes/<target>/<name> and the
# script exits 1; copy it to fuzz/regressions/<target>/ once fixed, where the test suite
# replays it. Needs root (the layer target unpacks device nodes into its scratch directory).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets=(layer image-json api registry docker-archive seccomp)
swift build --product berth-fuzz --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING
binary="$(swift build --scratch-path .build-fuzz --show-bin-path)/berth-fuzz"
status=0
for target in "${targets[@]}"; do
  corpus=".build-fuzz/corpus/$target"
  crashes="fuzz/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  echo "== $target: $seconds s"
  if ! BERTH_FUZZ_TARGET="$target" "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "fuzz/seeds/$target" 2>&1 | tail -n 12; then
    status=1
  fi
  if [ -n "$(ls -A "$crashes")" ]; then
    echo "!! $target: crashes in $crashes"
    status=1
  else
    rmdir "$crashes" 2>/dev/null || true
  fi
done
rmdir fuzz/crashes 2>/dev/null || true
exit $status
