#!/usr/bin/env bash
# Smoke test of the built images (images/build.sh): each image's own entrypoint runs (buildah run,
# chroot isolation: podman cannot run containers here), as the image's user, and
#  - answers --help;
#  - the exporter, started with the args of deploy/kubernetes/deployment.yaml, serves the bundled
#    demo and answers /readyz and /metrics on the manifest's containerPort (moved to a free port,
#    localhost only);
#  - the Slack bot answers a question about the demo cluster on its console;
#  - the node agent has the Debian tools it runs (iptables nft and legacy, nft, ipset, conntrack, ip).
# The manifests must name the images built here (ghcr.io/loopscope/NAME:VERSION).
#
#   images/smoke-test.sh [--tag-prefix PREFIX] [--version V]
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=localhost/loopscope/
version=$(node -p 'require("./apps/exporter/package.json").version')
while [ $# -gt 0 ]; do
  case "$1" in
    --tag-prefix) prefix=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    *) echo "smoke-test.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
containers=()
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# Runs the image's ENTRYPOINT (read from its config, so a wrong one fails here) with ARGS.
entrypoint() { buildah inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' "$1"; }
container() { local c; c=$(buildah from --quiet "$1"); containers+=("$c"); echo "$c"; }
run_entry() { local image=$1 c=$2; shift 2; # shellcheck disable=SC2046
  buildah run --isolation chroot "$c" -- $(entrypoint "$image") "$@"; }

for name in loopscope-exporter loopscope-slack-bot loopscope-node-agent; do
  image="$prefix$name:$version"
  if ! buildah inspect --type image "$image" >/dev/null 2>&1; then fail "$image: not built"; continue; fi
  user=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$image")
  labels=$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "org.opencontainers.image.source"}} {{index .OCIv1.Config.Labels "org.opencontainers.image.version"}} {{index .OCIv1.Config.Labels "org.opencontainers.image.licenses"}}' "$image")
  [ "$labels" = "https://github.com/loopscope/loopscope $version Apache-2.0" ] && ok "$name: OCI labels source, version, licenses" || fail "$name: labels are '$labels'"
  c=$(container "$image")
  if out=$(run_entry "$image" "$c" --help 2>&1) && grep -q 'Usage' <<<"$out"; then ok "$name: entrypoint --help (user $user)"; else fail "$name: --help: $(head -3 <<<"$out")"; fi
done

# The manifests name these images and run them with args and ports the images understand.
exporter_manifest=deploy/kubernetes/deployment.yaml
for pair in "loopscope-exporter:$exporter_manifest" "loopscope-slack-bot:deploy/kubernetes/slack-bot.yaml"; do
  name=${pair%%:*} file=${pair#*:}
  grep -q "image: ghcr.io/loopscope/$name:$version\$" "$file" && ok "$file names ghcr.io/loopscope/$name:$version" || fail "$file does not name ghcr.io/loopscope/$name:$version"
done
grep -q 'runAsUser: 65532' "$exporter_manifest" && [ "$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "${prefix}loopscope-exporter:$version")" = 65532:65532 ] \
  && ok "exporter: image user 65532 = the manifest's runAsUser" || fail "exporter: image user and manifest runAsUser differ"

# The exporter with the manifest's args (a later --port/--listen-address wins: localhost, a free port).
# Comment lines inside the list are skipped; the list ends at the first other line.
mapfile -t args < <(awk '/^ *args:/ { on = 1; next } on && /^ *#/ { next } on && /^ *- --/ { sub(/^ *- /, ""); print; next } on { exit }' "$exporter_manifest")
port=$(grep -oE 'containerPort: [0-9]+' "$exporter_manifest" | head -1 | awk '{ print $2 }')
[ "${#args[@]}" -gt 0 ] && printf '%s\n' "${args[@]}" | grep -qx -- "--port=$port" && ok "exporter manifest: args ${args[*]} listen on containerPort $port" || fail "exporter manifest: args '${args[*]}' do not listen on containerPort $port"
freeport() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
free=$(freeport)
api=$(freeport)
image="${prefix}loopscope-exporter:$version"
c=$(container "$image")
log=$(mktemp)
# The manifest's --api-token-file is a mounted Secret in the cluster; here the token is copied in.
token_file=$(printf '%s\n' "${args[@]}" | sed -n 's/^--api-token-file=//p')
token=$(od -An -tx1 -N16 /dev/urandom | tr -d " \n")
if [ -n "$token_file" ]; then
  tf=$(mktemp)
  printf '%s\n' "$token" >"$tf"
  chmod 0644 "$tf"
  buildah run --isolation chroot --user 0:0 "$c" -- mkdir -p "$(dirname "$token_file")"
  buildah copy --quiet --chmod 0644 "$c" "$tf" "$token_file" >/dev/null
fi
run_entry "$image" "$c" "${args[@]}" --listen-address=127.0.0.1 "--port=$free" "--api-port=$api" >"$log" 2>&1 &
pids+=("$!")
ready=
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$free/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
if [ -n "$ready" ]; then
  ok "exporter image: /readyz answers 200 on the demo"
  # Read whole bodies into variables: `curl | grep -q` fails under pipefail when grep stops reading first.
  metrics=$(curl -fsS "http://127.0.0.1:$free/metrics" || true)
  grep -q '^loopscope_service_loopback_ratio{' <<<"$metrics" && ok "exporter image: /metrics has loopscope_service_loopback_ratio" || fail "exporter image: /metrics lacks loopscope_service_loopback_ratio"
  if [ -n "$token_file" ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api/api/v1/report")
    [ "$code" = 401 ] && ok "exporter image: the JSON API refuses a request without the token (401)" || fail "exporter image: the JSON API answered $code without the token"
    report=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$api/api/v1/report" || true)
    grep -q '"apiVersion":"loopscope/v1"' <<<"$report" \
      && ok "exporter image: the JSON API answers the report with the manifest's token file" || fail "exporter image: the JSON API did not answer the report with the token"
  fi
else
  fail "exporter image: /readyz did not answer within 60 s: $(tail -5 "$log")"
fi
rm -f "$log"

image="${prefix}loopscope-slack-bot:$version"
c=$(container "$image")
if out=$(run_entry "$image" "$c" ask why is payments-api timing out 2>&1) && grep -q 'payments' <<<"$out"; then ok "slack-bot image: console answers about the demo"; else fail "slack-bot image: ask: $(head -3 <<<"$out")"; fi

image="${prefix}loopscope-node-agent:$version"
c=$(container "$image")
for tool in "iptables-nft-save --version" "iptables-legacy-save --version" "nft --version" "ipset help" "conntrack --version" "ip -V"; do
  # shellcheck disable=SC2086
  if buildah run --isolation chroot "$c" -- $tool >/dev/null 2>&1; then ok "node-agent image: $tool"; else fail "node-agent image: $tool"; fi
done

echo "image smoke test: $failures failure(s)"
[ "$failures" -eq 0 ]
