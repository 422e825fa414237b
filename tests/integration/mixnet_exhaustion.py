"""Checks for mixnet_exhaustion.sh, run in the client namespace while the flood runs from
another address: packets from here still cross the node, the flood holds no more ingress
slots than the per-address limit, its connections are refused or closed as the limits say
(counted), and a connection that trickles bytes without completing frames is closed by the
idle timeout."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
import sphinx_ref as ref  # noqa: E402

T, NS_P = os.environ["T"], os.environ["NS_P"]
MIX = ("198.51.100.11", 1789)
SINK = ("198.51.100.20", 1789)
FLOOD_IP = "198.51.100.40"
FLOOD_N = 1100
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SINK_PK = ref.x25519(bytes.fromhex(json.load(open(f"{T}/sink_key.json"))["secret_key"]),
                     (9).to_bytes(32, "little"))
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def config_value(key):
    m = re.search(r"^\s*%s: (\S+)" % key, open(f"{T}/mix1/config/config.yaml").read(), re.M)
    return m.group(1) if m else None


LIMIT = int(config_value("max_connections_per_address") or 0)
IDLE = 5.0


def http(path):
    with urllib.request.urlopen(f"http://{MIX[0]}:8080/api/v1/{path}", timeout=5) as r:
        body = r.read().decode()
    return body if path == "metrics/prometheus" else json.loads(body)


def prom(name):
    for line in http("metrics/prometheus").splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


def b58decode(s):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    return n.to_bytes(32, "big")


def routing_address(ip, port):
    return bytes([4]) + port.to_bytes(2, "big") + socket.inet_aton(ip) + bytes(25)


KEY = http("host-information")["data"]["keys"]["x25519_sphinx_keys"][0]


def build(msg):
    """A v8 frame for mix1 -> sink with mix1's current key."""
    route = [(routing_address(*MIX), b58decode(KEY["public_key"]), 0), (routing_address(*SINK), SINK_PK, 0)]
    x, pad = ref.sender_randomness(2)
    packet = ref.create_packet(259, route, bytes(32), bytes(16), msg, 2065, x, pad)
    return bytes([8, 1, 0, 1 if KEY["rotation_id"] % 2 else 2]) + packet


def delivered():
    with open(f"{T}/sink.jsonl") as f:
        return {bytes.fromhex(j["message"]) for j in map(json.loads, filter(str.strip, f)) if "message" in j}


def flood():
    try:
        return json.load(open(f"{T}/flood.json"))
    except (OSError, ValueError):
        return {}


slots = []  # (ingress connections the node reports, established ones from the flood address)


def sample():
    out = subprocess.run(["ip", "netns", "exec", f"{NS_P}mix1", "ss", "-Htn", "state", "established",
                          "( sport = :1789 )"], capture_output=True, text=True).stdout
    from_flood = sum(1 for line in out.splitlines() if FLOOD_IP in line.split()[-1])
    slots.append((prom("nym_node_network_active_ingress_mixnet_connections"), from_flood))


def send_batch(tag, n):
    """Sends n packets on a fresh connection; returns the messages the connection took."""
    msgs = [b"%s %d " % (tag, i) + os.urandom(8) for i in range(n)]
    frames = [build(m) for m in msgs]
    taken = []
    try:
        s = socket.create_connection(MIX, timeout=5)
        for m, f in zip(msgs, frames):
            s.sendall(f)
            taken.append(m)
            time.sleep(0.02)
        time.sleep(0.3)
        s.close()
    except OSError as e:
        print(f"     the node cut the sender's connection after {len(taken)} packets: {e}")
    return msgs


def wait_delivered(msgs, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not set(msgs) <= delivered():
        time.sleep(0.1)
    return len(set(msgs) & delivered())


# The flood first opens its 1,100 connections.
end = time.monotonic() + 30
while time.monotonic() < end and flood().get("attempts", 0) < FLOOD_N:
    time.sleep(0.2)
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
    for i in range(int(IDLE) + 4):
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
    print(f"     trickling connection ended: {e}")
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
counters = {n: prom(n) for n in (
    "nym_node_network_ingress_refused_per_address_limit",
    "nym_node_network_ingress_refused_handshake_rate",
    "nym_node_network_ingress_refused_address_table_full",
    "nym_node_network_ingress_first_frame_timeouts",
    "nym_node_network_idle_closed_ingress_mixnet_connections",
    "nym_node_network_noise_handshakes",
    "nym_node_network_noise_failures")}
print("     counters: " + json.dumps(counters))
check(LIMIT > 0, f"the node has a per-address connection limit ({LIMIT})")
# The node's own connections from here (sender and trickler) are at most 2 of the gauge.
check(gauge and max(gauge) <= LIMIT + 2, f"the flood holds at most the per-address limit of slots (max {max(gauge, default=None)})")
check(gauge and max(gauge) >= LIMIT * 3 // 4, "and the flood does reach it (the limit is what binds)")
check((counters["nym_node_network_ingress_refused_per_address_limit"] or 0) >= FLOOD_N - LIMIT,
      "connections beyond the per-address limit are refused and counted")
check((counters["nym_node_network_ingress_refused_handshake_rate"] or 0) > 0,
      "Noise handshakes beyond the per-address budget are refused and counted")
check((counters["nym_node_network_ingress_first_frame_timeouts"] or 0) > 0,
      "connections without a first frame in time are closed and counted")
check((counters["nym_node_network_idle_closed_ingress_mixnet_connections"] or 0) >= 1, "the idle close is counted")
check(counters["nym_node_network_ingress_refused_address_table_full"] == 0, "the address table never filled")
check((counters["nym_node_network_noise_handshakes"] or 0) == 0, "the flood completed no handshake")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("mixnet exhaustion: all checks passed")
