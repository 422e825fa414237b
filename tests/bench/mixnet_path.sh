#!/bin/sh
# The whole mixnet path's throughput and latency in the sandbox (scripts/sandbox.sh), through
# `nym-node probe` on the client host, against what the machine's cores allow. Prints one
# JSON object on stdout (progress on stderr); a measurement, not a pass/fail test.
#
#   tests/bench/mixnet_path.sh [--mib N] [--rounds-nodelay K] [--mib-default N] [--pings N]
#                              [--rounds-default R] [--sphinx-seconds S]
#
# Members:
#   goodput_mbps_nodelay, rtt_p50_ms_nodelay, rtt_p99_ms_nodelay, rtt_mean_ms_nodelay
#       per-hop delays 0 and the mixed Poisson stream's rate lifted (--per-hop-delay-ms 0
#       --poisson-ms 0; the probe then also flushes its IP bundles when its TUN is drained and
#       asks the IPR for a zero buffer timeout): an HTTP download of N MiB (default 8; HTTP
#       body bytes x 8 / the probe's transfer time) and the RTTs of its pings. The machine's
#       speed drifts by tens of percent within minutes (one X25519 has taken 33 to 70 us), so
#       the Sphinx costs are measured right before and right after every download and each
#       download is set against the mean of those two (its own ceiling, its own ratio). There
#       are --rounds-nodelay such rounds (3); goodput_mbps_nodelay, ceiling_mbps and
#       goodput_over_ceiling_nodelay are the medians over them, and "nodelay_rounds" lists
#       every round. The RTTs are those of all rounds' pings;
#   goodput_mbps_default, rtt_mean_ms_default, rtt_stderr_ms_default
#       the same with Nym's defaults (15 ms mean per-hop delay, 20 ms mixed stream, cover on,
#       5 ms bundle timeouts), downloading --mib-default MiB (default 2: the rate is low).
#       A ping's RTT then varies by about 42 ms (standard deviation of the delays below:
#       sqrt(6 x 15^2 + 20^2)), so the mean is taken over --rounds-default probe runs (3) of
#       --pings each (at most 32 per run), 90 by default: a standard error near 4.5 ms,
#       reported as rtt_stderr_ms_default;
#   rtt_predicted_ms_default
#       what the defaults add to the path's own round trip, on average:
#         rtt_mean_ms_nodelay + client_bundle_ms + poisson_ms + 3 x per_hop_delay_ms
#                             + ipr_buffer_ms + 3 x per_hop_delay_ms
#         = rtt_mean_ms_nodelay + 5 + 20 + 45 + 5 + 45 ms
#       A ping's packet waits in the client's IP bundle for its buffer timeout (5 ms, nothing
#       else fills it), then for the next tick of the mixed stream: ticks are a Poisson
#       process, so from any instant the wait is exponential with the stream's mean (20 ms,
#       memoryless). It then crosses three mix nodes, each holding it for an exponential
#       delay of mean 15 ms (the final hop at the exit gateway does not delay). The echo reply
#       waits in the IPR's bundle for its buffer timeout (5 ms, the IPR's default) and comes
#       back through a reply SURB the client built with the same per-hop delays (three mix
#       nodes again); the IPR sends it at once, without a Poisson stream. Everything else
#       (links, Sphinx work, the TUN devices, the kernels) is what the no-delay run measures.
#       It assumes the request fits one Sphinx packet, which a ping does;
#   ceiling_mbps
#       the goodput the cores allow given the Sphinx costs `nym-node bench sphinx` measures in
#       this run: each 2 KiB payload (2048 message bytes of a regular packet) costs the
#       client's creation of the packet, one forward hop at each of the three mix nodes and
#       the final hop at the gateway, all on this machine's cores:
#         packets/s = cores x 1e6 / (create_us + 3 x forward_us + final_us)
#         ceiling_mbps = packets/s x 2048 x 8 / 1e6
#       forward_us is the node's batched cost (process_forward_batched_us, how a node
#       processes what one receive brings); ceiling_mbps_unbatched uses one packet at a time.
#       Nothing else (Noise, TCP, TUN, the IPR, cover traffic, acks) is counted, so a real
#       path stays below it. --sphinx-seconds S (4) is split between the measurements around
#       each download (S/2 each).
# The issue's targets are reported under "targets".
#
# Needs root; NYM_BUILD selects the build (default build/).
set -u
cd "$(dirname "$0")/../.." || exit 1
MIB=8
ROUNDS_NODELAY=3
MIB_DEFAULT=2
ROUNDS_DEFAULT=3
PINGS=30
SPHINX_SECONDS=4
while [ $# -gt 0 ]; do
	case "$1" in
	--mib) MIB=$2; shift ;;
	--rounds-nodelay) ROUNDS_NODELAY=$2; shift ;;
	--mib-default) MIB_DEFAULT=$2; shift ;;
	--rounds-default) ROUNDS_DEFAULT=$2; shift ;;
	--pings) PINGS=$2; shift ;;
	--sphinx-seconds) SPHINX_SECONDS=$2; shift ;;
	*) echo "usage: $0 [--mib N] [--rounds-nodelay K] [--mib-default N] [--pings N] [--rounds-default R] [--sphinx-seconds S]" >&2; exit 2 ;;
	esac
	shift
