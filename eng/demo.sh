#!/usr/bin/env bash
# The README's main command: the side-by-side demo (N = 10^7 by default). Extra arguments go to the
# demo, for example  eng/demo.sh --quick   or   eng/demo.sh --n 5e7 --rounds 1 --out artifacts/demo-5e7
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project Native.Map.Bench -- demo "$@"
