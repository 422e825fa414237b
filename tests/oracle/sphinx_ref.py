#!/usr/bin/python3
"""Independent reference implementation of Nym's Sphinx packet format (versions 258 and 259).

Written only from /work/shared/spec/sphinx.md (section numbers below, "§", refer to it) and the
vectors in tests/vectors/, so that the C implementation in lib/sphinx can be checked against
something that did not share its mistakes. Clarity beats speed here: every spec step is its own
function and nothing is optimised (the sender derives its shared secrets the quadratic way §1.5
describes).

Command line (mirrors `nym-node debug`; JSON on stdout, hex is lowercase):

  sphinx_ref.py create --route FILE --destination HEX32 --identifier HEX16 --message HEX
                       [--version 258|259] [--payload-size N] [--seed HEX32]
  sphinx_ref.py process --secret-key HEX32 --packet HEX
  sphinx_ref.py keygen
  sphinx_ref.py selftest

On any failure: one line on stderr, exit status 1.

Dependencies: the Python standard library and `cryptography` (Debian python3-cryptography).
"""

import argparse
import hashlib
import hmac
import json
import os
import string
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# ---------------------------------------------------------------------------------------------
# §1.1 constants
# ---------------------------------------------------------------------------------------------

SECURITY_PARAMETER = 16
MAX_PATH_LENGTH = 5
NODE_ADDRESS_LENGTH = 32
DESTINATION_ADDRESS_LENGTH = 32
IDENTIFIER_LENGTH = 16
VERSION_LENGTH = 3
DELAY_LENGTH = 8
MAC_SIZE = 16  # HEADER_INTEGRITY_MAC_SIZE
STREAM_CIPHER_KEY_SIZE = 16
MAC_KEY_SIZE = 16
PAYLOAD_KEY_SIZE = 192
PAYLOAD_KEY_SEED_SIZE = 16
BLINDING_FACTOR_SIZE = 32
REPLAY_TAG_SIZE = 32
NODE_META_INFO_SIZE = 1 + VERSION_LENGTH + NODE_ADDRESS_LENGTH + DELAY_LENGTH  # 44
FINAL_NODE_META_INFO_LENGTH = 1 + VERSION_LENGTH + DESTINATION_ADDRESS_LENGTH + IDENTIFIER_LENGTH  # 52
HOP_SLOT = NODE_META_INFO_SIZE + MAC_SIZE  # 60, FILLER_STEP_SIZE_INCREASE
BETA_SIZE = HOP_SLOT * MAX_PATH_LENGTH  # 300, ENCRYPTED_ROUTING_INFO_SIZE
TRUNCATED_BETA_SIZE = BETA_SIZE - HOP_SLOT  # 240
STREAM_OUTPUT_LENGTH = HOP_SLOT * (MAX_PATH_LENGTH + 1)  # 360
ALPHA_SIZE = 32
HEADER_SIZE = ALPHA_SIZE + MAC_SIZE + BETA_SIZE  # 348
PAYLOAD_OVERHEAD_SIZE = SECURITY_PARAMETER + 1  # 17
EXPANDED_SHARED_SECRET_LENGTH = 288
LIONESS_L = 32  # Lioness left half = ChaCha20 key size = BLAKE2b output size

FORWARD_HOP = 1
FINAL_HOP = 2

VERSION_X25519_EXPLICIT_PAYLOAD_KEYS = 258
VERSION_PAYLOAD_KEY_SEEDS = 259
SUPPORTED_VERSIONS = (VERSION_X25519_EXPLICIT_PAYLOAD_KEYS, VERSION_PAYLOAD_KEY_SEEDS)
LEGACY_VERSIONS = (1, 257)

# §2.1: Sphinx payload sizes of Nym's packet size classes.
PAYLOAD_SIZE_REGULAR = 2065
PAYLOAD_SIZE_ACK = 38
PAYLOAD_SIZE_EXTENDED8 = 8209
PAYLOAD_SIZE_EXTENDED16 = 16401
PAYLOAD_SIZE_EXTENDED32 = 32785
NYM_PAYLOAD_SIZES = (PAYLOAD_SIZE_ACK, PAYLOAD_SIZE_REGULAR, PAYLOAD_SIZE_EXTENDED8,
                     PAYLOAD_SIZE_EXTENDED16, PAYLOAD_SIZE_EXTENDED32)

# §1.4
HKDF_INFO = (b"Dwste mou enan moxlo arketa makru kai ena upomoxlio gia na ton topothetisw "
             b"kai tha kinisw thn gh.")
assert len(HKDF_INFO) == 97
PAYLOAD_KEY_HKDF_SALT = b"sphinx-payload-key-V01-CS01-HKDF:SHA256-SALT"
PAYLOAD_KEY_HKDF_INFO = b"sphinx-payload-key-V01-CS01-HKDF:SHA256-INFO"

X25519_BASEPOINT = (9).to_bytes(32, "little")

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class SphinxError(Exception):
    """Anything that makes a packet unusable or a request invalid (reported, exit 1)."""


# ---------------------------------------------------------------------------------------------
# §1.3 primitives
# ---------------------------------------------------------------------------------------------

def xor(a, b):
    assert len(a) == len(b)
    return bytes(x ^ y for x, y in zip(a, b))


