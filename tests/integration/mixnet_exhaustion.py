"""Checks for mixnet_exhaustion.sh, run in the client namespace while the flood runs from
another address: packets from here still cross the node, the flood holds no more ingress
slots than the per-address limit, its connections are refused or closed as the limits say
(counted), and a connection that trickles bytes without completing frames is closed by the
idle timeout. Against a node without these limits it still runs, and reports what the
flood takes."""
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sphinx_ref as ref  # noqa: E402
from nymtest import b58decode, check, finish, http_json, prom, wait_for  # noqa: E402

T, NS_P = os.environ["T"], os.environ["NS_P"]
MIX = ("198.51.100.11", 1789)
API = "http://198.51.100.11:8080"
SINK = ("198.51.100.20", 1789)
FLOOD_IP = "198.51.100.40"
FLOOD_N = 1100
IDLE = 5.0  # the test's mixnet.debug.connection_idle_timeout
SINK_PK = ref.x25519(bytes.fromhex(json.load(open(f"{T}/sink_key.json"))["secret_key"]),
                     (9).to_bytes(32, "little"))


def config_value(key):
    m = re.search(r"^\s*%s: (\S+)" % key, open(f"{T}/mix1/config/config.yaml").read(), re.M)
    return m.group(1) if m else None


LIMIT = int(config_value("max_connections_per_address") or 0)


def metric(name):
    """A counter or gauge of the node, None if it has no such metric (an older node)."""
    try:
        return prom(API, "nym_node_network_" + name)
    except KeyError:
        return None


def routing_address(ip, port):
    return bytes([4]) + port.to_bytes(2, "big") + socket.inet_aton(ip) + bytes(25)


KEY = http_json(f"{API}/api/v1/host-information")["data"]["keys"]["x25519_sphinx_keys"][0]


def build(msg):
    """A v8 frame for mix1 -> sink with mix1's current key."""
    route = [(routing_address(*MIX), b58decode(KEY["public_key"]), 0), (routing_address(*SINK), SINK_PK, 0)]
    x, pad = ref.sender_randomness(2)
    packet = ref.create_packet(259, route, bytes(32), bytes(16), msg, 2065, x, pad)
    return bytes([8, 1, 0, 1 if KEY["rotation_id"] % 2 else 2]) + packet


def delivered():
    with open(f"{T}/sink.jsonl") as f:
        return {bytes.fromhex(j["message"]) for j in map(json.loads, filter(str.strip, f)) if "message" in j}


def wait_delivered(msgs, timeout):
    wait_for(lambda: set(msgs) <= delivered(), timeout)
    return len(set(msgs) & delivered())


def flood():
    try:
        return json.load(open(f"{T}/flood.json"))
    except (OSError, ValueError):
        return {}


# (ingress connections the node counts, connections established from the flood address as
# the kernel sees them, which includes those waiting in the accept queue)
slots = []


def sample():
    out = subprocess.run(["ip", "netns", "exec", f"{NS_P}mix1", "ss", "-Htn", "state", "established",
                          "( sport = :1789 )"], capture_output=True, text=True).stdout
    from_flood = sum(1 for line in out.splitlines() if FLOOD_IP in line.split()[-1])
    slots.append((metric("active_ingress_mixnet_connections"), from_flood))


def send_batch(tag, n):
    """Sends n packets on a fresh connection; returns their messages."""
    msgs = [b"%s %d " % (tag, i) + os.urandom(8) for i in range(n)]
    frames = [build(m) for m in msgs]
    sent = 0
    try:
        s = socket.create_connection(MIX, timeout=5)
        for f in frames:
            s.sendall(f)
            sent += 1
            time.sleep(0.02)
        time.sleep(0.3)
        s.close()
    except OSError as e:
        print(f"     the node cut the sender's connection after {sent} packets: {e}")
    return msgs


