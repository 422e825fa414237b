#!/bin/sh
# Tickets checked by someone else's code: issue a book through the blind protocol with
# nym-node, export tickets, and verify each as a plain RSASSA-PSS signature (SHA-384,
# MGF1-SHA-384, salt 48) twice in Python: with python3-cryptography, and with a from-scratch
# EMSA-PSS-VERIFY over pow(). Also checks that ticket-verify refuses what it must.
# No namespaces needed: everything is local files.
set -eu
. tests/lib/assert.sh
B=${NYM_BUILD:-build}
NODE=$B/bin/nym-node
T=$(mktemp -d "${TMPDIR:-/tmp}/cred_export.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

"$NODE" debug ticketbook-issue-local --issuer-db "$T/issuer.db" --type wg-exit \
	--out "$T/book.json" --issuer-keys-out "$T/keys.json" >"$T/issue.json"
grep -q '"tickets":50' "$T/issue.json" || die "issue-local did not report 50 tickets"
[ "$(stat -c %a "$T/book.json")" = 600 ] || die "ticketbook is not mode 0600"

for i in 0 7 49; do
	"$NODE" debug ticket-verify --book "$T/book.json" --index $i --issuer-keys "$T/keys.json" \
		>/dev/null || die "ticket $i does not verify"
	"$NODE" debug ticket-export --book "$T/book.json" --index $i >"$T/t$i.json" ||
		die "ticket $i does not export"
done

python3 - "$T/t0.json" "$T/t7.json" "$T/t49.json" <<'PY'
import hashlib, json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key

TYPES = {"mixnet-entry": 1, "wg-entry": 2, "wg-exit": 3}
PSS48 = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
PSS0 = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=0)

def mgf1(seed, length):
    out = b""
    c = 0
    while len(out) < length:
        out += hashlib.sha384(seed + c.to_bytes(4, "big")).digest()
        c += 1
    return out[:length]

def pss_verify(n, e, msg, sig, slen=48):
    """RFC 8017 8.1.2 / 9.1.2, written out: independent of any library's PSS code."""
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    s = int.from_bytes(sig, "big")
    if s >= n:
        return False
    em_bits = n.bit_length() - 1
    em_len = (em_bits + 7) // 8
    em = pow(s, e, n).to_bytes(em_len, "big")
    hlen = 48
    if em_len < hlen + slen + 2 or em[-1] != 0xBC:
        return False
    masked, h = em[: em_len - hlen - 1], em[em_len - hlen - 1 : -1]
    top = 8 * em_len - em_bits
    if masked[0] >> (8 - top) if top else 0:
        return False
    db = bytearray(a ^ b for a, b in zip(masked, mgf1(h, len(masked))))
    if top:
        db[0] &= 0xFF >> top
    ps_len = em_len - hlen - slen - 2
    if any(db[:ps_len]) or db[ps_len] != 1:
        return False
    salt = bytes(db[ps_len + 1 :])
    mhash = hashlib.sha384(msg).digest()
    return hashlib.sha384(b"\0" * 8 + mhash + salt).digest() == h

serials = set()
for path in sys.argv[1:]:
    t = json.load(open(path))
    assert set(t) == {"type", "serial", "expires", "message", "signature", "public_key_pem"}, t.keys()
    msg = bytes.fromhex(t["message"])
    sig = bytes.fromhex(t["signature"])
    assert len(msg) == 73, len(msg)
    # The message is prefix(32) || type(1) || expiry(8) || serial(32), and the JSON agrees.
    assert msg[32] == TYPES[t["type"]], (msg[32], t["type"])
    assert int.from_bytes(msg[33:41], "big") == t["expires"]
    assert t["expires"] % 86400 == 0
    assert msg[41:73].hex() == t["serial"]
    serials.add(t["serial"])

    key = load_pem_public_key(t["public_key_pem"].encode())
    nums = key.public_numbers()
    assert nums.e == 65537 and key.key_size == 3072 and len(sig) == 384
    # 1. python3-cryptography.
    key.verify(sig, msg, PSS48, hashes.SHA384())
    for bad_msg, bad_sig in ((msg[:40] + bytes([msg[40] ^ 1]) + msg[41:], sig),
                             (msg, sig[:-1] + bytes([sig[-1] ^ 0x80])),
                             (msg[1:], sig)):
        try:
            key.verify(bad_sig, bad_msg, PSS48, hashes.SHA384())
            raise SystemExit(f"{path}: a tampered ticket verified")
        except InvalidSignature:
            pass
    try:
        key.verify(sig, msg, PSS0, hashes.SHA384())
        raise SystemExit(f"{path}: verified with salt length 0")
    except InvalidSignature:
        pass
    # 2. From scratch.
    assert pss_verify(nums.n, nums.e, msg, sig), f"{path}: from-scratch PSS verify failed"
    assert not pss_verify(nums.n, nums.e, msg[:-1] + bytes([msg[-1] ^ 1]), sig)
    assert not pss_verify(nums.n, nums.e, msg, sig, slen=0)

assert len(serials) == 3, "serials repeat"
print("cred_export: 3 exported tickets verify with python3-cryptography and from scratch")
PY

# ticket-verify refuses what it must, with exit status 1 and a reason.
expires=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expires"])' "$T/t0.json")
refuses "ticket-verify refuses an expired ticket" . "$NODE" debug ticket-verify --book "$T/book.json" --index 0 --now "$expires"
"$NODE" debug ticket-verify --book "$T/book.json" --index 0 --now $((expires - 1)) >/dev/null ||
	die "ticket refused one second before expiry"
refuses "ticket-verify refuses an index past the end" . "$NODE" debug ticket-verify --book "$T/book.json" --index 50
refuses "ticket-verify refuses a missing book" . "$NODE" debug ticket-verify --book "$T/none.json" --index 0

# A key list from another issuer: the ticket's key is unknown there.
"$NODE" debug ticketbook-issue-local --issuer-db "$T/other.db" --type wg-entry --bits 2048 \
	--count 1 --out "$T/other.json" --issuer-keys-out "$T/other-keys.json" >/dev/null
refuses "ticket-verify refuses a ticket under an unknown key" "no issuer key" "$NODE" debug ticket-verify --book "$T/book.json" --index 3 \
	--issuer-keys "$T/other-keys.json"

# A book with one flipped signature bit.
python3 - "$T/book.json" "$T/tampered.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
t = b["tickets"][5]["ticket"]
b["tickets"][5]["ticket"] = t[:-1] + format(int(t[-1], 16) ^ 1, "x")
json.dump(b, open(sys.argv[2], "w"))
PY
refuses "ticket-verify refuses a flipped signature bit" "invalid signature" "$NODE" debug ticket-verify --book "$T/tampered.json" --index 5
"$NODE" debug ticket-verify --book "$T/tampered.json" --index 4 >/dev/null ||
	die "the untouched neighbour no longer verifies"
finish
