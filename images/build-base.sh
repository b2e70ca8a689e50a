#!/usr/bin/env bash
# Builds a Node base image without a container registry: Debian bookworm from Debian's packages
# (debootstrap --variant=minbase) plus the Node binary of the npm registry's `node` package and npm.
# It stands in for docker.io/library/node:<major>-bookworm-slim where only Debian and npm are
# reachable (this project's CI); the release workflow uses the official image instead. Same layout:
# node and npm in /usr/local/bin.
#
#   images/build-base.sh 24 localhost/loopscope/node:24-bookworm
set -euo pipefail
major=${1:?usage: build-base.sh NODE_MAJOR IMAGE}
image=${2:?usage: build-base.sh NODE_MAJOR IMAGE}
work=$(mktemp -d /var/tmp/loopscope-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase bookworm "$work/rootfs" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
# What the official slim image has and the Dockerfile's apt-get needs; nothing of the host leaks in.
chroot "$work/rootfs" apt-get clean
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin

npm install --no-audit --no-fund --loglevel=error --prefix "$work/npm" "node@$major" npm@11 >/dev/null
node_bin=$(readlink -f "$work/npm/node_modules/node/bin/node")
install -m 0755 "$node_bin" "$work/rootfs/usr/local/bin/node"
mkdir -p "$work/rootfs/usr/local/lib/node_modules"
cp -a "$work/npm/node_modules/npm" "$work/rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
version=$(chroot "$work/rootfs" /usr/local/bin/node --version)

tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
ctr=$(buildah from scratch)
buildah add --quiet "$ctr" "$work/rootfs.tar" / >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env "NODE_VERSION=${version#v}" --cmd node \
  --label org.opencontainers.image.description="Debian bookworm (debootstrap minbase) with Node ${version} from the npm registry" "$ctr"
buildah commit --quiet --rm "$ctr" "$image" >/dev/null
echo "$image: Debian bookworm minbase, Node $version"
