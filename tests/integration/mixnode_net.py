"""Checks for mixnode_net.sh: runs in the client namespace, builds packets with the
independent Sphinx implementation and sends them to mix1 with v8 framing over plain TCP."""
import json
import math
import os
import random
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sphinx_ref as ref  # noqa: E402
from nymtest import b58decode, check, finish, http_json, port_open, prom, wait_for  # noqa: E402

T, NODE, NS_P, GENESIS = os.environ["T"], os.environ["NODE"], os.environ["NS_P"], int(os.environ["GENESIS"])
MIX = {i: f"198.51.100.1{i}" for i in (1, 2, 3)}
API = {i: f"http://{MIX[i]}:8080" for i in MIX}
SINK = ("198.51.100.20", 1789)
PERIOD, OVERLAP = 8, 4
SINK_SK = bytes.fromhex(json.load(open(f"{T}/sink_key.json"))["secret_key"])
SINK_PK = ref.x25519(SINK_SK, (9).to_bytes(32, "little"))


def routing_address(ip, port=1789):
    return bytes([4]) + port.to_bytes(2, "big") + socket.inet_aton(ip) + bytes(25)


def stats(i):
    return http_json(f"{API[i]}/api/v1/metrics/packets-stats")


def sphinx_keys(i):
    """{rotation_id: public key} of the keys node i announces."""
    keys = http_json(f"{API[i]}/api/v1/host-information")["data"]["keys"]["x25519_sphinx_keys"]
    return {k["rotation_id"]: b58decode(k["public_key"]) for k in keys}


def current_rotation():
    return (int(time.time()) - GENESIS) // PERIOD + 1


def build(delays, msg, rotation=None, version=259, last=None, byte=None):
    """A v8 frame for mix1 -> mix2 -> mix3 -> sink (or -> `last` after mix1), built for the
    keys of `rotation` (default: the current one), with that rotation's parity byte (or
    `byte`)."""
    rotation = rotation or current_rotation()
    keys = [sphinx_keys(i)[rotation] for i in (1, 2, 3)]
    if last:
        route = [(routing_address(MIX[1]), keys[0], delays[0]), (routing_address(*last), SINK_PK, 0)]
    else:
        route = [(routing_address(MIX[i + 1]), keys[i], delays[i]) for i in range(3)]
        route.append((routing_address(*SINK), SINK_PK, 0))
    x, pad = ref.sender_randomness(len(route))
    packet = ref.create_packet(version, route, bytes(32), bytes(16), msg, 2065, x, pad)
    return bytes([8, 1, 0, (1 if rotation % 2 else 2) if byte is None else byte]) + packet


def align_to_rotation(needed):
    """Waits, if needed, so that `needed` seconds remain before the current rotation's key
    stops being accepted (its rotation plus the overlap)."""
    r = current_rotation()
    key_end = GENESIS + r * PERIOD + OVERLAP
    if key_end - time.time() < needed:
        time.sleep(max(0, GENESIS + r * PERIOD + 0.3 - time.time()))


def connect():
    return socket.create_connection((MIX[1], 1789), timeout=5)


class Sender:
    """A connection to mix1 that reconnects when it may have been reaped as idle (the node
    closes connections idle for 3 s in this test)."""

    def __init__(self):
        self.sock, self.used = None, 0.0

    def send(self, data):
        if self.sock is None or time.monotonic() - self.used > 2:
            if self.sock:
                self.sock.close()
            self.sock = connect()
        self.sock.sendall(data)
        self.used = time.monotonic()

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None


sender = Sender()


def sink_lines():
    with open(f"{T}/sink.jsonl") as f:
        return [json.loads(l) for l in f if l.strip()]


def delivered(msg):
    return any(bytes.fromhex(l.get("message", "")) == msg for l in sink_lines())


def restart_mix1():
    ns = f"{NS_P}mix1"
    pids = subprocess.check_output(["ip", "netns", "pids", ns]).split()
    for p in pids:
        os.kill(int(p), 15)
    wait_for(lambda: not subprocess.check_output(["ip", "netns", "pids", ns]).split(), 10)
    log = open(f"{T}/mix1.log", "a")
    subprocess.Popen(["ip", "netns", "exec", ns, NODE, "run", "--data-dir", f"{T}/mix1", "--topology",
                      f"{T}/topology.json", "--workers", "2"], stdout=log, stderr=log)
    check(wait_for(lambda: port_open(MIX[1], 8080), 10), "mix1 restarted")