def x25519(scalar, u):
    """RFC 7748 X25519: the scalar is clamped, u is any 32-byte string (§1.5).

    `cryptography` refuses an all-zero result (a low-order u). RFC 7748 makes that check
    optional and the spec does not ask for it; x25519-dalek, which nymtech/sphinx uses, returns
    the all-zero output and carries on, so we do the same (the MAC check still has to pass).
    """
    try:
        return X25519PrivateKey.from_private_bytes(scalar).exchange(
            X25519PublicKey.from_public_bytes(u))
    except ValueError:
        return bytes(32)


def hkdf_sha256(salt, ikm, info, length):
    """RFC 5869 HKDF-SHA256, extract and expand (§1.3). An empty salt is the RFC default."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None,
                info=info).derive(ikm)


def header_keystream(stream_cipher_key):
    """AES-128-CTR, zero IV, one 360-byte keystream per hop key (§1.3, §8 pitfall 3).

    A 128-bit big-endian counter from 0 equals upstream's Ctr64BE for these 23 blocks.
    """
    enc = Cipher(algorithms.AES(stream_cipher_key), modes.CTR(bytes(16))).encryptor()
    return enc.update(bytes(STREAM_OUTPUT_LENGTH)) + enc.finalize()


def header_mac(mac_key, beta):
    """HMAC-SHA256 keyed with 16 bytes, truncated to 16 bytes, over beta only (§1.3, §8.1-2)."""
    return hmac.new(mac_key, beta, hashlib.sha256).digest()[:MAC_SIZE]


def chacha20_keystream(key, length):
    """Original ChaCha20, all-zero nonce, block counter 0 (§1.8, §1.11).

    cryptography's nonce argument is 4-byte LE counter || 12-byte nonce; all zero here, which
    is the same keystream as DJB's 64-bit-nonce form for our lengths.
    """
    enc = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    return enc.update(bytes(length)) + enc.finalize()


def blake2b_keyed_32(key, msg):
    """Keyed BLAKE2b with digest_length 32 (not truncated BLAKE2b-512) (§1.8)."""
    return hashlib.blake2b(msg, key=key, digest_size=32).digest()


# ---------------------------------------------------------------------------------------------
# §1.8 Lioness (burdges lioness 0.1.2 with ChaCha20 and keyed BLAKE2b-256)
# ---------------------------------------------------------------------------------------------

def lioness_split_key(key):
    """Key = K1(32) || K2(64) || K3(32) || K4(64)."""
    if len(key) != PAYLOAD_KEY_SIZE:
        raise SphinxError("lioness key must be 192 bytes")
    return key[0:32], key[32:96], key[96:128], key[128:192]


def lioness_check_block(block):
    # The lioness crate refuses blocks of 32 bytes or fewer (R would be empty); confirmed in
    # burdges/lioness-rs src/lib.rs (`if blocklen <= keylen` -> BlockSizeError).
    if len(block) <= LIONESS_L:
        raise SphinxError("lioness block must be longer than 32 bytes")


def lioness_stream_round(left, right, k):
    return xor(right, chacha20_keystream(xor(left, k), len(right)))


def lioness_hash_round(left, right, k):
    return xor(left, blake2b_keyed_32(k, right))


def lioness_encrypt(key, block):
    lioness_check_block(block)
    k1, k2, k3, k4 = lioness_split_key(key)
    left, right = block[:LIONESS_L], block[LIONESS_L:]
    right = lioness_stream_round(left, right, k1)
    left = lioness_hash_round(left, right, k2)
    right = lioness_stream_round(left, right, k3)
    left = lioness_hash_round(left, right, k4)
    return left + right


def lioness_decrypt(key, block):
    lioness_check_block(block)
    k1, k2, k3, k4 = lioness_split_key(key)
    left, right = block[:LIONESS_L], block[LIONESS_L:]
    left = lioness_hash_round(left, right, k4)
    right = lioness_stream_round(left, right, k3)
    left = lioness_hash_round(left, right, k2)
    right = lioness_stream_round(left, right, k1)
    return left + right


# ---------------------------------------------------------------------------------------------
# §1.4 key derivation per hop
# ---------------------------------------------------------------------------------------------

class HopKeys:
    """The 288-byte expanded shared secret split into its fields (§1.4 table)."""

    def __init__(self, expanded):
        assert len(expanded) == EXPANDED_SHARED_SECRET_LENGTH
        self.expanded = expanded
        self.stream_cipher_key = expanded[0:16]
        self.mac_key = expanded[16:32]
        self.legacy_payload_key = expanded[32:224]
        self.payload_key_seed = expanded[32:48]
        self.blinding_factor = expanded[224:256]
        self.replay_tag = expanded[256:288]


def expand_shared_secret(shared):
    """HKDF-SHA256(salt = empty, IKM = X25519 output, info = INFO, L = 288) (§1.4)."""
    return HopKeys(hkdf_sha256(b"", shared, HKDF_INFO, EXPANDED_SHARED_SECRET_LENGTH))


def derive_v259_payload_key(seed):
    """v259: Lioness key = HKDF-SHA256(fixed salt, IKM = 16-byte seed, fixed info, 192) (§1.4)."""
    return hkdf_sha256(PAYLOAD_KEY_HKDF_SALT, seed, PAYLOAD_KEY_HKDF_INFO, PAYLOAD_KEY_SIZE)


def payload_key(keys, version):
    """The version picks the raw 192-byte region (258) or HKDF(seed) (259) (§1.4, §1.7 step 4)."""
    if version == VERSION_X25519_EXPLICIT_PAYLOAD_KEYS:
        return keys.legacy_payload_key
    if version == VERSION_PAYLOAD_KEY_SEEDS:
        return derive_v259_payload_key(keys.payload_key_seed)
    raise SphinxError(f"unsupported Sphinx version {version}")


# ---------------------------------------------------------------------------------------------
# §1.2 version bytes
# ---------------------------------------------------------------------------------------------

def encode_version(version):
    """3 bytes: 0, then the u16 version big-endian (§1.2)."""
    return bytes([0]) + version.to_bytes(2, "big")


def decode_version(raw):
    """Only 258 and 259 are accepted.

    Upstream only debug-asserts byte0 == 0 (§1.2); a release build would read [x, 1, 3] as 259.
    We reject a non-zero byte0 instead: no honest sender produces one. Legacy versions 1/257 use
    a different (mod-l, unclamped) blinding that this oracle does not implement.
    """
    if raw[0] != 0:
        raise SphinxError(f"bad version bytes {raw.hex()}")
    version = int.from_bytes(raw[1:3], "big")
    if version in LEGACY_VERSIONS:
        raise SphinxError(f"legacy Sphinx version {version} is not supported")
    if version not in SUPPORTED_VERSIONS:
        raise SphinxError(f"unknown Sphinx version {version}")
    return version


# ---------------------------------------------------------------------------------------------
# §1.5 group operations, sender side (v258/v259)
# ---------------------------------------------------------------------------------------------

def sender_alpha0(x):
    """alpha0 = X25519(x, 9)."""
    return x25519(x, X25519_BASEPOINT)


def sender_hop_keys(x, public_keys):
    """shared_i = X25519(b_{i-1}, ... X25519(b_0, X25519(x, PK_i))), done the plain way:
    1 + n(n+1)/2 X25519 operations including alpha0. Returns one HopKeys per hop."""
    blinding_factors = []
    hop_keys = []
    for pk in public_keys:
        shared = x25519(x, pk)
        for b in blinding_factors:
            shared = x25519(b, shared)
        keys = expand_shared_secret(shared)
        hop_keys.append(keys)
        blinding_factors.append(keys.blinding_factor)  # the last hop's is never used
    return hop_keys


# ---------------------------------------------------------------------------------------------
# §1.6 header construction (sender)
# ---------------------------------------------------------------------------------------------

def build_filler(keystreams):
    """§1.6 step 1: from hops 0..n-2; step i appends 60 zero bytes then XORs the buffer with
    the last 60*i bytes of S_{i-1}. Result: 60*(n-1) bytes."""
    filler = b""
    for i in range(1, len(keystreams)):
        filler += bytes(HOP_SLOT)
        filler = xor(filler, keystreams[i - 1][STREAM_OUTPUT_LENGTH - HOP_SLOT * i:])
    return filler


def final_padding_length(n):
    """Padding length of the final-hop block = 300 - 60(n-1) - 52 (§1.2)."""
    return BETA_SIZE - HOP_SLOT * (n - 1) - FINAL_NODE_META_INFO_LENGTH


def final_routing_block(version, destination, identifier, padding, flag=FINAL_HOP):
    """D = [2, ver(3), dest(32), id(16), random pad] (§1.2, §1.6 step 2).
    `flag` is only overridden by the self-test to build invalid packets."""
    return bytes([flag]) + encode_version(version) + destination + identifier + padding


def encrypt_final_hop(keys, keystream, block, filler):
    """§1.6 step 2: beta_{n-1} = (D XOR S_{n-1}[0..|D|]) || filler; gamma = HMAC16(beta)."""
    beta = xor(block, keystream[:len(block)]) + filler
    assert len(beta) == BETA_SIZE
    return header_mac(keys.mac_key, beta), beta


def forward_routing_block(version, next_address, delay_ns, next_gamma, next_beta):
    """§1.6 step 3 plaintext: [1, ver(3), next address(32), delay(8, BE ns), gamma_{i+1}(16),
    beta_{i+1}[0..240]] = 300 bytes."""
    block = (bytes([FORWARD_HOP]) + encode_version(version) + next_address +
             delay_ns.to_bytes(DELAY_LENGTH, "big") + next_gamma + next_beta[:TRUNCATED_BETA_SIZE])
    assert len(block) == BETA_SIZE
    return block


def encrypt_forward_hop(keys, keystream, block):
    """§1.6 step 3: beta_i = plain XOR S_i[0..300]; gamma_i = HMAC16(K_i.mac_key, beta_i)."""
    beta = xor(block, keystream[:BETA_SIZE])
    return header_mac(keys.mac_key, beta), beta


def build_header(version, x, route, destination, identifier, padding, final_flag=FINAL_HOP):
    """§1.6: returns (header bytes, per-hop keys). route = [(address, public_key, delay_ns)].
    The first hop's address is not in the header; the last hop's delay is ignored (§1.6.4)."""
    n = len(route)
    hop_keys = sender_hop_keys(x, [pk for _, pk, _ in route])
    keystreams = [header_keystream(k.stream_cipher_key) for k in hop_keys]

    filler = build_filler(keystreams)
    final_block = final_routing_block(version, destination, identifier, padding, final_flag)
    gamma, beta = encrypt_final_hop(hop_keys[n - 1], keystreams[n - 1], final_block, filler)

    for i in range(n - 2, -1, -1):
        next_address = route[i + 1][0]
        delay_ns = route[i][2]
        block = forward_routing_block(version, next_address, delay_ns, gamma, beta)
        gamma, beta = encrypt_forward_hop(hop_keys[i], keystreams[i], block)

    header = sender_alpha0(x) + gamma + beta
    assert len(header) == HEADER_SIZE
    return header, hop_keys


# ---------------------------------------------------------------------------------------------
# §1.8 payload encoding and layered encryption
# ---------------------------------------------------------------------------------------------

def check_payload_size(payload_size, message_len):
    """Upstream needs payload_size >= 17 and >= 32; the lioness crate needs > 32 (see
    lioness_check_block), so the effective minimum is 33. Message <= payload_size - 17."""
    if payload_size <= LIONESS_L:
        raise SphinxError(f"payload size {payload_size} is too small (minimum {LIONESS_L + 1})")
    if message_len > payload_size - PAYLOAD_OVERHEAD_SIZE:
        raise SphinxError(f"message of {message_len} bytes does not fit a {payload_size}-byte "
                          f"payload (maximum {payload_size - PAYLOAD_OVERHEAD_SIZE})")


def encode_payload(message, payload_size):
    """16 x 0x00 || message || 0x01 || 0x00... up to payload_size (§1.8)."""
    check_payload_size(payload_size, len(message))
    plain = bytes(SECURITY_PARAMETER) + message + b"\x01"
    return plain + bytes(payload_size - len(plain))


def encrypt_payload(payload, payload_keys):
    """Lioness-encrypt with the hop keys in reverse route order, last hop first (§1.8)."""
    for key in reversed(payload_keys):
        payload = lioness_encrypt(key, payload)
    return payload


def recover_message(payload):
    """First 16 bytes must be zero; the message ends at the LAST 0x01 after them (§1.8, §8.7).
    As upstream (nymtech/sphinx src/payload/mod.rs recover_plaintext, consulted for this), the
    bytes after that 0x01 are not checked to be zero."""
    if len(payload) < PAYLOAD_OVERHEAD_SIZE:
        raise SphinxError("payload too short")
    if any(payload[:SECURITY_PARAMETER]):
        raise SphinxError("malformed payload: no leading zero padding")
    marker = payload.rfind(b"\x01", SECURITY_PARAMETER)
    if marker < 0:
        raise SphinxError("malformed payload: no padding marker")
    return payload[SECURITY_PARAMETER:marker]


# ---------------------------------------------------------------------------------------------
# Packet creation (§1.6 + §1.8)
# ---------------------------------------------------------------------------------------------

def create_packet(version, route, destination, identifier, message, payload_size, x, padding,
                  final_flag=FINAL_HOP):
    """Header (348) || Lioness-encrypted payload. `padding` must be final_padding_length(n)."""
    if not 1 <= len(route) <= MAX_PATH_LENGTH:
        raise SphinxError(f"route must have 1..{MAX_PATH_LENGTH} hops, got {len(route)}")
    if version not in SUPPORTED_VERSIONS:
        raise SphinxError(f"unsupported Sphinx version {version}")
    payload = encode_payload(message, payload_size)
    header, hop_keys = build_header(version, x, route, destination, identifier, padding,
                                    final_flag)
    return header + encrypt_payload(payload, [payload_key(k, version) for k in hop_keys])


def sender_randomness(n, seed=None):
    """x (32 bytes) then the final-hop padding. With a seed both come from one ChaCha20
    keystream (key = seed, zero nonce, counter 0): x = bytes [0, 32), padding follows
    directly at [32, 32 + pad). Without a seed: os.urandom."""
    pad_len = final_padding_length(n)
    if seed is None:
        return os.urandom(32), os.urandom(pad_len)
    stream = chacha20_keystream(seed, 32 + pad_len)
    return stream[:32], stream[32:]


# ---------------------------------------------------------------------------------------------
# §1.7 header processing (node)
# ---------------------------------------------------------------------------------------------

def split_packet(packet):
    """alpha (32) || gamma (16) || beta (300) || payload (§1.2)."""
    if len(packet) <= HEADER_SIZE + LIONESS_L:
        raise SphinxError(f"packet of {len(packet)} bytes is too short "
                          f"(minimum {HEADER_SIZE + LIONESS_L + 1})")
    alpha = packet[0:ALPHA_SIZE]
    gamma = packet[ALPHA_SIZE:ALPHA_SIZE + MAC_SIZE]
    beta = packet[ALPHA_SIZE + MAC_SIZE:HEADER_SIZE]
    return alpha, gamma, beta, packet[HEADER_SIZE:]


def node_hop_keys(secret_key, alpha):
    """§1.7 step 1: shared = X25519(sk, alpha); K = HKDF expansion."""
    return expand_shared_secret(x25519(secret_key, alpha))


def verify_header_mac(keys, gamma, beta):
    """§1.7 step 2: constant-time comparison of gamma with HMAC16(K.mac_key, beta)."""
    if not hmac.compare_digest(gamma, header_mac(keys.mac_key, beta)):
        raise SphinxError("header MAC mismatch")


def decrypt_routing_info(keys, beta):
    """§1.7 step 3: (beta || 60 zero bytes) XOR S, 360 bytes."""
    return xor(beta + bytes(HOP_SLOT), header_keystream(keys.stream_cipher_key))


def blind_alpha(keys, alpha):
    """§1.5 v258/v259: alpha' = X25519(bf, alpha)."""
    return x25519(keys.blinding_factor, alpha)


