#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "net/dns_msg.h"

TestSuite(dns_msg);

/* A message under construction. */
struct msg {
	uint8_t b[600];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	cr_assert_leq(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

/* Dotted name, uncompressed. */
static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t lb = (uint8_t)l;
		put(m, &lb, 1);
		put(m, name, l);
		name += l + (dot ? 1 : 0);
	}
	uint8_t z = 0;
	put(m, &z, 1);
}

static void put_ptr(struct msg *m, uint16_t off)
{
	put16(m, (uint16_t)(0xc000 | off));
}

static void header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

/* Record fields after the owner name. */
static void rr(struct msg *m, uint16_t type, uint16_t class, uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	put16(m, type);
	put16(m, class);
	put32(m, ttl);
	put16(m, rdlen);
	put(m, rdata, rdlen);
}

static const uint8_t A1[4] = { 192, 0, 2, 7 };
static const uint8_t A2[4] = { 198, 51, 100, 9 };

static uint8_t aaaa1[16];

static void v6(void)
{
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::53", aaaa1), 1);
}

/* "www.example.org" A: a CNAME to "web.example.org" (compressed against the question), then
 * two A records named by pointers into the CNAME's rdata. */
static void cname_response(struct msg *m, uint16_t id)
{
	header(m, id, 0x8180, 1, 3);
	put_name(m, "www.example.org"); /* at 12; "example.org" at 16 */
	put16(m, DNS_MSG_TYPE_A);
	put16(m, DNS_MSG_CLASS_IN);
	put_ptr(m, 12);
	size_t cname_at = m->n + 10; /* its rdata */
	uint8_t rdata[] = { 3, 'w', 'e', 'b', 0xc0, 16 };
	rr(m, 5, DNS_MSG_CLASS_IN, 60, rdata, sizeof(rdata));
	put_ptr(m, (uint16_t)cname_at);
	rr(m, DNS_MSG_TYPE_A, DNS_MSG_CLASS_IN, 300, A1, 4);
	put_ptr(m, (uint16_t)cname_at);
	rr(m, DNS_MSG_TYPE_A, DNS_MSG_CLASS_IN, 301, A2, 4);
}

Test(dns_msg, query_layout)
{
	uint8_t q[DNS_MSG_QUERY_MAX];
	size_t n;
	cr_assert_eq(dns_msg_query(q, sizeof(q), 0xbeef, "example.org", DNS_MSG_TYPE_AAAA, &n), 0);
	static const uint8_t want[] = { 0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm',
					'p',  'l',  'e',  3,    'o', 'r', 'g', 0, 0, 28, 0, 1 };
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(q, want, n);
	/* A trailing dot is the same name; the root is a query too. */
	uint8_t q2[DNS_MSG_QUERY_MAX];
	size_t n2;
	cr_assert_eq(dns_msg_query(q2, sizeof(q2), 0xbeef, "example.org.", DNS_MSG_TYPE_AAAA, &n2), 0);
	cr_assert_eq(n2, n);
	cr_assert_arr_eq(q2, q, n);
	cr_assert_eq(dns_msg_query(q2, sizeof(q2), 1, ".", DNS_MSG_TYPE_A, &n2), 0);
	cr_assert_eq(n2, DNS_MSG_HEADER_LEN + 1 + 4);
	cr_assert_eq(dns_msg_query(q2, sizeof(q2), 1, "", DNS_MSG_TYPE_A, &n2), 0);
	cr_assert_eq(n2, DNS_MSG_HEADER_LEN + 1 + 4);
	/* Its own question reads back. */
	size_t off = DNS_MSG_HEADER_LEN;
	char text[DNS_MSG_NAME_TEXT_MAX];
	cr_assert_eq(dns_msg_name(q, n, &off, text, sizeof(text)), 0);
	cr_assert_str_eq(text, "example.org");
	cr_assert_eq(off, n - 4);
}

