#!/usr/bin/env bash
# BenchmarkDotNet suites. Without arguments: the six long -> long classes under the short job.
# With arguments: passed to BenchmarkDotNet as they are, for example
#   eng/bench.sh --filter '*SizeSweep*' --job short
#   eng/bench.sh --filter '*LookupHit*'
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  set -- --filter 'Native.Map.Bench.Suites.InsertFromEmpty.*' 'Native.Map.Bench.Suites.InsertPresized.*' \
    'Native.Map.Bench.Suites.LookupHit.*' 'Native.Map.Bench.Suites.LookupMiss.*' \
    'Native.Map.Bench.Suites.RemoveAll.*' 'Native.Map.Bench.Suites.IterateAll.*' --job short
fi
exec dotnet run -c Release --project Native.Map.Bench -- "$@"