done
. tests/lib/assert.sh
. tests/lib/mixnet.sh
mixnet_require
say() { echo "mixnet_path: $*" >&2; }

mixnet_up >/dev/null
BOOK=$WORK/ticketbook.json
mixnet_ticketbook "$BOOK"
BIG=bench$$.bin
head -c $((MIB * 1048576)) /dev/urandom >"$WWW_DIR/$BIG"
SMALL=bench$$-default.bin
head -c $((MIB_DEFAULT * 1048576)) /dev/urandom >"$WWW_DIR/$SMALL"
count_opt=""
"$NODE" probe --help 2>&1 | grep -q -- "--ping-count" && count_opt="--ping-count $PINGS"

HALF=$(awk -v s="$SPHINX_SECONDS" 'BEGIN { print s / 2 }')
sphinx() {
	"$NODE" bench sphinx --json --seconds "$HALF" >"$WORK/sphinx$1.json" || die "nym-node bench sphinx failed"
}
say "Sphinx costs on this machine ($HALF s)"
sphinx 0
k=1
while [ $k -le "$ROUNDS_NODELAY" ]; do
	say "no delays, Poisson rate lifted, round $k of $ROUNDS_NODELAY: $PINGS pings, then $MIB MiB"
	# shellcheck disable=SC2086
	mixnet_probe "$WORK/nodelay$k.json" --per-hop-delay-ms 0 --poisson-ms 0 --ping "$INTERNET_IP" $count_opt \
		--http-url "http://$INTERNET_IP/$BIG" --timeout 300 ||
		say "no-delay probe $k: exit $?: $(tail -n 3 "$WORK/nodelay$k.json.err")"
	say "Sphinx costs on this machine ($HALF s)"
	sphinx $k
	k=$((k + 1))
done
# The packet counts behind the goodput (every no-delay round's, before the default runs add
# theirs), on stderr.
for h in entry exit; do
	for m in nym_node_ipr_reply_packets nym_node_mixnet_ingress_final_hop_packets_received \
		nym_node_mixnet_ingress_forward_hop_packets_received; do
		say "after the no-delay runs: $h $m $(metric $h $m)"
	done
done
say "Nym's defaults: $PINGS pings, then $MIB_DEFAULT MiB"
# shellcheck disable=SC2086
mixnet_probe "$WORK/default.json" --ping "$INTERNET_IP" $count_opt --http-url "http://$INTERNET_IP/$SMALL" --timeout 600 ||
	say "default probe: exit $?: $(tail -n 3 "$WORK/default.json.err")"
r=2
while [ $r -le "$ROUNDS_DEFAULT" ]; do
	say "Nym's defaults, round $r of $ROUNDS_DEFAULT: $PINGS pings"
	# shellcheck disable=SC2086
	mixnet_probe "$WORK/default$r.json" --ping "$INTERNET_IP" $count_opt --timeout 300 ||
		say "default probe $r: exit $?: $(tail -n 3 "$WORK/default$r.json.err")"
	r=$((r + 1))
done

"$PY" - "$WORK" "$ROUNDS_NODELAY" "$WORK/default.json" "$WWW_DIR/$BIG" "$WWW_DIR/$SMALL" "$(nproc)" \
	"$WORK"/default[0-9]*.json <<'EOF'
import hashlib, json, math, sys

def load(p):
    try:
        return json.load(open(p))
    except Exception as e:
        return {"error": "unreadable: %s" % e}

work, rounds = sys.argv[1], int(sys.argv[2])
sphinx = [load("%s/sphinx%d.json" % (work, k)) for k in range(rounds + 1)]
nodelays = [load("%s/nodelay%d.json" % (work, k)) for k in range(1, rounds + 1)]
nodelay, default = nodelays[0], load(sys.argv[3])
digest = {r: hashlib.sha256(open(p, "rb").read()).hexdigest() for r, p in ((0, sys.argv[4]), (1, sys.argv[5]))}
cores = int(sys.argv[6])
POISSON_MS, PER_HOP_MS, MIX_HOPS, CLIENT_BUNDLE_MS, IPR_BUFFER_MS = 20.0, 15.0, 3, 5.0, 5.0

def goodput(r):
    h = r.get("http", {})
    want = digest[1 if r is default else 0]
    if not h.get("ok") or h.get("sha256") != want or not h.get("seconds"):
        return None
    return h["bytes"] * 8 / h["seconds"] / 1e6

def rtts(r):
    p = r.get("ping", {})
    return sorted(p.get("rtt_ms", [])) if p.get("ok") or p.get("rtt_ms") else []