Test(dns_msg, query_refuses_bad_names)
{
	uint8_t q[DNS_MSG_QUERY_MAX];
	size_t n;
	cr_assert_eq(dns_msg_query(q, sizeof(q), 1, "a..b", 1, &n), -EINVAL);
	cr_assert_eq(dns_msg_query(q, sizeof(q), 1, ".a", 1, &n), -EINVAL);
	cr_assert_eq(dns_msg_query(q, sizeof(q), 1, "a..", 1, &n), -EINVAL);
	char label[70];
	memset(label, 'x', 64);
	label[64] = 0;
	cr_assert_eq(dns_msg_query(q, sizeof(q), 1, label, 1, &n), -EINVAL);
	label[63] = 0;
	cr_assert_eq(dns_msg_query(q, sizeof(q), 1, label, 1, &n), 0);
	/* 255 bytes on the wire is the most: 3 labels of 63 and one of 61 (4 + 250 + 1). */
	char name[300];
	memset(name, 'y', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = 0;
	cr_assert_eq(dns_msg_query(q, sizeof(q), 1, name, 1, &n), 0);
	cr_assert_eq(n, DNS_MSG_QUERY_MAX);
	name[253] = 'y';
	name[254] = 0;
	cr_assert_eq(dns_msg_query(q, sizeof(q), 1, name, 1, &n), -EINVAL);
	cr_assert_eq(dns_msg_query(q, 20, 1, "example.org", 1, &n), -ENOSPC);
}

Test(dns_msg, a_and_aaaa_answers)
{
	v6();
	struct msg m;
	header(&m, 0x1234, 0x8180, 1, 3);
	put_name(&m, "host.test");
	put16(&m, DNS_MSG_TYPE_A);
	put16(&m, DNS_MSG_CLASS_IN);
	put_name(&m, "host.test");
	rr(&m, DNS_MSG_TYPE_A, DNS_MSG_CLASS_IN, 3600, A1, 4);
	put_name(&m, "host.test");
	rr(&m, 16, DNS_MSG_CLASS_IN, 1, "\x03txt", 4); /* TXT: skipped */
	put_name(&m, "host.test");
	rr(&m, DNS_MSG_TYPE_AAAA, DNS_MSG_CLASS_IN, 7, aaaa1, 16);
	struct dns_msg_answer a[4];
	struct dns_msg_answers r;
	cr_assert_eq(dns_msg_answers(m.b, m.n, 0x1234, a, 4, &r), 0);
	cr_assert_eq(r.rcode, 0);
	cr_assert(!r.truncated);
	cr_assert_eq(r.count, 2);
	cr_assert_eq(r.dropped, 0);
	cr_assert_eq(a[0].family, AF_INET);
	cr_assert_arr_eq(a[0].addr, A1, 4);
	cr_assert_eq(a[0].ttl, 3600);
	cr_assert_eq(a[1].family, AF_INET6);
	cr_assert_arr_eq(a[1].addr, aaaa1, 16);
	cr_assert_eq(a[1].ttl, 7);
	/* Past cap they are counted, not written. */
	cr_assert_eq(dns_msg_answers(m.b, m.n, 0x1234, a, 1, &r), 0);
	cr_assert_eq(r.count, 1);
	cr_assert_eq(r.dropped, 1);
	cr_assert_eq(dns_msg_answers(m.b, m.n, 0x1234, NULL, 0, &r), 0);
	cr_assert_eq(r.count, 0);
	cr_assert_eq(r.dropped, 2);
}

Test(dns_msg, rcode_truncation_flag_and_other_classes)
{
	struct msg m;
	header(&m, 7, 0x8183, 1, 0); /* NXDOMAIN */
	put_name(&m, "nope.test");
	put16(&m, DNS_MSG_TYPE_A);
	put16(&m, DNS_MSG_CLASS_IN);
	struct dns_msg_answer a[2];
	struct dns_msg_answers r;
	cr_assert_eq(dns_msg_answers(m.b, m.n, 7, a, 2, &r), 0);
	cr_assert_eq(r.rcode, 3);
	cr_assert_eq(r.count, 0);

	header(&m, 7, 0x8380, 1, 1); /* TC set */
	put_name(&m, "t.test");
	put16(&m, DNS_MSG_TYPE_A);
	put16(&m, DNS_MSG_CLASS_IN);
	put_ptr(&m, 12);
	rr(&m, DNS_MSG_TYPE_A, 3 /* CH */, 1, A1, 4);
	cr_assert_eq(dns_msg_answers(m.b, m.n, 7, a, 2, &r), 0);
	cr_assert(r.truncated);
	cr_assert_eq(r.count, 0); /* class CH is not an address */
}

Test(dns_msg, compression_pointers)
{
	struct msg m;
	cname_response(&m, 0x4242);
	struct dns_msg_answer a[4];
	struct dns_msg_answers r;
	cr_assert_eq(dns_msg_answers(m.b, m.n, 0x4242, a, 4, &r), 0);
	cr_assert_eq(r.count, 2);
	cr_assert_arr_eq(a[0].addr, A1, 4);
	cr_assert_arr_eq(a[1].addr, A2, 4);
	cr_assert_eq(a[1].ttl, 301);

	/* The names read back whole; the offset moves past the pointer, not to its target. */
	char text[DNS_MSG_NAME_TEXT_MAX];
	size_t off = DNS_MSG_HEADER_LEN + 17 + 4; /* the CNAME's owner: a bare pointer */
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, text, sizeof(text)), 0);
	cr_assert_str_eq(text, "www.example.org");
	cr_assert_eq(off, DNS_MSG_HEADER_LEN + 17 + 4 + 2);
	off += 10; /* the CNAME's rdata: a label, then a pointer */
	size_t rdata = off;
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, text, sizeof(text)), 0);
	cr_assert_str_eq(text, "web.example.org");
	cr_assert_eq(off, rdata + 6);
	off = m.n - 16; /* the last A's owner: a pointer to that rdata, which points on */
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, text, sizeof(text)), 0);
	cr_assert_str_eq(text, "web.example.org");
	cr_assert_eq(off, m.n - 14);
}