def process_packet(secret_key, packet):
    """Returns a dict shaped like the `process` JSON output (bytes values, not hex)."""
    alpha, gamma, beta, payload = split_packet(packet)
    keys = node_hop_keys(secret_key, alpha)
    verify_header_mac(keys, gamma, beta)
    routing = decrypt_routing_info(keys, beta)

    flag = routing[0]
    if flag not in (FORWARD_HOP, FINAL_HOP):
        raise SphinxError(f"unknown routing flag {flag}")
    version = decode_version(routing[1:4])

    # §1.7 step 4: one Lioness decryption with this hop's payload key.
    payload = lioness_decrypt(payload_key(keys, version), payload)

    if flag == FORWARD_HOP:
        next_address = routing[4:36]
        delay_ns = int.from_bytes(routing[36:44], "big")
        next_gamma = routing[44:60]
        next_beta = routing[60:360]
        next_packet = blind_alpha(keys, alpha) + next_gamma + next_beta + payload
        return {"kind": "forward", "next_address": next_address, "delay_ns": delay_ns,
                "replay_tag": keys.replay_tag, "packet": next_packet}

    destination = routing[4:36]
    identifier = routing[36:52]
    return {"kind": "final", "destination": destination, "identifier": identifier,
            "replay_tag": keys.replay_tag, "message": recover_message(payload)}


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def base58_encode(data):
    """Bitcoin-alphabet base58 (for keygen's extra fields, as `nym-node debug keygen` prints)."""
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = BASE58_ALPHABET[r] + out
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + out