def pct(v, q):
    if not v:
        return None
    k = min(len(v) - 1, max(0, int(round(q * (len(v) - 1)))))
    return v[k]

def mean(v):
    return sum(v) / len(v) if v else None

def rnd(x, n=2):
    return None if x is None else round(x, n)

def sent(r):
    return (r.get("ping") or {}).get("sent", 0)

def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2

SPHINX_KEYS = ("create_us", "process_forward_us", "process_forward_batched_us", "process_final_us")

def costs(a, b):
    """The mean of two Sphinx measurements, key by key."""
    return {key: (a.get(key, 0) + b.get(key, 0)) / 2 for key in SPHINX_KEYS}

def ceiling(c, forward="process_forward_batched_us"):
    cost = c["create_us"] + MIX_HOPS * c[forward] + c["process_final_us"]
    return cores * 1e6 / cost * 2048 * 8 / 1e6 if cost else None

r0 = sorted(sum((rtts(x) for x in nodelays), []))
r1 = rtts(default)
sent1 = sent(default)
for extra in sys.argv[7:]:
    x = load(extra)
    r1 = sorted(r1 + rtts(x))
    sent1 += sent(x)
out = {"test": "mixnet_path", "cores": cores}
rounds_out = []
for k, x in enumerate(nodelays):
    c = costs(sphinx[k], sphinx[k + 1])
    g, ceil = goodput(x), ceiling(c)
    rounds_out.append({"goodput_mbps": rnd(g, 3), "ceiling_mbps": rnd(ceil),
                       "goodput_over_ceiling": rnd(g / ceil if g is not None and ceil else None, 3),
                       "ceiling_mbps_unbatched": rnd(ceiling(c, "process_forward_us")),
                       "sphinx_us": {key: rnd(c[key]) for key in SPHINX_KEYS}})
out["goodput_mbps_nodelay"] = rnd(median(r["goodput_mbps"] for r in rounds_out), 3)
out["rtt_p50_ms_nodelay"] = rnd(pct(r0, 0.5))
out["rtt_p99_ms_nodelay"] = rnd(pct(r0, 0.99))
out["rtt_mean_ms_nodelay"] = rnd(mean(r0))
out["goodput_mbps_default"] = rnd(goodput(default), 3)
out["rtt_mean_ms_default"] = rnd(mean(r1))
if len(r1) > 1:
    m = mean(r1)
    out["rtt_stderr_ms_default"] = rnd(math.sqrt(sum((x - m) ** 2 for x in r1) / (len(r1) - 1) / len(r1)))
out["rtt_predicted_ms_default"] = rnd(mean(r0) + CLIENT_BUNDLE_MS + POISSON_MS + IPR_BUFFER_MS + 2 * MIX_HOPS * PER_HOP_MS
                                      if r0 else None)
out["ceiling_mbps"] = rnd(median(r["ceiling_mbps"] for r in rounds_out))
out["ceiling_mbps_unbatched"] = rnd(median(r["ceiling_mbps_unbatched"] for r in rounds_out))
out["goodput_over_ceiling_nodelay"] = rnd(median(r["goodput_over_ceiling"] for r in rounds_out), 3)
out["nodelay_rounds"] = rounds_out
# Lost echoes are left out of the RTTs: if the slow ones are lost, the mean is biased low.
out["pings"] = {"nodelay": {"sent": sum(sent(x) for x in nodelays), "answered": len(r0)}, "default": {"sent": sent1, "answered": len(r1)}}
out["probe_stats_nodelay"] = nodelay.get("stats")  # of the first round
out["bytes"] = {"nodelay": (nodelay.get("http") or {}).get("bytes"), "default": (default.get("http") or {}).get("bytes")}
t = {}
if out["goodput_over_ceiling_nodelay"] is not None:
    t["goodput_nodelay_over_half_ceiling"] = out["goodput_over_ceiling_nodelay"] >= 0.5
if out["rtt_p50_ms_nodelay"] is not None:
    t["rtt_p50_nodelay_under_10ms"] = out["rtt_p50_ms_nodelay"] < 10
if out["rtt_mean_ms_default"] is not None and out["rtt_predicted_ms_default"] is not None:
    t["rtt_default_within_10ms_of_prediction"] = abs(out["rtt_mean_ms_default"] - out["rtt_predicted_ms_default"]) <= 10
out["targets"] = t
errors = {}
for name, r in [("nodelay%d" % (k + 1), x) for k, x in enumerate(nodelays)] + [("default", default)]:
    for part in ("error",):
        if r.get(part):
            errors[name] = r[part]
    for check in ("ping", "http"):
        c = r.get(check, {})
        if c and not c.get("ok"):
            errors["%s_%s" % (name, check)] = c.get("error", "failed")
if errors:
    out["errors"] = errors
print(json.dumps(out))
EOF
