#!/usr/bin/env bash
# build-cosmium.sh OUT: builds cosmium v0.1.20 (github.com/pikami/cosmium, a
# Go Cosmos DB emulator; its server is the package cmd/server) into OUT for
# `cosmos-bench -cosmium OUT`. It builds in a throw-away module outside ours,
# so cosmium never enters our go.mod. (`go install …@v0.1.20` would do, but
# it asks the proxy for the module's version list, which ours refuses.)
set -euo pipefail
out=$(realpath -m "${1:?usage: build-cosmium.sh OUT}")
if [[ -x $out ]]; then echo "cosmium already built: $out"; exit 0; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
printf 'module cosmiumbuild\n\ngo 1.24.0\n' > go.mod
export GOFLAGS=-mod=mod GOWORK=off
go get github.com/pikami/cosmium@v0.1.20
go build -o "$out" github.com/pikami/cosmium/cmd/server
echo "built $out"
