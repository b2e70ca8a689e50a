#!/bin/sh
# collect-node-dumps.sh — read-only snapshot of a Kubernetes node's datapath for `loopscope trace`.
#
# Writes <outdir>/<node>/:
#   iptables-save.txt        iptables-save -c (all tables)
#   ip6tables-save.txt       ip6tables-save -c, when the node has it
#   iptables-legacy-save.txt / iptables-nft-save.txt
#                            the other iptables backend too, when it holds rules (kube-proxy may use
#                            one backend and the host's default `iptables-save` the other)
#   nft.json / nft.txt       nft -j list ruleset / nft -a list ruleset, when the node has nftables
#                            (kube-proxy nftables mode keeps its rules in `table ip kube-proxy`,
#                            which iptables-save does not show)
#   ipset.txt                ipset save (else ipset list)
#   addr.txt                 ip -o addr
#   conntrack.txt            conntrack -L for IPv4 and IPv6 (else /proc/net/nf_conntrack)
#   ipvsadm.txt              ipvsadm -Ln, when present (not read by loopscope; for people)
#   collect-info.txt         when, where, tool versions, and what could not be collected
#
# It only reads. It does not load kernel modules on purpose: nft is skipped when nf_tables is not
# loaded (then the node has no nftables rules), ipset is skipped when the ip_set
# module is not loaded (then the node has no sets), and conntrack falls back to
# /proc/net/nf_conntrack when nf_conntrack_netlink is not loaded.
#
# Usage: collect-node-dumps.sh [-o OUTDIR] [-n NODE_NAME] [-r ROOT]    (run as root on the node)
#
# Without SSH, through a debug pod (host namespaces; the node's root at /host):
#   kubectl debug node/NODE -i --image=busybox -- chroot /host sh -s -- -o /tmp/loopscope-dumps \
#     < scripts/collect-node-dumps.sh
#   then copy /host/tmp/loopscope-dumps out of the debug pod with kubectl cp.
#
# Exit status: 0 when iptables-save or the nftables ruleset was collected, 1 otherwise, 2 on bad usage.

set -u

OUTDIR=./loopscope-dumps
NODE=${NODE_NAME:-}
ROOT=

usage() {
  cat <<'USAGE'
Usage: collect-node-dumps.sh [-o OUTDIR] [-n NODE_NAME] [-r ROOT]

Read-only snapshot of this node's datapath for `loopscope trace`, written to OUTDIR/NODE_NAME/:
iptables-save.txt, ip6tables-save.txt, nft.json, nft.txt, ipset.txt, addr.txt, conntrack.txt,
collect-info.txt.

  -o OUTDIR     where to write (default ./loopscope-dumps)
  -n NODE_NAME  the directory name (default: $NODE_NAME, else the host name)
  -r ROOT       run the node's own tools with `chroot ROOT` (e.g. -r /host in a debug pod)

Through a debug pod, without SSH:
  kubectl debug node/NODE -i --image=busybox -- chroot /host sh -s -- -o /tmp/loopscope-dumps \
    < scripts/collect-node-dumps.sh
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    -o) [ $# -ge 2 ] || { echo "collect-node-dumps: -o needs a directory" >&2; exit 2; }; OUTDIR=$2; shift 2 ;;
    -n) [ $# -ge 2 ] || { echo "collect-node-dumps: -n needs a name" >&2; exit 2; }; NODE=$2; shift 2 ;;
    -r) [ $# -ge 2 ] || { echo "collect-node-dumps: -r needs a directory" >&2; exit 2; }; ROOT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "collect-node-dumps: unknown argument: $1 (see -h)" >&2; exit 2 ;;
  esac
done

if [ -n "$ROOT" ] && [ ! -d "$ROOT" ]; then
  echo "collect-node-dumps: -r $ROOT: not a directory" >&2
  exit 2
fi
if [ -z "$NODE" ]; then
  NODE=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname 2>/dev/null || echo node)
