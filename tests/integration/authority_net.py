"""Checks for authority_net.sh, run on the client host: the signed topology and k-of-n,
reachability, layers, gateways, ticketbooks over HTTP, double spending across gateways, and
hostile requests that must change nothing."""
import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nymtest import check, finish, http_get, prom, wait_or_fail  # noqa: E402
from nymtest import run_node as node  # noqa: E402

T, NODE, GENESIS = os.environ["T"], os.environ["NODE"], int(os.environ["GENESIS"])
EPOCH_S = 4
AUTH = {i: f"http://198.51.100.{i}:8080" for i in (1, 2, 3)}
started = time.time()


def key(path):
    return open(path).read().strip()


AK = {i: key(f"{T}/a{i}/data/ed25519_identity.pub") for i in AUTH}
MIX = {i: key(f"{T}/m{i}/data/ed25519_identity.pub") for i in (1, 2, 3, 4)}
GW = {i: key(f"{T}/g{i}/data/ed25519_identity.pub") for i in (1, 2, 3)}


def pid(name):
    return int(open(f"{T}/{name}.pid").read())


def epoch_now():
    return (int(time.time()) - GENESIS) // EPOCH_S + 1


def fetch(urls=None, keys=None, threshold=2, epoch=None, extra=()):
    args = ["debug", "topology-fetch", "--json", "--threshold", str(threshold)]
    for u in urls or AUTH.values():
        args += ["--authority", u]
    for k in keys if keys is not None else AK.values():
        args += ["--authority-key", k]
    if epoch:
        args += ["--epoch", str(epoch)]
    return node(*args, *extra)


def layers_of(doc):
    return {n["identity"]: l for l, layer in enumerate(doc["layers"]) for n in layer}


def balanced(doc):
    sizes = [len(layer) for layer in doc["layers"]]
    return max(sizes) - min(sizes) <= 1


def full_doc(min_epoch=0, signatures=3, mixnodes=4, exclude=()):
    def pred():
        rc, doc, _ = fetch(threshold=signatures)
        if rc or doc["epoch"] < min_epoch or doc["signatures"] < signatures:
            return None
        ids = set(layers_of(doc))
        if len(ids) != mixnodes or len(doc["gateways"]) != 3 or ids & set(exclude):
            return None
        return doc
    return pred


# --- 1. one document, signed by all three -------------------------------------------------
doc1 = wait_or_fail("a document with every node, signed by all three authorities", full_doc(), 40)
if not doc1:
    sys.exit(1)
E1 = doc1["epoch"]
check(doc1["voters"] == 3 and doc1["signatures"] == 3, f"epoch {E1}: 3 votes, 3 valid signatures")
check(balanced(doc1), f"epoch {E1}: layers balanced {[len(x) for x in doc1['layers']]}")
check(set(layers_of(doc1)) == set(MIX.values()), "the four mixnodes are in the layers")
gws = {g["identity"]: g for g in doc1["gateways"]}
check(set(gws) == set(GW.values()), "the three gateways are listed")
check(gws[GW[1]]["roles"] == ["entry", "wireguard"] and gws[GW[1]]["country"] == "DE", "g1: entry, wireguard, DE")
check(gws[GW[2]]["roles"] == ["entry", "exit"] and gws[GW[2]]["country"] == "CH", "g2: entry, exit, CH")
digests = set()
for i in AUTH:
    rc, d, _ = fetch(urls=[AUTH[i]], threshold=3, epoch=E1)
    digests.add(d["digest"] if rc == 0 else None)
check(len(digests) == 1 and None not in digests, f"all three authorities serve one document for epoch {E1}")

