#!/bin/sh
# Runs every libFuzzer target of the fuzz preset over its committed seeds.
#   tools/run_fuzzers.sh            a short fixed number of runs per target (CI)
#   tools/run_fuzzers.sh SECONDS    each target for SECONDS (one after the other)
# QUANTSCOPE_FUZZ_ONLY="fuzz_npy fuzz_gguf" runs only those targets; QUANTSCOPE_FUZZ_BUILD picks
# the build tree (the dev-asan build has the targets too, without coverage instrumentation).
# Build first: cmake --preset fuzz && cmake --build --preset fuzz
# New inputs go to build/fuzz/corpus/<target>/ (not to the committed seeds); a crash, leak,
# timeout or out-of-memory input is saved to build/fuzz/artifacts/ and the script exits 1.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QUANTSCOPE_FUZZ_BUILD:-$root/build/fuzz}
runs=${QUANTSCOPE_FUZZ_RUNS:-2000}
only=${QUANTSCOPE_FUZZ_ONLY:-}

if [ $# -gt 0 ]; then
    limit="-max_total_time=$1"
else
    limit="-runs=$runs"
fi

dictionary_of() {
    case "$1" in
        fuzz_safetensors | fuzz_packed) echo safetensors ;;
        fuzz_qparams | fuzz_paramfiles | fuzz_image_sidecar) echo json ;;
        fuzz_onnx_model) echo onnx ;;
        *) echo "${1#fuzz_}" ;;
    esac
}

mkdir -p "$build/artifacts"
status=0
for seeds in "$root"/fuzz/corpus/fuzz_*; do
    name=$(basename "$seeds")
    if [ -n "$only" ]; then
        case " $only " in *" $name "*) ;; *) continue ;; esac
    fi
    fuzzer="$build/fuzz/$name"
    if [ ! -x "$fuzzer" ]; then
        echo "run_fuzzers: $fuzzer is not built" >&2
        exit 1
    fi
    work="$build/corpus/$name"
    mkdir -p "$work"
    dict="$root/fuzz/dict/$(dictionary_of "$name").dict"
    set -- "$limit" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$name-"
    [ -f "$dict" ] && set -- "$@" -dict="$dict"
    echo "== $name"
    if ! "$fuzzer" "$@" "$work" "$seeds" 2>"$build/$name.log"; then
        status=1
        echo "run_fuzzers: $name found a problem (see $build/$name.log and $build/artifacts/)" >&2
    fi
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/$name.log" || true
done
exit $status