fi
case "$NODE" in
  */*|.|..|'') echo "collect-node-dumps: bad node name '$NODE'" >&2; exit 2 ;;
esac

DIR=$OUTDIR/$NODE
mkdir -p "$DIR" || { echo "collect-node-dumps: cannot create $DIR" >&2; exit 1; }

MISSING=
COLLECTED=
note_missing() { MISSING="$MISSING
  $1"; echo "collect-node-dumps: $1" >&2; }
note_ok() { COLLECTED="$COLLECTED
  $1"; }

# Runs a node tool (inside ROOT when given), with a time limit when `timeout` exists.
TIMEOUT=
if command -v timeout >/dev/null 2>&1; then TIMEOUT="timeout 120"; fi
node_cmd() {
  if [ -n "$ROOT" ]; then
    $TIMEOUT chroot "$ROOT" "$@"
  else
    $TIMEOUT "$@"
  fi
}
have() {
  if [ -n "$ROOT" ]; then
    chroot "$ROOT" sh -c "command -v $1" >/dev/null 2>&1
  else
    command -v "$1" >/dev/null 2>&1
  fi
}
# Paths under /proc and /sys as the node sees them (the same inside a chroot with host PID ns).
node_path() { printf '%s%s' "$ROOT" "$1"; }
# True when a kernel module is usable without loading it: loaded, built in, or the kernel has no
# module support at all. Reading a dump must not make the kernel load anything.
module_ready() {
  [ -d "$(node_path /sys/module/"$1")" ] && return 0
  [ -r "$(node_path /proc/modules)" ] || return 0
  grep -q "^$1 " "$(node_path /proc/modules)" && return 0
  grep -qs "/$1.ko" "$(node_path /lib/modules/"$(uname -r)"/modules.builtin)" && return 0
  return 1
}

# collect FILE DESCRIPTION CMD ARGS... : writes FILE only when CMD succeeds with output.
collect() {
  file=$1
  what=$2
  shift 2
  tmp=$DIR/.$file.tmp
  if node_cmd "$@" >"$tmp" 2>"$DIR/.err"; then
    if [ -s "$tmp" ]; then
      mv "$tmp" "$DIR/$file"
      note_ok "$file ($what: $(wc -l <"$DIR/$file" | tr -d ' ') lines)"
      rm -f "$DIR/.err"
      return 0
    fi
    rm -f "$tmp"
    note_missing "$what printed nothing (no rules or entries)"
  else
    rm -f "$tmp"
    note_missing "$what failed: $(head -c 300 "$DIR/.err" | tr '\n' ' ')"
  fi
  rm -f "$DIR/.err"
  return 1
}

# --- iptables ---------------------------------------------------------------
IPT_OK=1
if have iptables-save; then
  collect iptables-save.txt "iptables-save -c" iptables-save -c && IPT_OK=0
else
  note_missing "iptables-save: command not found (Debian/Ubuntu: apt-get install iptables)"
fi
if have ip6tables-save; then
  collect ip6tables-save.txt "ip6tables-save -c" ip6tables-save -c || true
fi
# The other backend: kube-proxy (in its own container) may write legacy rules on an nft host, or
# the reverse. Keep it when it has Kubernetes chains, and say which file to give loopscope.
DEFAULT_BACKEND=
if [ -f "$DIR/iptables-save.txt" ]; then
  case "$(head -c 200 "$DIR/iptables-save.txt")" in
    *nf_tables*) DEFAULT_BACKEND=nft ;;
    *) DEFAULT_BACKEND=legacy ;;
  esac
fi
for other in legacy nft; do
  [ "$other" = "$DEFAULT_BACKEND" ] && continue
  tool=iptables-$other-save
  have "$tool" || continue
  if node_cmd "$tool" -c >"$DIR/.other.tmp" 2>/dev/null && grep -q '^:KUBE-' "$DIR/.other.tmp"; then
    mv "$DIR/.other.tmp" "$DIR/$tool.txt"
    note_ok "$tool.txt ($tool -c: $(wc -l <"$DIR/$tool.txt" | tr -d ' ') lines)"
    if ! grep -q '^:KUBE-' "$DIR/iptables-save.txt" 2>/dev/null; then
      echo "collect-node-dumps: the Kubernetes rules are in $tool.txt (the $other backend), not in iptables-save.txt: give that file to loopscope" >&2
    fi
  fi
  rm -f "$DIR/.other.tmp"
done

# --- nftables ---------------------------------------------------------------
# JSON is the stable, machine-readable form; the text (with rule handles) is what people read.
NFT_OK=1
if ! module_ready nf_tables; then
  note_missing "nft: the nf_tables module is not loaded, so the node has no nftables rules (not loading it)"
elif have nft; then
  collect nft.json "nft -j list ruleset" nft -j list ruleset && NFT_OK=0
  collect nft.txt "nft -a list ruleset" nft -a list ruleset && NFT_OK=0
  if [ $NFT_OK -eq 0 ] && grep -q 'kube-proxy' "$DIR/nft.json" "$DIR/nft.txt" 2>/dev/null; then
    echo "collect-node-dumps: the node has kube-proxy's nftables table: loopscope reads nft.json" >&2
  fi
else
  note_missing "nft: command not found (Debian/Ubuntu: apt-get install nftables); kube-proxy nftables mode needs it"
fi

# --- ipset ------------------------------------------------------------------
if ! module_ready ip_set; then
  note_missing "ipset: the ip_set module is not loaded, so the node has no sets (not loading it)"
elif have ipset; then
  collect ipset.txt "ipset save" ipset save || collect ipset.txt "ipset list" ipset list || true
else
  note_missing "ipset: command not found (Debian/Ubuntu: apt-get install ipset); IPVS-mode traces need it"
fi

# --- addresses --------------------------------------------------------------
if have ip; then
  collect addr.txt "ip -o addr" ip -o addr show || true
else
  note_missing "ip: command not found (Debian/Ubuntu: apt-get install iproute2)"
fi

# --- conntrack --------------------------------------------------------------
CT_DONE=1
if have conntrack && module_ready nf_conntrack_netlink; then
  # Default family is IPv4; ask for IPv6 too. The summary line goes to stderr.
  if node_cmd conntrack -L -f ipv4 >"$DIR/.ct.tmp" 2>/dev/null; then
    node_cmd conntrack -L -f ipv6 >>"$DIR/.ct.tmp" 2>/dev/null || true
    mv "$DIR/.ct.tmp" "$DIR/conntrack.txt"
    note_ok "conntrack.txt (conntrack -L, ipv4 and ipv6: $(wc -l <"$DIR/conntrack.txt" | tr -d ' ') entries)"
    CT_DONE=0
  fi
  rm -f "$DIR/.ct.tmp"
fi
if [ $CT_DONE -ne 0 ]; then
  if [ -r "$(node_path /proc/net/nf_conntrack)" ]; then
    cat "$(node_path /proc/net/nf_conntrack)" >"$DIR/conntrack.txt" 2>/dev/null && note_ok "conntrack.txt (/proc/net/nf_conntrack)"
  elif have conntrack; then
    note_missing "conntrack: nf_conntrack_netlink is not loaded and /proc/net/nf_conntrack is absent (not loading modules)"
  else
    note_missing "conntrack: command not found (Debian/Ubuntu: apt-get install conntrack) and no /proc/net/nf_conntrack"
  fi
fi

# --- IPVS (for people; loopscope does not read it) --------------------------
if have ipvsadm && module_ready ip_vs; then
  collect ipvsadm.txt "ipvsadm -Ln" ipvsadm -Ln || true
fi

# --- summary ----------------------------------------------------------------
{
  echo "node: $NODE"
  echo "collected at: $(date -u '+%Y-%m-%dT%H:%M:%SZ' 2>/dev/null)"
  echo "kernel: $(uname -r 2>/dev/null)"
  [ -n "$ROOT" ] && echo "tools run with: chroot $ROOT"
  for t in iptables nft ipset conntrack; do
    if have $t; then echo "$t: $(node_cmd $t --version 2>&1 | head -n 1)"; fi
  done
  echo "collected:$COLLECTED"
  echo "not collected:${MISSING:- (nothing)}"
} >"$DIR/collect-info.txt"

echo "collect-node-dumps: wrote $DIR:$COLLECTED" >&2
if [ $IPT_OK -ne 0 ] && [ $NFT_OK -ne 0 ]; then
  echo "collect-node-dumps: neither iptables-save nor the nftables ruleset could be collected; loopscope trace needs one" >&2
  exit 1
fi
if [ $IPT_OK -eq 0 ]; then
  echo "collect-node-dumps: next: loopscope trace --iptables-save $DIR/iptables-save.txt --ipset $DIR/ipset.txt --addr $DIR/addr.txt --src POD_IP --dst LB_IP:PORT" >&2
fi
if [ $NFT_OK -eq 0 ]; then
  echo "collect-node-dumps: next: loopscope trace --nft $DIR/nft.json --addr $DIR/addr.txt --src POD_IP --dst LB_IP:PORT" >&2
fi
exit 0