# --- 2. layers change every epoch and stay balanced -----------------------------------------
for k in (1, 2):
    nxt = wait_or_fail(f"the full document of epoch {E1 + k}", full_doc(E1 + k), 12)
    if nxt:
        # Compared with the document of the epoch just before it (which its layers avoid).
        rc, prev, _ = fetch(epoch=nxt["epoch"] - 1, threshold=2)
        a, b = layers_of(prev) if rc == 0 else {}, layers_of(nxt)
        common = [n for n in a if n in b]
        moved = sum(a[n] != b[n] for n in common)
        check(len(common) >= 3 and moved == len(common),
              f"epoch {nxt['epoch']}: every mixnode changed layer ({moved} of {len(common)})")
        check(balanced(nxt), f"epoch {nxt['epoch']}: balanced {[len(x) for x in nxt['layers']]}")
logs = "".join(open(f"{T}/m{i}.log").read() for i in (1, 2, 3, 4))
check("directory: topology of epoch" in logs, "mixnodes took their peer table from the signed topology")
_, nodes_body, _ = http_get(AUTH[1] + "/v1/nodes")
old_m1 = next(n["node"] for n in json.loads(nodes_body)["nodes"] if n["node"]["description"]["identity"] == MIX[1])
# A description lists the keys of the epoch ahead of its publication (PROTOCOLS.md §7.2).
published = old_m1["description"]["published"]
rotation = (published + EPOCH_S - GENESIS) // (3 * EPOCH_S) + 1
announced = [k["rotation"] for k in old_m1["description"]["sphinx_keys"]]
check(rotation >= 2 and announced[:1] == [rotation],
      f"after key rotations m1 announces first the key of rotation {rotation}, that of the epoch after "
      f"{published}: {announced}")

# Gateways by role and country, from the API and picked by the client.
def gw_ids(query):
    status, body, _ = http_get(AUTH[1] + "/v1/gateways" + query)
    return status, {g["description"]["identity"] for g in json.loads(body).get("gateways", [])}
check(gw_ids("?role=wg")[1] == {GW[1]}, "GET /v1/gateways?role=wg: g1")
check(gw_ids("?role=exit")[1] == {GW[2]}, "GET /v1/gateways?role=exit: g2")
check(gw_ids("?role=entry&country=DE")[1] == {GW[1], GW[3]}, "GET /v1/gateways?role=entry&country=DE: g1, g3")
check(gw_ids("?country=CH")[1] == {GW[2]}, "GET /v1/gateways?country=CH: g2")
check(gw_ids("?role=mixnode")[0] == 400 and gw_ids("?country=de")[0] == 400, "bad gateway queries: 400")
rc, d, _ = fetch(extra=("--gateway-role", "exit"))
check(rc == 0 and d["picked"]["identity"] == GW[2], "client picks an exit gateway: g2")
rc, d, _ = fetch(extra=("--gateway-country", "DE", "--gateway-role", "entry"))
check(rc == 0 and d["picked"]["identity"] in (GW[1], GW[3]), "client picks an entry gateway in DE")
rc, d, _ = fetch(extra=("--gateway-id", GW[3]))
check(rc == 0 and d["picked"]["identity"] == GW[3], "client picks g3 by identity")
rc, _, err = fetch(extra=("--gateway-id", MIX[1]))
check(rc == 1, "a mixnode is not a gateway to pick")

# --- 3. k-of-n: documents with too few valid signatures are refused --------------------------
status, signed, _ = http_get(AUTH[1] + "/v1/topology")
env = json.loads(signed)
served = {}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = served.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b"{}")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("198.51.100.30", 8000), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
FAKE = "http://198.51.100.30:8000"
one = dict(env, signatures=[s for s in env["signatures"] if s["authority"] == AK[1]])
served["/v1/topology"] = json.dumps(one).encode()
rc, _, err = fetch(urls=[FAKE])
check(rc == 1 and "1 valid signatures of the 2 required" in err, "2 of 3 required: a document signed by one is refused")
rc, d, _ = fetch(urls=[FAKE], threshold=1)
check(rc == 0 and d["signatures"] == 1, "1 of 3 required: the same document is accepted")
forged = json.loads(signed)
forged["document"]["layers"][0][0]["description"]["published"] += 1
served["/v1/topology"] = json.dumps(forged).encode()
rc, _, err = fetch(urls=[FAKE], threshold=1)
check(rc == 1, "a changed document keeps no signature")
rc, _, err = fetch(urls=[AUTH[1]], keys=[AK[1], AK[2], MIX[1]], threshold=3)
check(rc == 1, "signatures by keys not configured do not count")
server.shutdown()

