#!/usr/bin/env bash
# Fails when a C++ file of the project is not formatted as the root .clang-format says
# (Debian's clang-format package). `tools/checks/check_format.sh --fix` formats them in place.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run -Werror "${files[@]}" 2> /tmp/quantscope-format.$$; then
  grep -o '^[^:]*:[0-9]*:[0-9]*: error' /tmp/quantscope-format.$$ | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
  rm -f /tmp/quantscope-format.$$
  echo "run tools/checks/check_format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/quantscope-format.$$
echo "all ${#files[@]} C++ files formatted"