# 1. Packets built by the independent implementation arrive intact; each hop holds a packet
#    for the delay the sender asked for.
align_to_rotation(8)
mean = 0.020
N = 150
rng = random.Random(7)
packets = []
for n in range(N):
    d = [int(rng.expovariate(1 / mean) * 1e9) for _ in range(3)]
    msg = b"packet %d " % n + os.urandom(16)
    packets.append((build(d, msg, version=259 if n % 2 else 258), d, msg))
sent_at = {}
for pkt, d, msg in packets:
    sent_at[msg] = time.monotonic_ns()
    sender.send(pkt)
    time.sleep(0.005)
check(wait_for(lambda: len(sink_lines()) >= N, 20), f"all {N} packets reach the sink")
arrived = {bytes.fromhex(l["message"]): l["t_ns"] for l in sink_lines() if "message" in l}
check(all(msg in arrived for _, _, msg in packets), "every message arrives intact (v258 and v259)")
excess = [(arrived[msg] - sent_at[msg] - sum(d)) / 1e6 for _, d, msg in packets if msg in arrived]
check(min(excess) > -1.0, f"no packet leaves early (min {min(excess):.2f} ms beyond its delays)")
check(sorted(excess)[len(excess) // 2] < 20, f"processing adds little (median {sorted(excess)[len(excess)//2]:.2f} ms)")
hop_mean = sum(arrived[msg] - sent_at[msg] for _, _, msg in packets) / len(packets) / 3 / 1e9
# The mean of 3N exponential draws has a standard error of mean/sqrt(3N); allow 4 of them,
# plus 2 ms per hop for processing.
tolerance = 4 * mean / math.sqrt(3 * N) + 0.002
check(abs(hop_mean - mean) < tolerance,
      f"mean added delay per hop {hop_mean*1e3:.2f} ms matches the requested {mean*1e3:.0f} ms (+-{tolerance*1e3:.1f})")

# Noise and plain peers both work: the topology gives mix2's and mix3's Noise keys, so
# mix1 -> mix2 -> mix3 run Noise XKpsk3 while the client -> mix1 and mix3 -> sink (no key
# known) hops are plain TCP.
check(prom(API[1], "nym_node_network_noise_handshakes") >= 1, "mix1 reached mix2 over Noise")
check(prom(API[2], "nym_node_network_noise_handshakes") >= 2, "mix2 answered Noise and reached mix3 over Noise")
check(prom(API[3], "nym_node_network_noise_handshakes") >= 1, "mix3 answered Noise")
check(all(prom(API[i], "nym_node_network_noise_failures") == 0 for i in (1, 2, 3)), "no Noise failures")

# 2. A replayed packet is dropped, also after the node restarts (the filter is saved).
align_to_rotation(8)
first = build([0, 0, 0], b"to be replayed 1")
second = build([0, 0, 0], b"to be replayed 2")
sender.send(first)
sender.send(second)
check(wait_for(lambda: delivered(b"to be replayed 2") and delivered(b"to be replayed 1"), 5), "originals delivered")
before = len(sink_lines())
sender.send(first)
time.sleep(1.5)
check(len(sink_lines()) == before, "a replayed packet is not forwarded")
check(stats(1)["ingress_mixing"]["replayed_packets"] == 1, "the replay is counted")
sender.close()
restart_mix1()
sender.send(second)
time.sleep(1.5)
check(len(sink_lines()) == before, "a replayed packet is dropped after a restart")
check(stats(1)["ingress_mixing"]["replayed_packets"] == 1, "the restarted node counts the replay")

# 3. A bad MAC is counted and dropped; the node keeps serving.
bad = bytearray(build([0, 0, 0], b"bad mac"))
bad[4 + 40] ^= 1
sender.send(bytes(bad))
sender.send(build([0, 0, 0], b"after bad mac"))
check(wait_for(lambda: delivered(b"after bad mac"), 5), "a packet after a bad MAC still goes through")
check(stats(1)["ingress_mixing"]["malformed_packets_received"] == 1, "the bad MAC is counted as malformed")

# 4. A garbage frame closes that connection only.
g = connect()
g.sendall(b"\x55" * 100)
g.settimeout(5)
check(g.recv(10) == b"", "the node closes a connection that sends garbage")
check(stats(1)["ingress_mixing"]["malformed_packets_received"] == 2, "the garbage is counted")

# 5. A half-open connection (a frame cut short, then silence) does not hold the node up and
#    is reaped when idle.
h = connect()
h.sendall(build([0, 0, 0], b"half")[:100])
sender.send(build([0, 0, 0], b"beside half-open"))
check(wait_for(lambda: delivered(b"beside half-open"), 5), "the node serves others beside a half-open connection")
h.settimeout(8)
check(h.recv(10) == b"", "the half-open connection is closed after the idle timeout")
check(prom(API[1], "nym_node_network_idle_closed_ingress_mixnet_connections") >= 1, "the idle close is counted")

# 6. An excessive delay is clamped (to 2 s here) and counted.
t0 = time.monotonic()
sender.send(build([30 * 10**9, 0, 0], b"excessive"))
check(wait_for(lambda: delivered(b"excessive"), 6), "a packet asking for 30 s is delivered")
check(time.monotonic() - t0 < 4, f"after the 2 s maximum ({time.monotonic() - t0:.1f} s)")
check(stats(1)["ingress_mixing"]["excessive_delay_packets"] == 1, "the excessive delay is counted")

# 7. A next hop that is down: the first packets cost one failed connection, packets during
#    the backoff are dropped without new attempts, and after it the hop is tried again.
dead = ("198.51.100.99", 1789)
for n in range(3):
    sender.send(build([0, 0, 0], b"dead %d" % n, last=dead))
check(wait_for(lambda: prom(API[1], "nym_node_mixnet_egress_connection_failures") == 1, 5), "one failed connection")
dropped = prom(API[1], "nym_node_mixnet_egress_forward_hop_packets_dropped")
for n in range(5):
    sender.send(build([0, 0, 0], b"dead during backoff %d" % n, last=dead))
time.sleep(0.5)
check(prom(API[1], "nym_node_mixnet_egress_connection_failures") == 1, "no new attempt during the backoff")
check(prom(API[1], "nym_node_mixnet_egress_forward_hop_packets_dropped") >= dropped + 5, "packets for it are dropped")
check(prom(API[1], "nym_node_process_forward_hop_packets_pending_delivery") == 0 or wait_for(
    lambda: prom(API[1], "nym_node_process_forward_hop_packets_pending_delivery") == 0, 3), "nothing is hoarded")
time.sleep(3)
sender.send(build([0, 0, 0], b"dead after backoff", last=dead))
check(wait_for(lambda: prom(API[1], "nym_node_mixnet_egress_connection_failures") == 2, 5), "retried after the backoff")

# 8. Key rotation: packets built for the previous key still process during the overlap, and
#    are refused after it; the next key is accepted ahead of its rotation.
r = current_rotation()
old = [build([0, 0, 0], b"old key %d" % n, r) for n in range(2)]
old_unknown = build([0, 0, 0], b"old key, rotation 0", r, byte=0)
start_next = GENESIS + r * PERIOD
time.sleep(max(0, start_next + 1.5 - time.time()))
check(current_rotation() == r + 1, "a rotation has happened")
sender.send(old[0])
check(wait_for(lambda: delivered(b"old key 0"), 3), "the previous key works during the overlap")
# Rotation byte 0 (replies through SURBs): the primary key fails, the secondary one is tried.
sender.send(old_unknown)
check(wait_for(lambda: delivered(b"old key, rotation 0"), 3), "rotation 0 falls back to the previous key")
check(all(prom(API[i], "nym_node_mixnet_ingress_secondary_key_packets") == 1 for i in (1, 2, 3)),
      "and each hop counts the fallback")
time.sleep(max(0, start_next + OVERLAP + 1.5 - time.time()))
malformed = stats(1)["ingress_mixing"]["malformed_packets_received"]
sender.send(old[1])
time.sleep(1)
check(not delivered(b"old key 1"), "the previous key is refused after the overlap")
check(stats(1)["ingress_mixing"]["malformed_packets_received"] == malformed + 1, "and the refusal is counted")
sender.send(build([0, 0, 0], b"new key"))
check(wait_for(lambda: delivered(b"new key"), 3), "the new key works")
sender.send(build([0, 0, 0], b"next key early", current_rotation() + 1))
check(wait_for(lambda: delivered(b"next key early"), 3), "the pre-announced next key is accepted early")

finish("mixnode network")