# --- 4./5. one authority and one mixnode go down --------------------------------------------
E_kill = epoch_now()
os.kill(pid("a3"), signal.SIGKILL)
os.kill(pid("m4"), signal.SIGKILL)
d = wait_or_fail("a document without m4, signed by the two authorities left",
             full_doc(E_kill + 2, signatures=2, mixnodes=3, exclude=[MIX[4]]), 20)
if d:
    check(d["signatures"] == 2 and d["voters"] == 2, f"epoch {d['epoch']}: 2 votes, 2 signatures, a3 down")
    check([len(x) for x in d["layers"]] == [1, 1, 1], "three mixnodes: one per layer")
    rc, _, err = fetch(threshold=3)
    check(rc == 1, "3 of 3 required: refused with a3 down")
    rc, _, _ = fetch(urls=[AUTH[3], AUTH[1]], threshold=2)
    check(rc == 0, "2 of 3 required: accepted with a3 down (its URL listed first)")
    check(E_kill > E1, "m4 was listed before it stopped answering")

# --- 6. ticketbooks over HTTP -----------------------------------------------------------------
rc, v, _ = node("authority", "voucher", "create", "--data-dir", f"{T}/a1", "--books", "2", "--json")
check(rc == 0 and len(v["vouchers"]) == 2, "authority voucher create: 2 codes")
V0, V1 = v["vouchers"]
unused = prom(AUTH[1], "nym_authority_vouchers_unused")
book = f"{T}/book.json"
t0 = time.time()
rc, b, err = node("debug", "ticketbook-obtain", "--authority", AUTH[1], "--authority-key", AK[1], "--voucher", V0,
                  "--type", "mixnet-entry", "--out", book, "--json")
check(rc == 0 and b["tickets"] == 50 and b["issuer_keys_verified"],
      f"a ticketbook of 50 obtained over HTTP ({time.time() - t0:.2f}s): {err.strip()}")
rc, _, _ = node("debug", "ticket-verify", "--book", book, "--index", "0")
check(rc == 0, "its ticket 0 verifies")
rc, _, err = node("debug", "ticketbook-obtain", "--authority", AUTH[1], "--voucher", V0, "--type", "mixnet-entry",
                  "--out", f"{T}/again.json")
check(rc == 1 and "voucher already used" in err and not os.path.exists(f"{T}/again.json"), "a voucher works once")
rc, _, err = node("debug", "ticketbook-obtain", "--authority", AUTH[1], "--authority-key", AK[2], "--voucher", V1,
                  "--type", "wg-exit", "--out", f"{T}/wrong.json")
check(rc == 1 and "not configured" in err, "an issuer key list signed by another authority is refused")
check(prom(AUTH[1], "nym_authority_vouchers_unused") == unused - 1, "only the first voucher was spent")
p = subprocess.run([NODE, "debug", "ticket-export", "--book", book, "--index", "5"], capture_output=True, text=True)
e = json.loads(p.stdout)
try:
    load_pem_public_key(e["public_key_pem"].encode()).verify(
        bytes.fromhex(e["signature"]), bytes.fromhex(e["message"]),
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384())
    check(True, "an exported ticket verifies with python3-cryptography")
except Exception as ex:  # noqa: BLE001
    check(False, f"an exported ticket verifies with python3-cryptography ({ex})")

# --- 7. double spending ----------------------------------------------------------------------
LIVE = ["--authority", AUTH[1], "--authority", AUTH[2], "--authority-key", AK[1], "--authority-key", AK[2]]


