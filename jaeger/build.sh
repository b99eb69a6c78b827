#!/usr/bin/env bash
# Build Jaeger v2 (`github.com/jaegertracing/jaeger/cmd/jaeger`) from the Go module proxy.
# Jaeger's go.mod has a replace directive, so `go install pkg@version` refuses it: the build
# runs in a small generated wrapper module under jaeger/_build/ (gitignored) that requires
# Jaeger as a tool and repeats that replace. Output: jaeger/_build/jaeger. A second run with
# the same versions and Go reuses the binary (hash stamp). Go caches stay at their defaults.
set -euo pipefail

JAEGER_MODULE_VERSION=v1.75.0   # the Go module tag; the same release is Jaeger v2.12.0
JAEGER_VERSION=v2.12.0
SARAMA_REPLACE="github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0"  # from Jaeger's go.mod
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/_build"
binary="$build/jaeger"
stamp_file="$build/.stamp"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

stamp="$(echo "$JAEGER_MODULE_VERSION $JAEGER_VERSION $SARAMA_REPLACE $(go version)" \
  | sha256sum | cut -d' ' -f1)"
if [[ -x "$binary" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
  echo "jaeger: up to date ($binary)"
  exit 0
fi

rm -rf "$build/module" "$stamp_file"
mkdir -p "$build/module"
cd "$build/module"
cat >go.mod <<MOD
module mltrace-otel.local/jaeger-build

go 1.26

replace $SARAMA_REPLACE
MOD
echo "jaeger: resolving github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION"
go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION"
echo "jaeger: building $binary"
version_pkg=github.com/jaegertracing/jaeger/internal/version
go build -trimpath -o "$binary" \
  -ldflags "-s -w -X $version_pkg.latestVersion=$JAEGER_VERSION -X $version_pkg.commitSHA=$JAEGER_MODULE_VERSION" \
  github.com/jaegertracing/jaeger/cmd/jaeger
"$binary" version
echo "$stamp" >"$stamp_file"