def parse_hex(what, text, length=None):
    # bytes.fromhex() would also accept spaces; the C tool does not, so neither do we.
    if len(text) % 2 or any(c not in string.hexdigits for c in text):
        raise SphinxError(f"{what}: not valid hex")
    raw = bytes.fromhex(text)
    if length is not None and len(raw) != length:
        raise SphinxError(f"{what}: expected {length} bytes ({2 * length} hex digits), "
                          f"got {len(raw)}")
    return raw


def load_route(path):
    """JSON array of {"address": hex32, "public_key": hex32, "delay_ns": N}.
    delay_ns may be omitted (0): the last hop's delay is ignored anyway (§1.6.4)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise SphinxError(f"{path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise SphinxError(f"{path}:{e.lineno}:{e.colno}: {e.msg}") from None
    if not isinstance(data, list):
        raise SphinxError(f"{path}: expected a JSON array of hops")
    route = []
    for i, hop in enumerate(data):
        where = f"{path}: hop {i}"
        if not isinstance(hop, dict):
            raise SphinxError(f"{where}: expected an object")
        for field in ("address", "public_key"):
            if not isinstance(hop.get(field), str):
                raise SphinxError(f"{where}: missing string field \"{field}\"")
        delay = hop.get("delay_ns", 0)
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay < 2 ** 64:
            raise SphinxError(f"{where}: delay_ns must be an integer in 0..2^64-1")
        route.append((parse_hex(f"{where}: address", hop["address"], NODE_ADDRESS_LENGTH),
                      parse_hex(f"{where}: public_key", hop["public_key"], 32), delay))
    if not 1 <= len(route) <= MAX_PATH_LENGTH:
        raise SphinxError(f"{path}: route must have 1..{MAX_PATH_LENGTH} hops, got {len(route)}")
    return route


def print_json(obj):
    """Compact JSON, keys in insertion order, bytes as lowercase hex."""
    out = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in obj.items()}
    print(json.dumps(out, separators=(",", ":")))


def cmd_create(args):
    route = load_route(args.route)
    destination = parse_hex("--destination", args.destination, DESTINATION_ADDRESS_LENGTH)
    identifier = parse_hex("--identifier", args.identifier, IDENTIFIER_LENGTH)
    message = parse_hex("--message", args.message)
    seed = parse_hex("--seed", args.seed, 32) if args.seed is not None else None
    if args.version not in SUPPORTED_VERSIONS:
        raise SphinxError(f"--version: expected 258 or 259, got {args.version}")
    x, padding = sender_randomness(len(route), seed)
    packet = create_packet(args.version, route, destination, identifier, message,
                           args.payload_size, x, padding)
    print_json({"packet": packet})


def cmd_process(args):
    secret_key = parse_hex("--secret-key", args.secret_key, 32)
    packet = parse_hex("--packet", args.packet)
    print_json(process_packet(secret_key, packet))


def cmd_keygen(_args):
    sk = os.urandom(32)
    pk = x25519(sk, X25519_BASEPOINT)
    # The secret is printed on purpose: this command exists to hand keys to test tools.
    print_json({"secret_key": sk, "public_key": pk,
                "secret_key_base58": base58_encode(sk), "public_key_base58": base58_encode(pk)})


# ---------------------------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------------------------

def vectors_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")


def load_vector(name):
    with open(os.path.join(vectors_dir(), name), encoding="utf-8") as f:
        return json.load(f)


class SelfTest:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def check(self, name, ok, detail=""):
        self.checks += 1
        if not ok:
            self.failures += 1
            print(f"FAIL {name}{': ' + detail if detail else ''}")

    def equal(self, name, got, want):
        if isinstance(got, bytes):
            got = got.hex()
        if isinstance(want, bytes):
            want = want.hex()
        self.check(name, got == want, f"got {got!r}, want {want!r}")

    def expect_error(self, name, fn, *args):
        try:
            fn(*args)
        except SphinxError:
            self.checks += 1
            return
        self.check(name, False, "no error raised")


def selftest_kdf(t):
    """sphinx_kdf.json (§1.11): RNG, X25519, 288-byte HKDF and all its fields, v259 key."""
    v = load_vector("sphinx_kdf.json")
    seed = bytes.fromhex(v["rng"]["seed_hex"])
    stream = chacha20_keystream(seed, 64)
    sk1, sk2 = stream[:32], stream[32:]
    t.equal("kdf sk1", sk1, v["sk1_hex"])
    t.equal("kdf sk2", sk2, v["sk2_hex"])
    pk1 = x25519(sk1, X25519_BASEPOINT)
    t.equal("kdf pk1", pk1, v["pk1_hex"])
    shared = x25519(sk2, pk1)
    t.equal("kdf shared secret", shared, v["shared_secret_hex"])
    t.equal("kdf info", HKDF_INFO, bytes.fromhex(v["hkdf"]["info_hex"]))
    keys = expand_shared_secret(shared)
    t.equal("kdf expanded", keys.expanded, v["expanded_shared_secret_hex"])
    fields = {
        "stream_cipher_key": keys.stream_cipher_key,
        "header_integrity_hmac_key": keys.mac_key,
        "legacy_payload_key": keys.legacy_payload_key,
        "payload_key_seed": keys.payload_key_seed,
        "blinding_factor": keys.blinding_factor,
        "replay_tag": keys.replay_tag,
    }
    for name, got in fields.items():
        f = v["fields"][name]
        t.equal(f"kdf field {name}", got, f["hex"])
        t.equal(f"kdf field {name} slice", keys.expanded[f["offset"]:f["offset"] + f["length"]],
                f["hex"])
    t.equal("kdf v259 salt", PAYLOAD_KEY_HKDF_SALT, bytes.fromhex(v["v259_payload_key"]["salt_hex"]))
    t.equal("kdf v259 info", PAYLOAD_KEY_HKDF_INFO, bytes.fromhex(v["v259_payload_key"]["info_hex"]))
    t.equal("kdf v259 payload key", payload_key(keys, VERSION_PAYLOAD_KEY_SEEDS),
            v["v259_payload_key"]["hex"])
    t.equal("kdf v258 payload key", payload_key(keys, VERSION_X25519_EXPLICIT_PAYLOAD_KEYS),
            v["fields"]["legacy_payload_key"]["hex"])
    return sk1, sk2, keys


def selftest_lioness(t):
    """lioness.json (§1.8, §1.11)."""
    v = load_vector("lioness.json")
    key = bytes.fromhex(v["key_hex"])
    plain = bytes.fromhex(v["plaintext_hex"])
    cipher = bytes.fromhex(v["ciphertext_hex"])
    t.equal("lioness encrypt", lioness_encrypt(key, plain), cipher)
    t.equal("lioness decrypt", lioness_decrypt(key, cipher), plain)
    t.expect_error("lioness 32-byte block", lioness_encrypt, key, bytes(32))


class TestRng:
    """Deterministic bytes for the self-test (ChaCha20 keystream of a fixed key)."""

    def __init__(self, seed_byte):
        self.stream = chacha20_keystream(bytes([seed_byte]) * 32, 1 << 20)
        self.offset = 0

    def take(self, n):
        out = self.stream[self.offset:self.offset + n]
        assert len(out) == n
        self.offset += n
        return out


def make_nodes(rng, n):
    """n nodes: (secret key, route entry (address, public key, delay))."""
    nodes = []
    for i in range(n):
        sk = rng.take(32)
        delay = int.from_bytes(rng.take(4), "big") * 1000
        nodes.append((sk, (rng.take(32), x25519(sk, X25519_BASEPOINT), delay)))
    return nodes


def test_message(rng, n, payload_size):
    """Vary the length with the hop count: empty, all-0x01 (tests 'last 0x01'), max, half."""
    max_len = payload_size - PAYLOAD_OVERHEAD_SIZE
    if n == 1:
        return b""
    if n == 2:
        return b"\x01" * min(7, max_len)
    if n == 3:
        return rng.take(max_len)
    if n == 4:
        return rng.take(max_len // 2) + b"\x01\x00"
    return rng.take(max_len - 1) + b"\x01"


def run_route(t, name, nodes, packet, destination, identifier, message):
    """Processes a packet through every node, checking each hop's output."""
    n = len(nodes)
    tags = set()
    for i, (sk, (_, _, delay)) in enumerate(nodes):
        try:
            out = process_packet(sk, packet)
        except SphinxError as e:
            t.check(f"{name} hop {i}", False, str(e))
            return
        t.check(f"{name} hop {i} replay tag unique", out["replay_tag"] not in tags)
        tags.add(out["replay_tag"])
        if i < n - 1:
            t.equal(f"{name} hop {i} kind", out["kind"], "forward")
            if out["kind"] != "forward":
                return
            t.equal(f"{name} hop {i} next address", out["next_address"], nodes[i + 1][1][0])
            t.equal(f"{name} hop {i} delay", out["delay_ns"], delay)
            t.equal(f"{name} hop {i} packet length", len(out["packet"]), len(packet))
            packet = out["packet"]
        else:
            t.equal(f"{name} final kind", out["kind"], "final")
            if out["kind"] != "final":
                return
            t.equal(f"{name} destination", out["destination"], destination)
            t.equal(f"{name} identifier", out["identifier"], identifier)
            t.equal(f"{name} message", out["message"], message)


