#!/usr/bin/env bash
# The README's test command. Extra arguments go to `dotnet test`, for example
#   eng/test.sh --filter "FullyQualifiedName~Reliability" --logger "console;verbosity=normal"
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet test NativeMap.sln -c Release "$@"
