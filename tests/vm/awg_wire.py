"""Independent check of a capture of an AmneziaWG 1.0 hop (spec wireguard.md section 1.1), for
tests/vm/awg_kernel.sh: reads the pcap itself (Ethernet, IPv4, UDP) and knows nothing of lib/awg.

    awg_wire.py CAPTURE.pcap CLIENT_PORT SERVER_PORT "jc=..,jmin=..,...,h4=.."

Client -> server datagrams must be: junk (Jc of them, sizes in [Jmin, Jmax), right before
every initiation), initiations (148 + S1 bytes, H1 at offset S1), cookies (64, H3) or
transport (>= 32, H4 first); server -> client: responses (92 + S2, H2 at S2), cookies or
transport. No datagram may look like plain WireGuard (type 1..4 at offset 0 with its size).
Prints a summary; exits 1 with the first violations."""
import struct
import sys


def datagrams(path, cport, sport):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:          # Ethernet
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype == 113:      # Linux cooked
            if len(pkt) < 16 or pkt[14:16] != b"\x08\x00":
                continue
            ip = pkt[16:]
        else:
            raise SystemExit(f"unknown link type {linktype}")
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        udp = ip[ihl:total]
        if len(udp) < 8:
            continue
        src, dst, ulen = struct.unpack("!HHH", udp[:6])
        payload = udp[8:ulen]
        if (src, dst) == (cport, sport):
            yield "c2s", payload
        elif (src, dst) == (sport, cport):
            yield "s2c", payload


def le32(b, off):
    return struct.unpack("<I", b[off:off + 4])[0] if len(b) >= off + 4 else None


def plain_type(b):
    sizes = {1: 148, 2: 92, 3: 64}
    t = le32(b, 0)
    if t in sizes and len(b) == sizes[t]:
        return t
    if t == 4 and len(b) >= 32:
        return 4
    return 0


def main():
    path, cport, sport, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    p = {k: int(v) for k, v in (kv.split("=") for kv in text.split(","))}
    h = [p[f"h{i}"] if p[f"h{i}"] > 4 else i for i in range(1, 5)]
    jmax = p["jmax"] if p["jmax"] > p["jmin"] else p["jmin"] + 1
    s1, s2 = p["s1"], p["s2"]
    errors = []
    counts = {"junk": 0, "init": 0, "response": 0, "cookie": 0, "transport": 0}
    pending = []  # client -> server datagrams seen since the last initiation that are not messages
    for i, (way, b) in enumerate(datagrams(path, cport, sport)):
        if plain_type(b):
            errors.append(f"#{i} {way}: {len(b)} B looks like plain WireGuard type {plain_type(b)}")
        if way == "c2s":
            if len(b) == 148 + s1 and le32(b, s1) == h[0]:
                counts["init"] += 1
                if len(pending) != p["jc"]:
                    errors.append(f"#{i}: initiation after {len(pending)} junk datagrams, want {p['jc']}")
                for n in pending:
                    if not p["jmin"] <= n < jmax:
                        errors.append(f"#{i}: junk of {n} B outside [{p['jmin']}, {jmax})")
                pending = []
                continue
            if len(b) == 64 and le32(b, 0) == h[2]:
                counts["cookie"] += 1
            elif len(b) >= 32 and le32(b, 0) == h[3]:
                counts["transport"] += 1
            else:
                counts["junk"] += 1
                pending.append(len(b))
                continue
            if pending:
                errors.append(f"#{i}: {len(pending)} unclassified datagrams not followed by an initiation")
                pending = []
        else:
            if len(b) == 92 + s2 and le32(b, s2) == h[1]:
                counts["response"] += 1
            elif len(b) == 64 and le32(b, 0) == h[2]:
                counts["cookie"] += 1
            elif len(b) >= 32 and le32(b, 0) == h[3]:
                counts["transport"] += 1
            else:
                errors.append(f"#{i} s2c: {len(b)} B classifies as no AWG message")
    if pending:
        errors.append(f"{len(pending)} unclassified client datagrams at the end")
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    if counts["init"] < 1 or counts["response"] < 1 or counts["transport"] < 1:
        errors.append("the capture lacks an initiation, a response or transport data")
    if errors:
        print("\n".join(errors[:10]))
        sys.exit(1)


main()
