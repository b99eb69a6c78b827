#!/usr/bin/env bash
# Build the mltrace-otel OpenTelemetry Collector from builder-config.yaml with the
# OpenTelemetry Collector Builder (ocb), installed from the Go module proxy.
# Output: collector/_build/otelcol-mltrace (gitignored). A second run with the same manifest,
# builder version and Go version reuses the binary (hash stamp in collector/_build/.stamp).
# Go's module and build caches stay at their default locations (~/go, ~/.cache/go-build).
set -euo pipefail

BUILDER_VERSION=v0.165.0
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/_build"
binary="$build/otelcol-mltrace"
stamp_file="$build/.stamp"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

stamp="$( { echo "builder $BUILDER_VERSION"; go version; cat "$here/builder-config.yaml"; } \
  | sha256sum | cut -d' ' -f1)"
if [[ -x "$binary" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
  echo "collector: up to date ($binary)"
  exit 0
fi

mkdir -p "$build/bin"
rm -f "$stamp_file"
echo "collector: installing ocb $BUILDER_VERSION"
GOBIN="$build/bin" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
echo "collector: building $binary"
(cd "$here" && "$build/bin/builder" --config=builder-config.yaml)
"$binary" --version
echo "$stamp" >"$stamp_file"
