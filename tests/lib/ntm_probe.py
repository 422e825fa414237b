#!/usr/bin/python3
"""Harness side of the nym-ntm namespace tests: TCP/UDP/DNS servers for the "internet"
host and probes for the clients that say how a connection attempt ended (answer, TCP
reset, ICMP unreachable or silence). The product never runs this."""
import argparse
import os
import select
import socket
import struct
import sys
import time

ANSWER_A = "203.0.113.10"


def peer_text(addr):
    host = addr[0]
    return host[7:] if host.startswith("::ffff:") else host


def dns_answer(query):
    """A minimal DNS responder: every A question gets ANSWER_A."""
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qd != 1:
        return None
    end = 12
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    end += 5  # the root label, type and class
    if end > len(query):
        return None
    question = query[12:end]
    header = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(ANSWER_A)
    return header + question + answer


def serve(args):
    socks = {}
    for port in [int(p) for p in args.tcp.split(",") if p]:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        s.listen(256)
        socks[s.fileno()] = ("tcp", port, s)
    # One UDP socket per address: a reply must leave from the address the request went to,
    # or conntrack on the gateway cannot match it.
    for addr in [a for a in args.addrs.split(",") if a]:
        for port in [int(p) for p in args.udp.split(",") if p]:
            s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
            s.bind((addr, port))
            socks[s.fileno()] = ("udp", port, s)
    with open(args.ready, "w") as f:
        f.write("ready\n")
    while True:
        ready, _, _ = select.select(list(socks), [], [])
        for fd in ready:
            kind, port, s = socks[fd]
            if kind == "tcp":
                conn, addr = s.accept()
                try:
                    if port == 53:
                        conn.settimeout(2)
                        hdr = conn.recv(2)
                        q = conn.recv(struct.unpack("!H", hdr)[0]) if len(hdr) == 2 else b""
                        a = dns_answer(q)
                        if a:
                            conn.sendall(struct.pack("!H", len(a)) + a)
                    else:
                        conn.sendall(("hello %s\n" % peer_text(addr)).encode())
                except OSError:
                    pass
                conn.close()
            else:
                data, addr = s.recvfrom(2048)
                reply = dns_answer(data) if port == 53 else None
                s.sendto(reply or ("hello %s\n" % peer_text(addr)).encode(), addr)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def icmp_listener(fam):
    proto = socket.IPPROTO_ICMPV6 if fam == socket.AF_INET6 else socket.IPPROTO_ICMP
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    s.setblocking(False)
    return s


def saw_unreachable(icmp, fam, wait=0.05):
    """True if an ICMP destination-unreachable arrived (type 3, or 1 for ICMPv6)."""
    deadline = time.time() + wait
    while True:
        left = deadline - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([icmp], [], [], left)
        if not r:
            return False
        pkt = icmp.recv(2048)
        if fam == socket.AF_INET:
            ihl = (pkt[0] & 0x0F) * 4
            if len(pkt) > ihl and pkt[ihl] == 3:
                return True
        elif pkt and pkt[0] == 1:
            return True


def tcp_once(host, port, src, timeout, icmp):
    fam = family_of(host)
    s = socket.socket(fam, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        data = s.recv(200).decode(errors="replace").strip()
        return "ok", data
    except ConnectionRefusedError:
        return ("icmp-unreachable" if icmp and saw_unreachable(icmp, fam) else "reset"), ""
    except socket.timeout:
        return "timeout", ""
    except OSError as e:
        return ("icmp-unreachable" if icmp and saw_unreachable(icmp, fam) else "error-%d" % e.errno), ""
    finally:
        s.close()


def tcp(args):
    icmp = icmp_listener(family_of(args.host))
    kind, data = tcp_once(args.host, args.port, args.src, args.timeout, icmp)
    print(kind + (" " + data if data else ""))
    return 0 if kind == "ok" else 1


def udp(args):
    fam = family_of(args.host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if args.src:
        s.bind((args.src, 0))
    s.settimeout(args.timeout)
    s.connect((args.host, args.port))
    try:
        s.send(b"probe")
        print("ok " + s.recv(200).decode(errors="replace").strip())
        return 0
    except ConnectionRefusedError:
        print("icmp-unreachable")
    except socket.timeout:
        print("timeout")
    return 1


def dns(args):
    fam = family_of(args.server)
    name = b"".join(bytes([len(p)]) + p.encode() for p in args.name.split(".")) + b"\0"
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
    if args.tcp:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        try:
            s.connect((args.server, 53))
            s.sendall(struct.pack("!H", len(query)) + query)
            n = struct.unpack("!H", s.recv(2))[0]
            reply = b""
            while len(reply) < n:
                reply += s.recv(n - len(reply))
        except (OSError, struct.error) as e:
            print("failed %s" % e)
            return 1
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(args.timeout)
        s.connect((args.server, 53))
        try:
            s.send(query)
            reply = s.recv(512)
        except OSError as e:
            print("failed %s" % e)
            return 1
    if len(reply) < 16 or reply[:2] != b"\x12\x34" or struct.unpack("!H", reply[6:8])[0] < 1:
        print("bad answer")
        return 1
    print(socket.inet_ntoa(reply[-4:]))
    return 0


def burst(args):
    """N new connections back to back; reports how many succeeded before the first failure."""
    icmp = icmp_listener(family_of(args.host))
    t0 = time.time()
    for i in range(1, args.count + 1):
        kind, _ = tcp_once(args.host, args.port, args.src, args.timeout, icmp)
        if kind != "ok":
            print("ok=%d first_failure=%d kind=%s elapsed=%.2f" % (i - 1, i, kind, time.time() - t0))
            return 1
    print("ok=%d first_failure=none elapsed=%.2f" % (args.count, time.time() - t0))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--tcp", default="")
    p.add_argument("--udp", default="")
    p.add_argument("--addrs", default="", help="addresses the UDP services answer on")
    p.add_argument("--ready", required=True)
    for name in ("tcp", "udp", "burst"):
        p = sub.add_parser(name)
        p.add_argument("host")
        p.add_argument("port", type=int)
        if name == "burst":
            p.add_argument("count", type=int)
        p.add_argument("--src")
        p.add_argument("--timeout", type=float, default=2.0)
    p = sub.add_parser("dns")
    p.add_argument("server")
    p.add_argument("name")
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--timeout", type=float, default=2.0)
    args = ap.parse_args()
    return {"serve": serve, "tcp": tcp, "udp": udp, "dns": dns, "burst": burst}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