Test(dns_msg, name_text_escapes)
{
	struct msg m;
	header(&m, 1, 0x8180, 0, 0);
	uint8_t name[] = { 4, 'a', '.', ' ', 0xff, 2, 'o', 'k', 0 };
	put(&m, name, sizeof(name));
	size_t off = DNS_MSG_HEADER_LEN;
	char text[DNS_MSG_NAME_TEXT_MAX];
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, text, sizeof(text)), 0);
	cr_assert_str_eq(text, "a\\046\\032\\255.ok");
	cr_assert_eq(off, m.n);
	off = DNS_MSG_HEADER_LEN;
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, text, 10), -EINVAL);
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), 0);
}

Test(dns_msg, truncated_messages)
{
	struct msg m;
	cname_response(&m, 9);
	struct dns_msg_answer a[4];
	struct dns_msg_answers r;
	for (size_t n = 0; n < m.n; n++) {
		int rc = dns_msg_answers(m.b, n, 9, a, 4, &r);
		cr_assert_eq(rc, n < DNS_MSG_HEADER_LEN ? -ENOMSG : -EBADMSG, "cut at %zu: %d", n, rc);
	}
	cr_assert_eq(dns_msg_answers(m.b, m.n, 9, a, 4, &r), 0);
	/* An A record whose rdata is not 4 bytes is malformed. */
	header(&m, 9, 0x8180, 0, 1);
	put_name(&m, "x.test");
	rr(&m, DNS_MSG_TYPE_A, DNS_MSG_CLASS_IN, 1, aaaa1, 16);
	cr_assert_eq(dns_msg_answers(m.b, m.n, 9, a, 4, &r), -EBADMSG);
}

Test(dns_msg, pointer_loops_and_bad_pointers)
{
	struct dns_msg_answer a[4];
	struct dns_msg_answers r;
	struct msg m;
	size_t off;

	/* An answer whose name points at itself. */
	header(&m, 5, 0x8180, 0, 1);
	put_ptr(&m, 12);
	rr(&m, DNS_MSG_TYPE_A, DNS_MSG_CLASS_IN, 1, A1, 4);
	cr_assert_eq(dns_msg_answers(m.b, m.n, 5, a, 4, &r), -EBADMSG);

	/* Two names pointing at each other: 12 -> "a" then 18, 18 -> "b" then 12. */
	header(&m, 5, 0x8180, 0, 0);
	uint8_t loop[] = { 1, 'a', 0xc0, 18, 0, 0, 1, 'b', 0xc0, 12 };
	put(&m, loop, sizeof(loop));
	off = 18;
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);
	off = 12; /* forward */
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);

	/* A pointer back into a label run that reaches the pointer again. */
	header(&m, 5, 0x8180, 0, 0);
	uint8_t back[] = { 1, 'a', 1, 'b', 0xc0, 14 };
	put(&m, back, sizeof(back));
	off = 12;
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);

	/* Into the header, cut short, reserved label types. */
	header(&m, 5, 0x8180, 0, 0);
	uint8_t hdr[] = { 0xc0, 2 };
	put(&m, hdr, sizeof(hdr));
	off = 12;
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);
	off = 12;
	cr_assert_eq(dns_msg_name(m.b, m.n - 1, &off, NULL, 0), -EBADMSG);
	m.b[12] = 0x40;
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);
	m.b[12] = 0x80;
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);

	/* A chain of pointers (each before the last) that adds up to more than 255 bytes. */
	header(&m, 5, 0x8180, 0, 0);
	uint8_t lab[64];
	memset(lab, 'z', sizeof(lab));
	lab[0] = 63;
	put(&m, lab, 64);
	uint8_t z = 0;
	put(&m, &z, 1);
	size_t prev = 12;
	for (int i = 0; i < 4; i++) {
		size_t here = m.n;
		put(&m, lab, 64);
		put_ptr(&m, (uint16_t)prev);
		prev = here;
	}
	off = prev; /* 5 labels of 63: 321 bytes */
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);
	off = 12 + 65 + 66 * 2; /* 4 labels of 63: 257 bytes */
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, NULL, 0), -EBADMSG);
	off = 12 + 65 + 66; /* 3 labels: fine */
	char text[DNS_MSG_NAME_TEXT_MAX];
	cr_assert_eq(dns_msg_name(m.b, m.n, &off, text, sizeof(text)), 0);
	cr_assert_eq(strlen(text), 63 * 3 + 2);
}

Test(dns_msg, not_ours)
{
	struct msg m;
	cname_response(&m, 0x4242);
	struct dns_msg_answer a[4];
	struct dns_msg_answers r;
	cr_assert_eq(dns_msg_answers(m.b, m.n, 0x4243, a, 4, &r), -ENOMSG);
	m.b[2] &= 0x7f; /* a query, not a response */
	cr_assert_eq(dns_msg_answers(m.b, m.n, 0x4242, a, 4, &r), -ENOMSG);
	cr_assert_eq(dns_msg_answers(m.b, 5, 0x4242, a, 4, &r), -ENOMSG);
}