def selftest_round_trips(t):
    """create -> process for 1..5 hops, both versions, every Nym payload size (§2.1)."""
    rng = TestRng(0x42)
    for version in SUPPORTED_VERSIONS:
        for n in range(1, MAX_PATH_LENGTH + 1):
            nodes = make_nodes(rng, n)
            route = [r for _, r in nodes]
            for size in NYM_PAYLOAD_SIZES:
                name = f"v{version} {n} hops payload {size}"
                destination, identifier = rng.take(32), rng.take(16)
                message = test_message(rng, n, size)
                x, padding = rng.take(32), rng.take(final_padding_length(n))
                packet = create_packet(version, route, destination, identifier, message, size,
                                       x, padding)
                t.equal(f"{name} length", len(packet), HEADER_SIZE + size)
                run_route(t, name, nodes, packet, destination, identifier, message)


def selftest_x25519_cost(t):
    """§1.5: the sender does 1 + n(n+1)/2 X25519 operations (11 for n = 4)."""
    global x25519
    real = x25519
    calls = [0]

    def counting(scalar, u):
        calls[0] += 1
        return real(scalar, u)

    x25519 = counting
    try:
        rng = TestRng(0x07)
        route = [r for _, r in make_nodes(rng, 4)]
        calls[0] = 0
        build_header(259, rng.take(32), route, bytes(32), bytes(16), bytes(final_padding_length(4)))
        t.equal("x25519 operations for 4 hops", calls[0], 11)
    finally:
        x25519 = real


