#include "ipr/ipr_packet.h"

#include <errno.h>
#include <string.h>

#include "ipr/ipr_addr.h"

#define IPV4_MIN_HEADER 20
#define IPV6_HEADER 40
#define ICMP_HEADER 8
#define TCP_MIN_HEADER 20
#define UDP_HEADER 8
/* RFC 1812 4.3.2.3: an ICMPv4 error holds as much of the packet as fits in 576 bytes. */
#define ICMP4_ERROR_MAX 576
#define ICMP6_ERROR_MAX 1280
#define HOP_LIMIT 64
/* Extension headers followed before giving up on finding the transport header. */
#define IPV6_MAX_EXTENSIONS 8

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t ipr_packet_checksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i = 0;
	for (; i + 1 < len; i += 2) {
		sum += rd16(p + i);
		if (sum & 0x80000000u)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

uint16_t ipr_packet_checksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum of RFC 768 / RFC 8200 8.1. */
static uint32_t pseudo_sum(uint8_t family, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = ipr_packet_checksum_add(0, src, alen);
	sum = ipr_packet_checksum_add(sum, dst, alen);
	uint8_t tail[8] = { 0 };
	wr32(tail, (uint32_t)len);
	tail[7] = proto;
	return ipr_packet_checksum_add(sum, tail, sizeof(tail));
}

static int parse_l4(const uint8_t *pkt, size_t end, struct ipr_packet_info *o)
{
	size_t off = o->l4_off, left = end - off;
	const uint8_t *l4 = pkt + off;
	switch (o->proto) {
	case IPR_PACKET_PROTO_TCP: {
		if (left < TCP_MIN_HEADER)
			return -EBADMSG;
		size_t hl = (size_t)(l4[12] >> 4) * 4;
		if (hl < TCP_MIN_HEADER || hl > left)
			return -EBADMSG;
		o->has_ports = true;
		o->sport = rd16(l4);
		o->dport = rd16(l4 + 2);
		o->tcp_seq = rd32(l4 + 4);
		o->tcp_ack = rd32(l4 + 8);
		o->tcp_flags = l4[13];
		o->tcp_payload = left - hl;
		return 0;
	}
	case IPR_PACKET_PROTO_UDP:
		if (left < UDP_HEADER)
			return -EBADMSG;
		o->has_ports = true;
		o->sport = rd16(l4);
		o->dport = rd16(l4 + 2);
		return 0;
	case IPR_PACKET_PROTO_ICMP:
	case IPR_PACKET_PROTO_ICMPV6:
		if ((o->proto == IPR_PACKET_PROTO_ICMP) != (o->family == 4))
			return 0; /* ICMP in IPv6 or ICMPv6 in IPv4: just another protocol */
		if (left < 4)
			return -EBADMSG;
		o->icmp = true;
		o->icmp_type = l4[0];
		o->icmp_code = l4[1];
		if (o->family == 4) {
			o->icmp_echo_request = l4[0] == 8;
			/* 3 unreachable, 4 source quench, 5 redirect, 11 time exceeded, 12 parameter problem */
			o->icmp_error = l4[0] == 3 || l4[0] == 4 || l4[0] == 5 || l4[0] == 11 || l4[0] == 12;
		} else {
			o->icmp_echo_request = l4[0] == 128;
			o->icmp_error = l4[0] < 128;
		}
		if (o->icmp_echo_request && left < ICMP_HEADER)
			return -EBADMSG;
		return 0;
	default:
		return 0;
	}
}

static int parse_v4(const uint8_t *pkt, size_t len, struct ipr_packet_info *o)
{
	if (len < IPV4_MIN_HEADER)
		return -EBADMSG;
	size_t ihl = (size_t)(pkt[0] & 15) * 4, total = rd16(pkt + 2);
	if (ihl < IPV4_MIN_HEADER || total < ihl || total > len)
		return -EBADMSG;
	o->family = 4;
	o->len = total;
	o->proto = pkt[9];
	memcpy(o->src, pkt + 12, 4);
	memcpy(o->dst, pkt + 16, 4);
	uint16_t frag = rd16(pkt + 6) & 0x1fff;
	if (frag) {
		o->later_fragment = true;
		return 0;
	}
	o->l4_off = ihl;
	return parse_l4(pkt, total, o);
}

static int parse_v6(const uint8_t *pkt, size_t len, struct ipr_packet_info *o)
{
	if (len < IPV6_HEADER)
		return -EBADMSG;
	size_t total = IPV6_HEADER + (size_t)rd16(pkt + 4);
	if (total > len)
		return -EBADMSG;
	o->family = 6;
	o->len = total;
	memcpy(o->src, pkt + 8, 16);
	memcpy(o->dst, pkt + 24, 16);
	uint8_t next = pkt[6];
	size_t off = IPV6_HEADER;
	for (int i = 0;; i++) {
		if (next != 0 && next != 43 && next != 44 && next != 60) {
			o->proto = next;
			o->l4_off = off;
			return parse_l4(pkt, total, o);
		}
		if (i == IPV6_MAX_EXTENSIONS || total - off < 8)
			return -EBADMSG;
		size_t ext_len = next == 44 ? 8 : ((size_t)pkt[off + 1] + 1) * 8;
		if (ext_len > total - off)
			return -EBADMSG;
		if (next == 44 && (rd16(pkt + off + 2) & 0xfff8)) {
			o->proto = pkt[off];
			o->later_fragment = true;
			return 0;
		}
		next = pkt[off];
		off += ext_len;
	}
}

int ipr_packet_parse(const uint8_t *pkt, size_t len, struct ipr_packet_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return -EBADMSG;
	switch (pkt[0] >> 4) {
	case 4:
		return parse_v4(pkt, len, out);
	case 6:
		return parse_v6(pkt, len, out);
	default:
		return -EBADMSG;
	}
}

/* An IP header from `src` to `dst` carrying l4_len bytes of `proto`; returns its length. */
static size_t put_ip_header(uint8_t *out, uint8_t family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			    size_t l4_len)
{
	if (family == 4) {
		memset(out, 0, IPV4_MIN_HEADER);
		out[0] = 0x45;
		wr16(out + 2, (uint16_t)(IPV4_MIN_HEADER + l4_len));
		wr16(out + 6, 0x4000); /* DF */
		out[8] = HOP_LIMIT;
		out[9] = proto;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		wr16(out + 10, ipr_packet_checksum_fold(ipr_packet_checksum_add(0, out, IPV4_MIN_HEADER)));
		return IPV4_MIN_HEADER;
	}
	memset(out, 0, IPV6_HEADER);
	out[0] = 0x60;
	wr16(out + 4, (uint16_t)l4_len);
	out[6] = proto;
	out[7] = HOP_LIMIT;
	memcpy(out + 8, src, 16);
	memcpy(out + 24, dst, 16);
	return IPV6_HEADER;
}

int ipr_packet_tcp_reset(const struct ipr_packet_info *in, uint8_t *out, size_t cap, size_t *written)
{
	if (in->proto != IPR_PACKET_PROTO_TCP || !in->has_ports || (in->tcp_flags & IPR_PACKET_TCP_RST))
		return -EINVAL;
	size_t iph = in->family == 4 ? IPV4_MIN_HEADER : IPV6_HEADER, total = iph + TCP_MIN_HEADER;
	if (cap < total)
		return -ENOSPC;
	uint8_t *tcp = out + iph;
	memset(tcp, 0, TCP_MIN_HEADER);
	wr16(tcp, in->dport);
	wr16(tcp + 2, in->sport);
	if (in->tcp_flags & IPR_PACKET_TCP_ACK) {
		wr32(tcp + 4, in->tcp_ack);
		tcp[13] = IPR_PACKET_TCP_RST;
	} else {
		uint32_t seg_len = (uint32_t)in->tcp_payload + !!(in->tcp_flags & IPR_PACKET_TCP_SYN) +
				   !!(in->tcp_flags & IPR_PACKET_TCP_FIN);
		wr32(tcp + 8, in->tcp_seq + seg_len);
		tcp[13] = IPR_PACKET_TCP_RST | IPR_PACKET_TCP_ACK;
	}
	tcp[12] = (TCP_MIN_HEADER / 4) << 4;
	put_ip_header(out, in->family, in->dst, in->src, IPR_PACKET_PROTO_TCP, TCP_MIN_HEADER);
	uint32_t sum = pseudo_sum(in->family, in->dst, in->src, IPR_PACKET_PROTO_TCP, TCP_MIN_HEADER);
	wr16(tcp + 16, ipr_packet_checksum_fold(ipr_packet_checksum_add(sum, tcp, TCP_MIN_HEADER)));
	*written = total;
	return 0;
}

int ipr_packet_icmp_prohibited(const uint8_t *pkt, const struct ipr_packet_info *in, uint8_t *out, size_t cap,
			       size_t *written)
{
	if (in->icmp_error)
		return -EINVAL;
	struct ipr_addr_pair router;
	ipr_addr_tun(&router);
	bool v4 = in->family == 4;
	size_t iph = v4 ? IPV4_MIN_HEADER : IPV6_HEADER, max = v4 ? ICMP4_ERROR_MAX : ICMP6_ERROR_MAX;
	size_t quote = in->len;
	if (quote > max - iph - ICMP_HEADER)
		quote = max - iph - ICMP_HEADER;
	size_t icmp_len = ICMP_HEADER + quote, total = iph + icmp_len;
	if (cap < total)
		return -ENOSPC;
	uint8_t *icmp = out + iph;
	memset(icmp, 0, ICMP_HEADER);
	memcpy(icmp + ICMP_HEADER, pkt, quote);
	const uint8_t *from = v4 ? router.v4 : router.v6;
	put_ip_header(out, in->family, from, in->src, v4 ? IPR_PACKET_PROTO_ICMP : IPR_PACKET_PROTO_ICMPV6, icmp_len);
	uint32_t sum = 0;
	if (v4) {
		icmp[0] = 3;
		icmp[1] = 13;
	} else {
		icmp[0] = 1;
		icmp[1] = 1;
		sum = pseudo_sum(6, from, in->src, IPR_PACKET_PROTO_ICMPV6, icmp_len);
	}
	wr16(icmp + 2, ipr_packet_checksum_fold(ipr_packet_checksum_add(sum, icmp, icmp_len)));
	*written = total;
	return 0;
}

int ipr_packet_l4_checksum(const uint8_t *pkt, const struct ipr_packet_info *in)
{
	if (!in->l4_off || in->later_fragment)
		return -1;
	size_t l4_len = in->len - in->l4_off;
	const uint8_t *l4 = pkt + in->l4_off;
	uint32_t sum;
	switch (in->proto) {
	case IPR_PACKET_PROTO_TCP:
	case IPR_PACKET_PROTO_UDP:
		sum = pseudo_sum(in->family, in->src, in->dst, in->proto, l4_len);
		break;
	case IPR_PACKET_PROTO_ICMP:
		if (in->family != 4)
			return -1;
		sum = 0;
		break;
	case IPR_PACKET_PROTO_ICMPV6:
		if (in->family != 6)
			return -1;
		sum = pseudo_sum(6, in->src, in->dst, in->proto, l4_len);
		break;
	default:
		return -1;
	}
	return ipr_packet_checksum_fold(ipr_packet_checksum_add(sum, l4, l4_len));
}
