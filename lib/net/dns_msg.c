#include "net/dns_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static uint16_t dns_msg_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void dns_msg_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int dns_msg_query(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype, size_t *len)
{
	if (!out || !name || !len)
		return -EINVAL;
	uint8_t q[DNS_MSG_QUERY_MAX];
	memset(q, 0, DNS_MSG_HEADER_LEN);
	dns_msg_put_u16(q, id);
	q[2] = 0x01;		 /* RD */
	dns_msg_put_u16(q + 4, 1); /* one question */
	size_t n = DNS_MSG_HEADER_LEN, wire = 1;
	const char *p = name;
	if (p[0] == '.' && p[1] == 0)
		p++;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || (wire += 1 + l) > DNS_MSG_NAME_MAX)
			return -EINVAL;
		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	q[n++] = 0;
	dns_msg_put_u16(q + n, qtype);
	dns_msg_put_u16(q + n + 2, DNS_MSG_CLASS_IN);
	n += 4;
	if (n > cap)
		return -ENOSPC;
	memcpy(out, q, n);
	*len = n;
	return 0;
}

static bool dns_msg_plain(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int dns_msg_name(const uint8_t *m, size_t len, size_t *off, char *text, size_t cap)
{
	if (!m || !off || (text && cap < DNS_MSG_NAME_TEXT_MAX))
		return -EINVAL;
	size_t pos = *off, start = *off, end = 0, t = 0, wire = 1;
	bool jumped = false;
	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		uint8_t l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 2 > len)
				return -EBADMSG;
			size_t target = (size_t)(dns_msg_u16(m + pos) & 0x3fff);
			/* Strictly before the part being read: every jump goes lower, so it ends. */
			if (target < DNS_MSG_HEADER_LEN || target >= start)
				return -EBADMSG;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = start = target;
			continue;
		}
		if (l & 0xc0) /* 0x40 extended and 0x80 reserved label types */
			return -EBADMSG;
		if (l == 0) {
			pos++;
			break;
		}
		if (pos + 1 + l > len || (wire += 1 + (size_t)l) > DNS_MSG_NAME_MAX)
			return -EBADMSG;
		if (text) {
			if (t)
				text[t++] = '.';
			for (size_t i = 0; i < l; i++) {
				uint8_t c = m[pos + 1 + i];
				if (dns_msg_plain(c))
					text[t++] = (char)c;
				else
					t += (size_t)snprintf(text + t, cap - t, "\\%03u", c);
			}
		}
		pos += 1 + (size_t)l;
	}
	if (text)
		text[t] = 0;
	*off = jumped ? end : pos;
	return 0;
}

int dns_msg_answers(const uint8_t *m, size_t len, uint16_t id, struct dns_msg_answer *out, size_t cap,
		    struct dns_msg_answers *res)
{
	if (!m || !res || (cap && !out))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	if (len < DNS_MSG_HEADER_LEN || dns_msg_u16(m) != id || !(m[2] & 0x80))
		return -ENOMSG;
	res->truncated = m[2] & 0x02;
	res->rcode = m[3] & 0x0f;
	unsigned qd = dns_msg_u16(m + 4), an = dns_msg_u16(m + 6);
	size_t off = DNS_MSG_HEADER_LEN;
	for (unsigned i = 0; i < qd; i++) {
		if (dns_msg_name(m, len, &off, NULL, 0) || off + 4 > len)
			return -EBADMSG;
		off += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		if (dns_msg_name(m, len, &off, NULL, 0) || off + 10 > len)
			return -EBADMSG;
		uint16_t type = dns_msg_u16(m + off), class = dns_msg_u16(m + off + 2);
		uint32_t ttl = (uint32_t)dns_msg_u16(m + off + 4) << 16 | dns_msg_u16(m + off + 6);
		size_t rdlen = dns_msg_u16(m + off + 8);
		off += 10;
		if (off + rdlen > len)
			return -EBADMSG;
		if (class == DNS_MSG_CLASS_IN && (type == DNS_MSG_TYPE_A || type == DNS_MSG_TYPE_AAAA)) {
			size_t alen = type == DNS_MSG_TYPE_A ? 4 : 16;
			if (rdlen != alen)
				return -EBADMSG;
			if (res->count < cap) {
				struct dns_msg_answer *a = &out[res->count++];
				memset(a, 0, sizeof(*a));
				a->family = alen == 4 ? AF_INET : AF_INET6;
				memcpy(a->addr, m + off, alen);
				a->ttl = ttl;
			} else {
				res->dropped++;
			}
		}
		off += rdlen;
	}
	return 0;
}
