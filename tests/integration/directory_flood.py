"""Checks for directory_flood.sh, run on the attacker's host: 5,000 valid registrations from
one address; the real mixnodes stay in the next signed topology, the authority's resident
memory stays under 100 MB and it keeps answering. Prints the figures it measured."""
import http.client
import json
import os
import sys
import threading
import time

D, MODE, GENESIS = os.environ["D"], os.environ["MODE"], int(os.environ["GENESIS"])
T = os.environ["T"]
EPOCH_S = 4
HOST = "198.51.100.2"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + f"[{MODE}] " + what, flush=True)
    if not cond:
        failures.append(what)


def epoch_now():
    return (int(time.time()) - GENESIS) // EPOCH_S + 1


def get(path, timeout=5):
    c = http.client.HTTPConnection(HOST, 8080, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


REAL = {open(f"{D}/m{i}/data/ed25519_identity.pub").read().strip() for i in (1, 2, 3)}
AUTH_PID = int(open(f"{D}/auth.pid").read())


def served():
    """(epoch, identities in the layers) of the document the authority serves."""
    try:
        st, body = get("/v1/topology")
    except OSError:
        return 0, set()
    if st != 200:
        return 0, set()
    doc = json.loads(body)["document"]
    return doc["epoch"], {n["description"]["identity"] for layer in doc["layers"] for n in layer}


def wait_real_listed(min_epoch, timeout):
    end = time.time() + timeout
    while time.time() < end:
        e, ids = served()
        if e >= min_epoch and REAL <= ids:
            return e, ids
        time.sleep(0.3)
    return served()


def rss_kb():
    out = {}
    for line in open(f"/proc/{AUTH_PID}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0])
    return out


def nodes_list():
    """Every page of GET /v1/nodes: (nodes, bytes, seconds, pages)."""
    t0 = time.time()
    total, size, pages, path = 0, 0, 0, "/v1/nodes"
    while path and pages < 1000:
        st, body = get(path, timeout=30)
        if st != 200:
            break
        size += len(body)
        pages += 1
        j = json.loads(body)
        total += len(j["nodes"])
        nxt = j.get("next")
        path = f"/v1/nodes?after={nxt}" if nxt else None
    return total, size, time.time() - t0, pages


e0, ids0 = wait_real_listed(1, 40)
check(REAL <= ids0, f"before the flood the document of epoch {e0} lists the three real mixnodes")
rss0 = rss_kb()

# A well-behaved client asks for the epoch every 200 ms throughout.
lat, lat_fail, stop = [], [0], threading.Event()


def poll():
    while not stop.is_set():
        t = time.time()
        try:
            st, _ = get("/v1/epoch", timeout=5)
            if st != 200:
                lat_fail[0] += 1
        except OSError:
            lat_fail[0] += 1
        lat.append(time.time() - t)
        time.sleep(0.2)


docs = {}  # epoch of each document served from the flood on -> whether it lists the real nodes


def watch():
    while not stop.is_set():
        e, ids = served()
        if e:
            docs[e] = REAL <= ids
        time.sleep(0.5)


poller = threading.Thread(target=poll)
poller.start()
watcher = threading.Thread(target=watch)
watcher.start()

statuses = {}
lines = open(f"{T}/flood.jsonl", "rb").read().splitlines()
t0 = time.time()
conn = None
for body in lines:
    for attempt in (0, 1):
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, 8080, timeout=10)
            conn.request("POST", "/v1/nodes", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
            break
        except (OSError, http.client.HTTPException):
            if conn:
                conn.close()
            conn = None
            if attempt:
                statuses["error"] = statuses.get("error", 0) + 1
flood_s = time.time() - t0
if conn:
    conn.close()
flood_end_epoch = epoch_now()
rss1 = rss_kb()
n_nodes, n_bytes, n_secs, n_pages = nodes_list()

# The next document voted entirely after the flood.
e1, ids1 = wait_real_listed(flood_end_epoch + 2, 30)
stop.set()
poller.join()
watcher.join()
rss2 = rss_kb()
accepted = statuses.get(200, 0)
print(f"FIGURES mode={MODE} posted={len(lines)} accepted={accepted} statuses={statuses} "
      f"flood_s={flood_s:.1f} registry_nodes={n_nodes} nodes_bytes={n_bytes} nodes_pages={n_pages} "
      f"nodes_s={n_secs:.3f} rss_before_kb={rss0['VmRSS']} rss_after_kb={rss2['VmRSS']} "
      f"hwm_kb={rss2['VmHWM']} epoch_max_ms={max(lat) * 1000:.0f} epoch_failures={lat_fail[0]} "
      f"real_in_epoch={e1}:{len(REAL & ids1)}/3 documents_without_them={sorted(e for e, ok in docs.items() if not ok)}",
      flush=True)

check(REAL <= ids1 and e1 >= flood_end_epoch + 2,
      f"after the flood the document of epoch {e1} still lists the three real mixnodes")
check(all(docs.values()), f"every document served during and after the flood lists them ({sorted(docs)})")
if "/san/" in os.environ.get("NODE", ""):
    # AddressSanitizer's shadow memory and quarantine are not the authority's own.
    print(f"skip [{MODE}] peak resident memory {rss2['VmHWM'] // 1024} MB (sanitizer build)", flush=True)
else:
    check(rss2["VmHWM"] < 100 * 1024, f"peak resident memory {rss2['VmHWM'] // 1024} MB < 100 MB")
check(lat_fail[0] == 0 and max(lat) < 2.0,
      f"GET /v1/epoch kept answering ({len(lat)} requests, slowest {max(lat) * 1000:.0f} ms)")
if MODE == "allowlist":
    check(accepted == 0, f"no flooded description was admitted ({statuses})")
    check(n_nodes == 3, f"the registry holds the {n_nodes} admitted nodes")
elif MODE == "open":
    check(accepted < 200, f"the per-address rate limit held the flood to {accepted} registrations")
    check(n_nodes <= 3 + accepted, f"the registry holds {n_nodes} nodes")
else:
    check(n_nodes <= 2000 and accepted > 2000,
          f"the registry's cap held {accepted} accepted registrations to {n_nodes} nodes")
    check(n_pages >= 4, f"GET /v1/nodes came in {n_pages} pages of at most 500")
sys.exit(1 if failures else 0)