def selftest_against_kdf_vector(t, sk1, sk2, vector_keys):
    """--seed 01*32 gives x = sk1 (same ChaCha20 keystream as the KDF vector), so a route whose
    first node has secret sk2 must use exactly the vector's hop keys."""
    seed = b"\x01" * 32
    x, padding = sender_randomness(1, seed)
    t.equal("seeded x is the vector's sk1", x, sk1)
    t.equal("seeded padding follows x", padding, chacha20_keystream(seed, 32 + len(padding))[32:])
    route = [(b"\xaa" * 32, x25519(sk2, X25519_BASEPOINT), 0)]
    packet = create_packet(258, route, b"\xbb" * 32, b"\xcc" * 16, b"hi", 2065, x, padding)
    alpha, gamma, beta, _ = split_packet(packet)
    t.equal("seeded alpha0 is the vector's pk1", alpha, x25519(sk1, X25519_BASEPOINT))
    # Spelled out rather than via header_mac(): §8 pitfalls 1-2 (first 16 bytes, beta only).
    t.equal("hop 0 MAC uses the vector's MAC key", gamma,
            hmac.new(vector_keys.mac_key, beta, hashlib.sha256).digest()[:16])
    plain = xor(beta, header_keystream(vector_keys.stream_cipher_key)[:BETA_SIZE])
    t.equal("hop 0 block decrypts with the vector's stream key",
            plain[:FINAL_NODE_META_INFO_LENGTH],
            bytes([2, 0, 1, 2]) + b"\xbb" * 32 + b"\xcc" * 16)
    t.equal("1-hop final padding is the seeded keystream", plain[FINAL_NODE_META_INFO_LENGTH:],
            padding)