def spend(gw, index, *extra):
    return node("debug", "ticket-spend", "--data-dir", f"{T}/g{gw}", "--book", book, "--index", str(index), "--json",
                *LIVE, *extra)


rc, s, err = spend(1, 1, "--no-report")
check(rc == 0 and s["accepted"], f"ticket 1 accepted at g1 {err.strip()}")
rc, s, _ = spend(1, 1, "--no-report")
check(rc == 1 and s["reason"] == "ticket already spent" and s["refused_by"] == "gateway store",
      "ticket 1 again at g1: refused by its store, reopened by a new process")
rc, s, err = spend(1, 2)
check(rc == 0 and s["reported"] == 2, f"ticket 2 accepted at g1, both serials reported {err.strip()}")
rc, s, err = spend(2, 2, "--no-refresh", "--report-out", f"{T}/report.bin")
check(rc == 0 and s["accepted"], f"ticket 2 accepted at g2, whose filter is older {err.strip()}")
check(prom(AUTH[1], "nym_authority_double_spent_serials") == 1 and
      prom(AUTH[2], "nym_authority_double_spent_serials") == 1, "both authorities record the double spend")
rc, s, _ = spend(3, 2)
check(rc == 1 and s["reason"] == "ticket already spent" and s["refused_by"] == "spent filter",
      "ticket 2 at g3: refused once its filter is refreshed")
rc, s, _ = spend(3, 3)
check(rc == 0, "an unspent ticket is still accepted at g3")

# --- 7b. admission: a revocation at one authority reaches the others ---------------------------
rc, _, err = node("authority", "revoke", "--data-dir", f"{T}/a2", MIX[3])
check(rc == 0, f"m3 revoked at a2 {err.strip()}")


def a1_vote_without_m3():
    e = epoch_now() + 1
    status, body, _ = http_get(AUTH[1] + f"/v1/votes/{e}")
    if status != 200:
        return None
    for v in json.loads(body)["votes"]:
        if v["vote"]["authority"] == AK[1]:
            ids = {n["description"]["identity"] for n in v["vote"]["nodes"]}
            if MIX[1] in ids and MIX[3] not in ids:
                return e
    return None


e_rev = wait_or_fail("a1's vote leaves out m3, which a2 revoked", a1_vote_without_m3, 16)
check(e_rev is not None, f"a1 learnt a2's revocation (its vote for epoch {e_rev})")
rc, listing, _ = node("authority", "list", "--data-dir", f"{T}/a1")
m3 = next((n for n in (listing or {}).get("nodes", []) if n["identity"] == MIX[3]), None)
check(m3 is not None and not m3["admitted"] and
      {(d["authority"], d["state"]) for d in m3["decisions"]} == {(AK[1], "admitted"), (AK[2], "revoked")},
      "a1 lists m3 as admitted by a1, revoked by a2: not admitted")

# --- 8. hostile requests change nothing ------------------------------------------------------
for name in ("m1", "m2", "m3", "g1", "g2", "g3"):
    os.kill(pid(name), signal.SIGTERM)
time.sleep(2.5)
A1 = ("198.51.100.1", 8080)
METRICS = ["nym_authority_registered_nodes", "nym_authority_vouchers_unused", "nym_authority_vouchers_redeemed",
           "nym_authority_spent_serials", "nym_authority_double_spent_serials", "nym_authority_issuer_keys"]


def snapshot():
    _, body, _ = http_get(AUTH[1] + "/v1/nodes")
    nodes = [{k: v for k, v in n.items() if not k.startswith("last_") or k == "last_announced"}
             for n in json.loads(body)["nodes"]]
    _, keys, _ = http_get(AUTH[1] + "/v1/issuer-keys")
    return json.dumps(nodes, sort_keys=True), keys, [prom(AUTH[1], m) for m in METRICS]


def request(method, path, body=b"", headers=None):
    c = http.client.HTTPConnection(*A1, timeout=5)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    except (ConnectionError, http.client.HTTPException):
        return 0, b""
    finally:
        c.close()


