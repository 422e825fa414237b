"""The attacker of mixnet_exhaustion.sh: holds up to N connections to the node from one
address. Each opens with one byte (odd ones Noise, so the node sets up a Noise responder,
even ones a plain frame) and then sends the next byte of a frame it never finishes every
ROUND seconds; a connection the node closed is opened again on the next round. Writes its
counts to STATUS after every round and stops after DURATION seconds."""
import errno
import json
import os
import resource
import socket
import sys
import time

target, n, duration, status = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
host, port = target.rsplit(":", 1)
ROUND = 2.0
# A Noise handshake frame header announcing a 48-byte message 1, and a v8 mix frame header;
# the rest of each frame is zeros, sent one byte a round, never enough to complete it.
NOISE = bytes([1, 1, 0, 0, 48, 0, 0, 0]) + bytes(48)
PLAIN = bytes([8, 1, 0, 1]) + bytes(2048)

resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
socks = [None] * n
sent = [0] * n
attempts = refused = 0


def frame(i):
    return NOISE if i % 2 else PLAIN


def open_one(i):
    global attempts, refused
    attempts += 1
    try:
        s = socket.create_connection((host, int(port)), timeout=2)
        s.setblocking(False)
        s.send(frame(i)[:1])
    except OSError:
        refused += 1
        socks[i] = None
        return
    socks[i], sent[i] = s, 1


def alive(s):
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def write_status(rnd, open_now, closed):
    with open(status + ".tmp", "w") as f:
        json.dump({"round": rnd, "attempts": attempts, "connect_failures": refused, "open": open_now,
                   "closed_by_node": closed}, f)
    os.replace(status + ".tmp", status)


start = time.monotonic()
for i in range(n):
    open_one(i)
closed_total = 0
rnd = 0
write_status(rnd, sum(s is not None for s in socks), closed_total)
while time.monotonic() - start < duration:
    time.sleep(max(0.0, start + (rnd + 1) * ROUND - time.monotonic()))
    rnd += 1
    for i in range(n):
        s = socks[i]
        if s is not None and alive(s):
            try:
                s.send(frame(i)[sent[i]:sent[i] + 1])
                sent[i] += 1
                continue
            except OSError as e:
                if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                    raise
        if s is not None:
            closed_total += 1
            s.close()
        open_one(i)
    write_status(rnd, sum(s is not None for s in socks), closed_total)