def selftest_rejections(t):
    """§1.7: every malformed packet must fail."""
    rng = TestRng(0x99)
    nodes = make_nodes(rng, 3)
    route = [r for _, r in nodes]
    sk0 = nodes[0][0]
    dest, ident = rng.take(32), rng.take(16)
    pad = rng.take(final_padding_length(3))
    x = rng.take(32)
    packet = create_packet(259, route, dest, ident, b"hello", 2065, x, pad)

    def flipped(data, index):
        return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]

    t.expect_error("flipped alpha", process_packet, sk0, flipped(packet, 5))
    t.expect_error("flipped gamma", process_packet, sk0, flipped(packet, 40))
    t.expect_error("flipped beta", process_packet, sk0, flipped(packet, 200))
    t.expect_error("wrong key", process_packet, nodes[1][0], packet)
    t.expect_error("short packet", process_packet, sk0, packet[:HEADER_SIZE + LIONESS_L])
    t.expect_error("header only", process_packet, sk0, packet[:HEADER_SIZE])

    # A corrupted payload passes every header check but fails the padding check at the end.
    bad = flipped(packet, HEADER_SIZE + 100)
    for i, (sk, _) in enumerate(nodes):
        if i < len(nodes) - 1:
            bad = process_packet(sk, bad)["packet"]
        else:
            t.expect_error("corrupted payload", process_packet, sk, bad)

    # Valid MACs around invalid contents: unknown and legacy versions, unknown flag.
    one_hop = [nodes[0]]
    one_route = [route[0]]
    pad1 = bytes(final_padding_length(1))
    for version in (1, 256, 257, 260):
        header, _ = build_header(version, x, one_route, dest, ident, pad1)
        payload = encrypt_payload(encode_payload(b"m", 64), [bytes(192)])
        t.expect_error(f"version {version}", process_packet, one_hop[0][0], header + payload)
    for flag in (0, 3, 255):
        header, keys = build_header(259, x, one_route, dest, ident, pad1, final_flag=flag)
        payload = encrypt_payload(encode_payload(b"m", 64), [payload_key(keys[0], 259)])
        t.expect_error(f"flag {flag}", process_packet, one_hop[0][0], header + payload)

    # Payload recovery rules (§1.8): leading zeros, last 0x01.
    t.equal("recover last 0x01", recover_message(bytes(16) + b"a\x01b\x01\x00\x00"), b"a\x01b")
    t.equal("recover empty", recover_message(bytes(16) + b"\x01"), b"")
    t.expect_error("recover no marker", recover_message, bytes(40))
    t.expect_error("recover leading", recover_message, b"\x01" + bytes(15) + b"m\x01")
    t.expect_error("recover short", recover_message, bytes(16))
    t.expect_error("message too long", encode_payload, bytes(2049), 2065)
    t.equal("message max length", len(encode_payload(bytes(2048), 2065)), 2065)
    t.expect_error("payload size 32", encode_payload, b"", 32)
    t.expect_error("6 hops", create_packet, 259, route * 2, dest, ident, b"", 2065, x, b"")