# The flood first opens its 1,100 connections.
wait_for(lambda: flood().get("attempts", 0) >= FLOOD_N, 30, 0.2)
check(flood().get("attempts", 0) >= FLOOD_N, f"the flood opened {FLOOD_N} connections ({flood()})")
time.sleep(1)
sample()

# 1. Packets from another address cross the node while the flood holds what it can.
first = send_batch(b"during flood", 20)
got = wait_delivered(first, 5)
check(got == len(first), f"packets from another address cross the node during the flood ({got}/{len(first)})")
sample()

# 2. A connection that delivers one frame and then trickles a byte a second is closed by the
#    idle timeout, which only complete frames reset.
trickle_msg = b"trickle " + os.urandom(8)
opened = time.monotonic()
closed_after = None
try:
    t = socket.create_connection(MIX, timeout=5)
    t.sendall(build(trickle_msg))
    nxt = build(b"never completed")
    t.settimeout(1.0)
    for i in range(int(IDLE) + 6):
        try:
            if t.recv(1) == b"":
                closed_after = time.monotonic() - opened
                break
        except socket.timeout:
            pass
        t.sendall(nxt[i:i + 1])
        sample()
except OSError as e:
    closed_after = time.monotonic() - opened
    print(f"     the trickling connection ended: {e}")
check(wait_delivered([trickle_msg], 3) == 1, "the trickling connection's complete frame is forwarded")
check(closed_after is not None and IDLE - 0.5 <= closed_after <= IDLE + 4,
      f"bytes without a complete frame do not keep a connection open (closed after "
      f"{closed_after if closed_after is None else round(closed_after, 1)} s, idle timeout {IDLE:.0f} s)")

# 3. Still crossing after the flood's connections went through their deadlines and came back.
end = time.monotonic() + 20
while flood().get("round", 0) < 6 and time.monotonic() < end:
    sample()
    time.sleep(1)
check(flood().get("round", 0) >= 6, "the flood went on through several of its connections' deadlines")
second = send_batch(b"later in the flood", 20)
got = wait_delivered(second, 5)
check(got == len(second), f"packets still cross later in the flood ({got}/{len(second)})")
sample()

gauge = [g for g, _ in slots if g is not None]
from_flood = [f for _, f in slots]
print(f"     ingress connections held (node gauge) min/max: {min(gauge, default=None)}/{max(gauge, default=None)}; "
      f"established from the flood address min/max: {min(from_flood)}/{max(from_flood)}; flood: {flood()}")
counters = {n: metric(n) for n in (
    "ingress_refused_per_address_limit", "ingress_refused_handshake_rate", "ingress_refused_address_table_full",
    "ingress_refused_connection_limit", "ingress_first_frame_timeouts",
    "idle_closed_ingress_mixnet_connections", "noise_handshakes", "noise_failures")}
print("     counters: " + json.dumps(counters))
check(LIMIT > 0, f"the node has a per-address connection limit ({LIMIT})")
# The node's own connections from here (sender and trickler) are at most 2 of the gauge.
check(gauge and max(gauge) <= LIMIT + 2, f"the flood holds at most the per-address limit of slots (max {max(gauge, default=None)})")
check(gauge and max(gauge) >= LIMIT * 3 // 4, "and the flood does reach it (the limit is what binds)")
check((counters["ingress_refused_per_address_limit"] or 0) >= FLOOD_N - LIMIT,
      "connections beyond the per-address limit are refused and counted")
check((counters["ingress_refused_handshake_rate"] or 0) > 0,
      "Noise handshakes beyond the per-address budget are refused and counted")
check((counters["ingress_first_frame_timeouts"] or 0) > 0,
      "connections without a first frame in time are closed and counted")
check((counters["idle_closed_ingress_mixnet_connections"] or 0) >= 1, "the idle close is counted")
check(counters["ingress_refused_address_table_full"] == 0, "the address table never filled")
check(counters["ingress_refused_connection_limit"] == 0, "no worker ran out of slots")
check((counters["noise_handshakes"] or 0) == 0, "the flood completed no handshake")
finish("mixnet exhaustion")
