"""Sphinx interoperability between nym-node and the independent Python implementation.

Packets built by `nym-node debug sphinx-create` are peeled hop by hop by the reference
(tests/oracle/sphinx_ref.py, written from the specification alone), and packets built by the
reference are peeled by `nym-node debug sphinx-process`, for 1..5 hops, versions 258 and 259
and every Nym payload size. With a shared --seed both must build the very same bytes.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sphinx_ref as ref  # noqa: E402
from nymtest import node_json as node  # noqa: E402

SIZES = [38, 2065, 8209, 16401, 32785]


def route_file(tmp, keys, n):
    hops = [{"address": f"{i + 1:064x}", "public_key": keys[i][1].hex(), "delay_ns": (i + 1) * 1000003}
            for i in range(n)]
    path = os.path.join(tmp, f"route{n}.json")
    with open(path, "w") as f:
        json.dump(hops, f)
    return path, [(bytes.fromhex(h["address"]), keys[i][1], h["delay_ns"]) for i, h in enumerate(hops)]


def check_hop(i, n, kind, next_address, delay, dest, ident, msg, got):
    if i < n - 1:
        assert kind == "forward", f"hop {i}: expected forward, got {kind}"
        assert next_address == f"{i + 2:064x}", f"hop {i}: wrong next address"
        assert delay == (i + 1) * 1000003, f"hop {i}: wrong delay"
    else:
        assert kind == "final", f"hop {i}: expected final"
        assert (got["destination"], got["identifier"], got["message"]) == (dest, ident, msg), \
            "final hop: wrong destination, identifier or message"


def main():
    keys = []
    for i in range(5):  # node keys from both implementations
        k = node("debug", "keygen") if i % 2 else None
        sk = bytes.fromhex(k["secret_key"]) if k else os.urandom(32)
        keys.append((sk, ref.x25519(sk, (9).to_bytes(32, "little"))))
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, 6):
            path, route = route_file(tmp, keys, n)
            for v in (258, 259):
                for size in SIZES:
                    msg = os.urandom(min(1000, size - 17))
                    dest, ident = os.urandom(32), os.urandom(16)

                    # nym-node builds, the reference peels.
                    pkt = bytes.fromhex(node("debug", "sphinx-create", "--route", path,
                                             "--destination", dest.hex(), "--identifier", ident.hex(),
                                             "--message", msg.hex(), "--version", str(v),
                                             "--payload-size", str(size))["packet"])
                    for i in range(n):
                        r = ref.process_packet(keys[i][0], pkt)
                        got = {k: (x.hex() if isinstance(x, bytes) else x) for k, x in r.items()}
                        check_hop(i, n, r["kind"], got.get("next_address"), r.get("delay_ns"),
                                  dest.hex(), ident.hex(), msg.hex(), got)
                        pkt = r.get("packet")

                    # The reference builds, nym-node peels.
                    x, pad = ref.sender_randomness(n)
                    pkt = ref.create_packet(v, route, dest, ident, msg, size, x, pad).hex()
                    for i in range(n):
                        r = node("debug", "sphinx-process", "--secret-key", keys[i][0].hex(),
                                 "--packet", "-", stdin=pkt)
                        check_hop(i, n, r["kind"], r.get("next_address"), r.get("delay_ns"),
                                  dest.hex(), ident.hex(), msg.hex(), r)
                        pkt = r.get("packet")
                    checks += 2

                # Same seed, same bytes.
                seed = os.urandom(32)
                dest, ident = os.urandom(32), os.urandom(16)
                a = node("debug", "sphinx-create", "--route", path, "--destination", dest.hex(),
                         "--identifier", ident.hex(), "--message", "68656c6c6f", "--version", str(v),
                         "--seed", seed.hex())["packet"]
                x, pad = ref.sender_randomness(n, seed)
                b = ref.create_packet(v, route, dest, ident, b"hello", 2065, x, pad).hex()
                assert a == b, f"seeded packets differ: {n} hops, version {v}"
                checks += 1
    print(f"sphinx interop: {checks} cross-implementation checks passed")


if __name__ == "__main__":
    main()