def selftest_cli(t):
    """The command-line interface end to end, including seeded reproducibility."""
    script = os.path.abspath(__file__)

    def run(*argv):
        return subprocess.run([sys.executable, script, *argv], capture_output=True, text=True,
                              check=False)

    nodes = []
    for _ in range(3):
        r = run("keygen")
        t.equal("cli keygen status", r.returncode, 0)
        kp = json.loads(r.stdout)
        t.equal("cli keygen public key", kp["public_key"],
                x25519(bytes.fromhex(kp["secret_key"]), X25519_BASEPOINT).hex())
        nodes.append(kp)
    hops = [{"address": f"{i + 1:02x}" * 32, "public_key": kp["public_key"], "delay_ns": 1000 * i}
            for i, kp in enumerate(nodes)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(hops, f)
        route_file = f.name
    try:
        common = ["create", "--route", route_file, "--destination", "dd" * 32,
                  "--identifier", "ee" * 16, "--message", "68656c6c6f", "--seed", "5a" * 32]
        a, b = run(*common), run(*common)
        t.equal("cli create status", a.returncode, 0)
        t.equal("cli seeded create is reproducible", a.stdout, b.stdout)
        c = run(*common[:-2])
        t.check("cli unseeded create differs", c.returncode == 0 and c.stdout != a.stdout)
        v258 = run(*common, "--version", "258", "--payload-size", "38")
        t.equal("cli v258 ack length", len(json.loads(v258.stdout)["packet"]), 2 * (348 + 38))
        t.equal("cli bad version", run(*common, "--version", "257").returncode, 1)
        t.equal("cli bad usage", run("create").returncode, 1)

        packet = json.loads(a.stdout)["packet"]
        t.equal("cli default length", len(packet), 2 * (HEADER_SIZE + PAYLOAD_SIZE_REGULAR))
        for i, kp in enumerate(nodes):
            r = run("process", "--secret-key", kp["secret_key"], "--packet", packet)
            t.equal(f"cli process hop {i} status", r.returncode, 0)
            out = json.loads(r.stdout)
            if i < 2:
                t.equal(f"cli hop {i} keys", list(out),
                        ["kind", "next_address", "delay_ns", "replay_tag", "packet"])
                t.equal(f"cli hop {i} next", out["next_address"], hops[i + 1]["address"])
                t.equal(f"cli hop {i} delay", out["delay_ns"], 1000 * i)
                packet = out["packet"]
            else:
                t.equal("cli final keys", list(out),
                        ["kind", "destination", "identifier", "replay_tag", "message"])
                t.equal("cli final message", out["message"], "68656c6c6f")
                t.equal("cli final destination", out["destination"], "dd" * 32)
        r = run("process", "--secret-key", nodes[0]["secret_key"], "--packet", packet)
        t.check("cli bad MAC fails with one stderr line",
                r.returncode == 1 and r.stdout == "" and r.stderr.count("\n") == 1,
                f"status {r.returncode}, stderr {r.stderr!r}")
    finally:
        os.unlink(route_file)


def cmd_selftest(_args):
    t = SelfTest()

    def section(fn, *args):
        """A section that raises counts as one failure; the others still run."""
        try:
            return fn(t, *args)
        except Exception as e:  # pylint: disable=broad-except
            t.check(fn.__name__, False, f"{type(e).__name__}: {e}")
            return None

    kdf = section(selftest_kdf)
    section(selftest_lioness)
    if kdf:
        section(selftest_against_kdf_vector, *kdf)
    section(selftest_x25519_cost)
    section(selftest_round_trips)
    section(selftest_rejections)
    section(selftest_cli)
    print(f"sphinx_ref selftest: {t.checks - t.failures}/{t.checks} checks passed")
    return 1 if t.failures else 0


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors exit with status 1, like nym-node's user errors."""

    def error(self, message):
        self.exit(1, f"{self.prog}: {message} (see --help)\n")


def main(argv):
    parser = ArgumentParser(prog="sphinx_ref.py",
                            description="Reference Nym Sphinx (v258/v259) for tests.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    p = sub.add_parser("create", help="build a packet")
    p.add_argument("--route", required=True, help="JSON array of hops")
    p.add_argument("--destination", required=True, help="hex, 32 bytes")
    p.add_argument("--identifier", required=True, help="hex, 16 bytes")
    p.add_argument("--message", required=True, help="hex")
    p.add_argument("--version", type=int, default=VERSION_PAYLOAD_KEY_SEEDS)
    p.add_argument("--payload-size", type=int, default=PAYLOAD_SIZE_REGULAR)
    p.add_argument("--seed", help="hex, 32 bytes: derive x and padding deterministically")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("process", help="process a packet as one node")
    p.add_argument("--secret-key", required=True, help="hex, 32 bytes")
    p.add_argument("--packet", required=True, help="hex")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("keygen", help="new X25519 key pair")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("selftest", help="check vectors and round trips")
    p.set_defaults(func=cmd_selftest)

    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SphinxError as e:
        print(f"sphinx_ref.py {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