def raw(data):
    s = socket.create_connection(A1, timeout=5)
    s.sendall(data)
    try:
        s.recv(4096)
    except OSError:
        pass
    s.close()


before = snapshot()
stored = next(n["node"] for n in json.loads(http_get(AUTH[1] + "/v1/nodes")[1])["nodes"]
              if n["node"]["description"]["identity"] == MIX[1])
forged_desc = json.loads(json.dumps(stored))
forged_desc["description"]["ports"]["mix"] = 1
ticket_req = json.dumps({"voucher": V0, "type": "mixnet-entry", "expiry": b["expires"],
                         "blinded": ["00" * 256]}).encode()
cases = [
    ("POST", "/v1/nodes", b"", (400,)),
    ("POST", "/v1/nodes", b"{", (400,)),
    ("POST", "/v1/nodes", b"[]", (400,)),
    ("POST", "/v1/nodes", b'{"description":{},"signature":"x"}', (400,)),
    ("POST", "/v1/nodes", b"{" + b" " * 9000 + b"}", (413, 0)),
    ("POST", "/v1/nodes", json.dumps(forged_desc).encode(), (401,)),
    ("POST", "/v1/nodes", json.dumps(old_m1).encode(), (409,)),
    ("POST", "/v1/nodes", json.dumps(stored).encode(), (200,)),
    ("POST", "/v1/ticketbooks", b"\x00\xff garbage", (400,)),
    ("POST", "/v1/ticketbooks", b"x" * (70 * 1024), (413, 0)),
    ("POST", "/v1/ticketbooks", ticket_req, (403,)),
    ("POST", "/v1/spent", b"NYMSPENT" + b"\x01" * 10, (400,)),
    ("POST", "/v1/spent", b"\x00" * 50000, (413, 0)),
    ("POST", "/v1/spent", open(f"{T}/report.bin", "rb").read(), (200,)),
    ("GET", "/v1/topology/abc", b"", (400,)),
    ("GET", "/v1/topology/0", b"", (400,)),
    ("GET", "/v1/topology/99999999", b"", (404,)),
    ("GET", "/v1/votes/-1", b"", (400,)),
    ("GET", "/v1/epoch", b"{}", (413, 0)),
    ("DELETE", "/v1/nodes", b"", (405,)),
    ("PUT", "/v1/spent", b"", (405,)),
    ("GET", "/v1/nope", b"", (404,)),
]
for method, path, body, want in cases:
    status, answer = request(method, path, body)
    is_json = True
    if status:
        try:
            j = json.loads(answer)
            is_json = isinstance(j, dict) and ("error" in j or "message" in j or status == 200)
        except ValueError:
            is_json = False
    check(status in want and is_json, f"{method} {path} ({len(body)} bytes): {status}" +
          (", JSON error" if status != 200 else ", a repeat"))
replayed = json.loads(request("POST", "/v1/spent", open(f"{T}/report.bin", "rb").read())[1])
check(replayed["added"] == 0, "a replayed spent report adds nothing")
check(json.loads(request("POST", "/v1/nodes", json.dumps(stored).encode())[1])["result"] == "unchanged",
      "a replayed announcement changes nothing")
raw(b"GARBAGE\r\n\r\n")
raw(b"POST /v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{")
raw(b"POST /v1/spent HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"ffff\r\n" + b"A" * 65535)
raw(b"GET /v1/topology/" + b"9" * 5000 + b" HTTP/1.1\r\n\r\n")
time.sleep(0.5)
after = snapshot()
check(before[0] == after[0], "the registry is unchanged")
check(before[1] == after[1], "the issuer key list is unchanged")
check(before[2] == after[2], f"vouchers, spent serials and counts unchanged {before[2]}")
os.kill(pid("a1"), 0)
status, body, _ = http_get(AUTH[1] + "/api/v1/health")
check(status == 200 and json.loads(body)["status"] == "up", "the authority is still up")

finish(f"authority_net: {time.time() - started:.0f}s")
