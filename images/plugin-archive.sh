#!/usr/bin/env bash
# Builds kubectl-loopscope-TAG.tar.gz for krew (deploy/krew/loopscope.yaml): the CLI compiled, with
# its production dependencies, under kubectl-loopscope/ (krew links kubectl-loopscope/kubectl-loopscope
# onto PATH). Run from a clone after `npm ci && npm run build`.
#
#   images/plugin-archive.sh v0.1.0 OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:?usage: plugin-archive.sh TAG OUTDIR}
out=$(mkdir -p "${2:?usage: plugin-archive.sh TAG OUTDIR}" && cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/kubectl-loopscope"
mkdir -p "$root"
cp package.json package-lock.json "$work/"
for p in packages/*/package.json apps/*/package.json; do mkdir -p "$work/$(dirname "$p")"; cp "$p" "$work/$p"; done
(cd "$work" && npm ci --omit=dev --no-audit --no-fund --loglevel=error --workspace @loopscope/cli >/dev/null)
mkdir -p "$root/packages/core" "$root/packages/generator" "$root/packages/demo" "$root/apps/cli"
cp -a "$work/node_modules" "$root/"
# The workspace links in node_modules/@loopscope point at these folders: core, the generator
# (`loopscope generate`) and the demo's data (`--demo`).
cp -a packages/core/package.json packages/core/dist "$root/packages/core/"
# A dependency npm installed beside core (yaml 2 while the root holds another major) goes with it.
if [ -d "$work/packages/core/node_modules" ]; then cp -a "$work/packages/core/node_modules" "$root/packages/core/"; fi
cp -a packages/generator/package.json packages/generator/dist "$root/packages/generator/"
cp -a packages/demo/package.json packages/demo/index.js packages/demo/index.d.ts packages/demo/demo-cluster.json packages/demo/node-dumps "$root/packages/demo/"
cp -a apps/cli/package.json apps/cli/dist apps/cli/bin "$root/apps/cli/"
cp LICENSE "$root/"
# krew runs this file; it starts the CLI beside it.
cat >"$root/kubectl-loopscope" <<'SH'
#!/bin/sh
exec node "$(dirname "$(readlink -f "$0")")/apps/cli/bin/kubectl-loopscope" "$@"
SH
chmod +x "$root/kubectl-loopscope"
tar -C "$work" -czf "$out/kubectl-loopscope-$tag.tar.gz" kubectl-loopscope
echo "$out/kubectl-loopscope-$tag.tar.gz"
