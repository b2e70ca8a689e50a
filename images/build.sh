#!/usr/bin/env bash
# Builds loopscope's images with buildah (images/images.tsv lists them), from the repository root.
#
#   images/build.sh [--base IMAGE] [--tag-prefix PREFIX] [--version V] [NAME...]
#
# --base defaults to the official docker.io/library/node:24-bookworm-slim; CI passes the one
# images/build-base.sh assembles from Debian's and npm's packages. Prints each image's build time.
set -euo pipefail
cd "$(dirname "$0")/.."
base=docker.io/library/node:24-bookworm-slim
prefix=localhost/loopscope/
version=$(node -p 'require("./apps/exporter/package.json").version')
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=$2; shift 2 ;;
    --tag-prefix) prefix=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
# The CA that this machine's npm trusts (a TLS-inspecting proxy), handed to the build as a secret.
ca=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}
secret=()
if [ -n "$ca" ] && [ "$ca" != null ] && [ -s "$ca" ]; then secret=(--secret "id=npm_ca,src=$ca"); fi
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
while IFS=$'\t' read -r name dir workspace user packages description; do
  case "$name" in ''|'#'*) continue ;; esac
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  start=$(date +%s)
  buildah bud --isolation chroot --layers --quiet -f images/Dockerfile "${secret[@]}" \
    --build-arg "NODE_BASE=$base" --build-arg "APP_DIR=$dir" --build-arg "WORKSPACE=$workspace" \
    --build-arg "RUN_AS=$user" --build-arg "APT_PACKAGES=$( [ "$packages" = - ] && echo '' || echo "${packages//,/ }")" \
    --build-arg "TITLE=$name" --build-arg "DESCRIPTION=$description" \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
    -t "$prefix$name:$version" . >/dev/null
  echo "built $prefix$name:$version in $(( $(date +%s) - start )) s"
done < images/images.tsv
