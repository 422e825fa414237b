#include "policy/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/array.h"

/* Tor's "private" alias (policies.c, private_nets): the networks a public exit must never
 * reach on behalf of a client. */
static const struct {
	uint8_t family;
	uint8_t prefix;
	uint8_t addr[16];
} private_nets[] = {
	{ POLICY_FAMILY_V4, 8, { 0, 0, 0, 0 } },
	{ POLICY_FAMILY_V4, 16, { 169, 254, 0, 0 } },
	{ POLICY_FAMILY_V4, 8, { 127, 0, 0, 0 } },
	{ POLICY_FAMILY_V4, 16, { 192, 168, 0, 0 } },
	{ POLICY_FAMILY_V4, 8, { 10, 0, 0, 0 } },
	{ POLICY_FAMILY_V4, 12, { 172, 16, 0, 0 } },
	{ POLICY_FAMILY_V6, 8, { 0 } },
	{ POLICY_FAMILY_V6, 7, { 0xfc, 0x00 } },
	{ POLICY_FAMILY_V6, 10, { 0xfe, 0x80 } },
	{ POLICY_FAMILY_V6, 10, { 0xfe, 0xc0 } },
	{ POLICY_FAMILY_V6, 8, { 0xff, 0x00 } },
	{ POLICY_FAMILY_V6, 127, { 0 } },
};

const char *policy_proto_name(enum policy_proto proto)
{
	switch (proto) {
	case POLICY_PROTO_TCP:
		return "tcp";
	case POLICY_PROTO_UDP:
		return "udp";
	case POLICY_PROTO_ICMP:
		return "icmp";
	case POLICY_PROTO_OTHER:
	case POLICY_PROTO_COUNT:
		break;
	}
	return "other";
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->entries);
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

/* The parser walks one line at a time; `cur` indexes the line, columns are cur + 1. */
struct lexer {
	const char *line;
	size_t len;
	size_t cur;
	uint32_t lineno;
	struct policy_error *err;
};

static int fail_at(struct lexer *lx, size_t col0, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct lexer *lx, size_t col0, const char *fmt, ...)
{
	if (lx->err) {
		lx->err->line = lx->lineno;
		lx->err->column = (uint32_t)col0 + 1;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(lx->err->message, sizeof(lx->err->message), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool at_end(const struct lexer *lx)
{
	return lx->cur >= lx->len;
}

static char peek(const struct lexer *lx)
{
	return at_end(lx) ? '\0' : lx->line[lx->cur];
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

static size_t skip_space(struct lexer *lx)
{
	size_t n = 0;
	while (!at_end(lx) && is_space(peek(lx))) {
		lx->cur++;
		n++;
	}
	return n;
}

/* A run of word characters starting at cur; returns its length (0 if none). */
static size_t word_len(const struct lexer *lx)
{
	size_t n = 0;
	while (lx->cur + n < lx->len && is_word_char(lx->line[lx->cur + n]))
		n++;
	return n;
}

static bool word_is(const struct lexer *lx, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(lx->line + lx->cur, w, n) == 0;
}

/* Decimal without sign; *out gets the value. Fails on no digits or a value above max. */
static int read_uint(struct lexer *lx, uint64_t max, uint64_t *out, const char *what)
{
	size_t start = lx->cur;
	uint64_t v = 0;
	if (!is_digit(peek(lx)))
		return fail_at(lx, start, "expected %s", what);
	while (is_digit(peek(lx))) {
		v = v * 10 + (uint64_t)(peek(lx) - '0');
		if (v > max)
			return fail_at(lx, start, "expected %s", what);
		lx->cur++;
	}
	*out = v;
	return 0;
}

/* Strict dotted quad: four decimal octets, no leading zeros, nothing else. */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < n && is_digit(s[i]) && i - start < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return false;
		out[part] = (uint8_t)v;
	}
	return i == n;
}

static bool host_bits_clear(const uint8_t *addr, size_t nbytes, unsigned prefix)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t mask;
		if (prefix >= bit0 + 8)
			mask = 0xff;
		else if (prefix <= bit0)
			mask = 0;
		else
			mask = (uint8_t)(0xff << (8 - (prefix - bit0)));
		if (addr[i] & (uint8_t)~mask)
			return false;
	}
	return true;
}

enum addr_kind {
	ADDR_STAR,   /* "*": both families (IPv6 only on accept6/reject6) */
	ADDR_STAR4,  /* "*4" */
	ADDR_STAR6,  /* "*6" */
	ADDR_PRIVATE,
	ADDR_NET,
};

struct pattern {
	enum addr_kind kind;
	uint8_t family;
	uint8_t prefix;
	uint8_t addr[16];
	bool any_port;
	uint16_t port_lo, port_hi;
};

static int parse_mask(struct lexer *lx, struct pattern *pt)
{
	unsigned max = pt->family == POLICY_FAMILY_V4 ? 32 : 128;
	size_t start = lx->cur;
	size_t n = 0;
	while (lx->cur + n < lx->len && (is_digit(lx->line[lx->cur + n]) || lx->line[lx->cur + n] == '.'))
		n++;
	if (n == 0)
		return fail_at(lx, start, "expected a mask length after '/'");
	if (memchr(lx->line + lx->cur, '.', n)) {
		uint8_t m[4];
		if (pt->family != POLICY_FAMILY_V4 || !parse_ipv4(lx->line + lx->cur, n, m))
			return fail_at(lx, start, "expected a mask length 0-%u", max);
		uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
		unsigned bits = 0;
		while (bits < 32 && (v & (1u << (31 - bits))))
			bits++;
		if (bits < 32 && (v << bits) != 0)
			return fail_at(lx, start, "mask %.*s is not contiguous", (int)n, lx->line + lx->cur);
		pt->prefix = (uint8_t)bits;
		lx->cur += n;
		return 0;
	}
	uint64_t v;
	int rc = read_uint(lx, max, &v, max == 32 ? "a mask length 0-32" : "a mask length 0-128");
	if (rc)
		return rc;
	if (lx->cur != start + n)
		return fail_at(lx, lx->cur, "unexpected character '%c' in the mask", peek(lx));
	pt->prefix = (uint8_t)v;
	return 0;
}

static int parse_address(struct lexer *lx, struct pattern *pt)
{
	size_t start = lx->cur;
	char c = peek(lx);
	if (c == '*') {
		lx->cur++;
		pt->kind = ADDR_STAR;
		if (peek(lx) == '4' || peek(lx) == '6') {
			pt->kind = peek(lx) == '4' ? ADDR_STAR4 : ADDR_STAR6;
			lx->cur++;
		}
		if (peek(lx) == '/')
			return fail_at(lx, lx->cur, "'*' takes no mask");
		return 0;
	}
	if (c == '[') {
		const char *close = memchr(lx->line + lx->cur, ']', lx->len - lx->cur);
		if (!close)
			return fail_at(lx, start, "expected ']' to close the IPv6 address");
		size_t n = (size_t)(close - (lx->line + lx->cur)) - 1;
		char buf[INET6_ADDRSTRLEN];
		if (n == 0 || n >= sizeof(buf))
			return fail_at(lx, start + 1, "expected an IPv6 address inside the brackets");
		memcpy(buf, lx->line + lx->cur + 1, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, pt->addr) != 1)
			return fail_at(lx, start + 1, "'%s' is not an IPv6 address", buf);
		pt->kind = ADDR_NET;
		pt->family = POLICY_FAMILY_V6;
		pt->prefix = 128;
		lx->cur += n + 2;
	} else if (is_word_char(c) && !is_digit(c)) {
		size_t n = word_len(lx);
		if (word_is(lx, n, "private")) {
			lx->cur += n;
			pt->kind = ADDR_PRIVATE;
			if (peek(lx) == '/')
				return fail_at(lx, lx->cur, "'private' takes no mask");
			return 0;
		}
		return fail_at(lx, start,
			       "expected an address: a.b.c.d, [IPv6], '*', '*4', '*6' or 'private'%s",
			       memchr(lx->line + start, ':', lx->len - start) ? " (IPv6 goes in brackets)"
									     : "");
	} else {
		size_t n = 0;
		while (lx->cur + n < lx->len &&
		       (is_digit(lx->line[lx->cur + n]) || lx->line[lx->cur + n] == '.'))
			n++;
		if (!parse_ipv4(lx->line + lx->cur, n, pt->addr)) {
			bool v6ish = lx->cur + n < lx->len &&
				     (lx->line[lx->cur + n] == ':' || is_word_char(lx->line[lx->cur + n])) &&
				     memchr(lx->line + lx->cur + n + 1, ':', lx->len - lx->cur - n - 1);
			return fail_at(lx, start,
				       "expected an address: a.b.c.d, [IPv6], '*', '*4', '*6' or 'private'%s",
				       v6ish ? " (IPv6 goes in brackets: [ADDR]/MASK)" : "");
		}
		pt->kind = ADDR_NET;
		pt->family = POLICY_FAMILY_V4;
		pt->prefix = 32;
		lx->cur += n;
	}
	if (peek(lx) == '/') {
		lx->cur++;
		int rc = parse_mask(lx, pt);
		if (rc)
			return rc;
	}
	if (!host_bits_clear(pt->addr, pt->family == POLICY_FAMILY_V4 ? 4 : 16, pt->prefix))
		return fail_at(lx, start, "the address has bits set beyond its /%u mask", pt->prefix);
	return 0;
}

static int parse_ports(struct lexer *lx, struct pattern *pt)
{
	if (peek(lx) == '*') {
		lx->cur++;
		pt->any_port = true;
		pt->port_lo = 0;
		pt->port_hi = 65535;
		return 0;
	}
	const char *what = "a port 1-65535, a range LO-HI or '*'";
	size_t start = lx->cur;
	uint64_t lo, hi;
	int rc = read_uint(lx, 65535, &lo, what);
	if (rc)
		return rc;
	hi = lo;
	if (peek(lx) == '-') {
		lx->cur++;
		rc = read_uint(lx, 65535, &hi, what);
		if (rc)
			return rc;
	}
	if (lo == 0)
		return fail_at(lx, start, "port 0 is not a port (use '*' for every port)");
	if (hi < lo)
		return fail_at(lx, start, "the port range %llu-%llu is reversed", (unsigned long long)lo,
			       (unsigned long long)hi);
	pt->any_port = false;
	pt->port_lo = (uint16_t)lo;
	pt->port_hi = (uint16_t)hi;
	return 0;
}

static const struct {
	const char *name;
	uint32_t seconds;
} rate_units[] = {
	{ "second", 1 },
	{ "minute", 60 },
	{ "hour", 3600 },
	{ "day", 86400 },
};

#define LIMIT_MAX 1000000

/* "limit RATE/UNIT [burst N]", cur just past "limit". */
static int parse_limit(struct lexer *lx, struct policy_limit *lim)
{
	if (skip_space(lx) == 0 || at_end(lx))
		return fail_at(lx, lx->cur, "expected a rate after 'limit', e.g. 30/minute");
	uint64_t rate;
	int rc = read_uint(lx, LIMIT_MAX, &rate, "a rate of 1-1000000 such as 30/minute");
	if (rc)
		return rc;
	if (rate == 0)
		return fail_at(lx, lx->cur - 1, "the rate must be at least 1");
	if (peek(lx) != '/')
		return fail_at(lx, lx->cur, "expected '/' and a unit (second, minute, hour, day)");
	lx->cur++;
	size_t n = word_len(lx);
	size_t i;
	for (i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++)
		if (word_is(lx, n, rate_units[i].name))
			break;
	if (i == sizeof(rate_units) / sizeof(rate_units[0]))
		return fail_at(lx, lx->cur, "expected a unit: second, minute, hour or day");
	lx->cur += n;
	lim->rate = (uint32_t)rate;
	lim->unit_s = rate_units[i].seconds;
	lim->burst = 5; /* nftables' default */
	size_t save = lx->cur;
	if (skip_space(lx) > 0 && word_is(lx, word_len(lx), "burst")) {
		lx->cur += 5;
		if (skip_space(lx) == 0)
			return fail_at(lx, lx->cur, "expected a number after 'burst'");
		uint64_t burst;
		rc = read_uint(lx, LIMIT_MAX, &burst, "a burst size of 1-1000000");
		if (rc)
			return rc;
		if (burst == 0)
			return fail_at(lx, lx->cur - 1, "the burst must be at least 1");
		lim->burst = (uint32_t)burst;
	} else {
		lx->cur = save;
	}
	return 0;
}

static void format_addr(char *out, size_t cap, uint8_t family, const uint8_t *addr, uint8_t prefix)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(family == POLICY_FAMILY_V4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	unsigned full = family == POLICY_FAMILY_V4 ? 32 : 128;
	if (family == POLICY_FAMILY_V4)
		snprintf(out, cap, prefix == full ? "%s" : "%s/%u", a, prefix);
	else
		snprintf(out, cap, prefix == full ? "[%s]" : "[%s]/%u", a, prefix);
}

static void format_entry(struct policy_entry *e, const char *action_word, const struct pattern *pt)
{
	char addr[64], ports[16], proto[8] = "", limit[64] = "";
	switch (pt->kind) {
	case ADDR_STAR:
		strcpy(addr, "*");
		break;
	case ADDR_STAR4:
		strcpy(addr, "*4");
		break;
	case ADDR_STAR6:
		strcpy(addr, "*6");
		break;
	case ADDR_PRIVATE:
		strcpy(addr, "private");
		break;
	case ADDR_NET:
		format_addr(addr, sizeof(addr), pt->family, pt->addr, pt->prefix);
		break;
	}
	if (pt->any_port)
		strcpy(ports, "*");
	else if (pt->port_lo == pt->port_hi)
		snprintf(ports, sizeof(ports), "%u", pt->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", pt->port_lo, pt->port_hi);
	if (e->protos != (pt->any_port ? POLICY_PROTOS_ALL : POLICY_PROTOS_PORTS)) {
		for (int p = 0; p < POLICY_PROTO_COUNT; p++)
			if (e->protos == POLICY_PROTO_BIT(p))
				snprintf(proto, sizeof(proto), " %s", policy_proto_name((enum policy_proto)p));
	}
	if (e->limit.rate) {
		const char *unit = "second";
		for (size_t i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++)
			if (rate_units[i].seconds == e->limit.unit_s)
				unit = rate_units[i].name;
		snprintf(limit, sizeof(limit), " limit %u/%s burst %u", e->limit.rate, unit, e->limit.burst);
	}
	snprintf(e->text, sizeof(e->text), "%s %s:%s%s%s", action_word, addr, ports, proto, limit);
}

struct builder {
	struct policy *p;
	size_t entries_cap;
	size_t rules_cap;
};

static int add_rule(struct builder *b, uint32_t entry, uint8_t family, const uint8_t *addr,
		    uint8_t prefix)
{
	int rc = nym_array_grow((void **)&b->p->rules, &b->rules_cap, b->p->n_rules + 1, sizeof(struct policy_rule));
	if (rc)
		return rc;
	struct policy_rule *r = &b->p->rules[b->p->n_rules++];
	memset(r, 0, sizeof(*r));
	r->entry = entry;
	r->family = family;
	r->prefix = prefix;
	if (addr)
		memcpy(r->addr, addr, family == POLICY_FAMILY_V4 ? 4 : 16);
	return 0;
}

/* One item: ACTION PATTERN [OPTION...]; cur at the action word. */
static int parse_item(struct lexer *lx, struct builder *b)
{
	size_t col = lx->cur;
	size_t n = word_len(lx);
	static const char *const actions[] = { "accept", "reject", "accept6", "reject6" };
	int which = -1;
	for (int i = 0; i < 4; i++)
		if (word_is(lx, n, actions[i]))
			which = i;
	if (which < 0)
		return fail_at(lx, col, "expected accept, reject, accept6 or reject6");
	bool six = which >= 2;
	lx->cur += n;
	if (skip_space(lx) == 0 || at_end(lx))
		return fail_at(lx, lx->cur, "expected an address pattern ADDR[/MASK]:PORT after '%s'",
			       actions[which]);

	struct pattern pt;
	memset(&pt, 0, sizeof(pt));
	size_t addr_col = lx->cur;
	int rc = parse_address(lx, &pt);
	if (rc)
		return rc;
	if (peek(lx) != ':')
		return fail_at(lx, lx->cur, "expected ':' and a port after the address");
	lx->cur++;
	rc = parse_ports(lx, &pt);
	if (rc)
		return rc;
	if (six && (pt.kind == ADDR_STAR4 || (pt.kind == ADDR_NET && pt.family == POLICY_FAMILY_V4)))
		return fail_at(lx, addr_col, "an IPv4 address on an %s line (use %s)", actions[which],
			       actions[which - 2]);

	struct policy_entry e;
	memset(&e, 0, sizeof(e));
	e.line = lx->lineno;
	e.column = (uint32_t)col + 1;
	e.action = (which & 1) ? POLICY_REJECT : POLICY_ACCEPT;
	e.port_lo = pt.port_lo;
	e.port_hi = pt.port_hi;
	e.protos = pt.any_port ? POLICY_PROTOS_ALL : POLICY_PROTOS_PORTS;

	bool have_proto = false;
	for (;;) {
		size_t save = lx->cur;
		if (skip_space(lx) == 0 || at_end(lx) || peek(lx) == ',') {
			lx->cur = save;
			break;
		}
		size_t wcol = lx->cur;
		size_t wn = word_len(lx);
		int proto = -1;
		if (word_is(lx, wn, "tcp"))
			proto = POLICY_PROTO_TCP;
		else if (word_is(lx, wn, "udp"))
			proto = POLICY_PROTO_UDP;
		else if (word_is(lx, wn, "icmp"))
			proto = POLICY_PROTO_ICMP;
		if (proto >= 0) {
			if (have_proto)
				return fail_at(lx, wcol, "only one protocol word per entry");
			if (proto == POLICY_PROTO_ICMP && !pt.any_port)
				return fail_at(lx, wcol, "'icmp' has no ports: write the port as '*'");
			have_proto = true;
			e.protos = (uint8_t)POLICY_PROTO_BIT(proto);
			lx->cur += wn;
			continue;
		}
		if (word_is(lx, wn, "limit")) {
			if (e.limit.rate)
				return fail_at(lx, wcol, "only one 'limit' per entry");
			if (e.action != POLICY_ACCEPT)
				return fail_at(lx, wcol, "'limit' applies to accept entries only");
			lx->cur += wn;
			rc = parse_limit(lx, &e.limit);
			if (rc)
				return rc;
			continue;
		}
		return fail_at(lx, wcol, "expected tcp, udp, icmp, limit, ',' or the end of the line");
	}

	if (b->p->n_entries >= POLICY_MAX_ENTRIES)
		return fail_at(lx, col, "too many entries (at most %d)", POLICY_MAX_ENTRIES);
	rc = nym_array_grow((void **)&b->p->entries, &b->entries_cap, b->p->n_entries + 1, sizeof(e));
	if (rc)
		return rc;
	char word[8];
	snprintf(word, sizeof(word), "%s", actions[which]);
	format_entry(&e, word, &pt);
	uint32_t idx = (uint32_t)b->p->n_entries;
	b->p->entries[b->p->n_entries++] = e;

	switch (pt.kind) {
	case ADDR_STAR:
		if (!six && (rc = add_rule(b, idx, POLICY_FAMILY_V4, NULL, 0)))
			return rc;
		return add_rule(b, idx, POLICY_FAMILY_V6, NULL, 0);
	case ADDR_STAR4:
		return add_rule(b, idx, POLICY_FAMILY_V4, NULL, 0);
	case ADDR_STAR6:
		return add_rule(b, idx, POLICY_FAMILY_V6, NULL, 0);
	case ADDR_PRIVATE:
		/* As in Tor, "private" covers both families even on accept6/reject6. */
		for (size_t i = 0; i < sizeof(private_nets) / sizeof(private_nets[0]); i++)
			if ((rc = add_rule(b, idx, private_nets[i].family, private_nets[i].addr,
					   private_nets[i].prefix)))
				return rc;
		return 0;
	case ADDR_NET:
		return add_rule(b, idx, pt.family, pt.addr, pt.prefix);
	}
	return 0;
}

static int parse_line(struct lexer *lx, struct builder *b)
{
	const char *hash = memchr(lx->line, '#', lx->len);
	if (hash)
		lx->len = (size_t)(hash - lx->line);
	for (size_t i = 0; i < lx->len; i++) {
		unsigned char c = (unsigned char)lx->line[i];
		if (c < 0x20 && c != '\t')
			return fail_at(lx, i, "unexpected control character 0x%02x", c);
		if (c >= 0x7f)
			return fail_at(lx, i, "unexpected non-ASCII byte 0x%02x", c);
	}
	skip_space(lx);
	if (at_end(lx))
		return 0;
	size_t n = word_len(lx);
	if (word_is(lx, n, "ExitPolicy")) {
		lx->cur += n;
		if (skip_space(lx) == 0 || at_end(lx))
			return fail_at(lx, lx->cur, "expected accept, reject, accept6 or reject6 after ExitPolicy");
	}
	for (;;) {
		int rc = parse_item(lx, b);
		if (rc)
			return rc;
		skip_space(lx);
		if (at_end(lx))
			return 0;
		if (peek(lx) != ',')
			return fail_at(lx, lx->cur, "expected ',' or the end of the line");
		lx->cur++;
		skip_space(lx);
		if (at_end(lx))
			return fail_at(lx, lx->cur, "expected another entry after ','");
	}
}

int policy_parse(const char *text, size_t len, struct policy *out, struct policy_error *err)
{
	struct policy p;
	memset(&p, 0, sizeof(p));
	struct builder b = { .p = &p };
	struct lexer lx = { .err = err };
	int rc = 0;
	if (err)
		memset(err, 0, sizeof(*err));
	/* A UTF-8 byte order mark from a Windows editor is not an error. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	size_t pos = 0;
	uint32_t lineno = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		lx.line = text + pos;
		lx.len = end - pos;
		if (lx.len && lx.line[lx.len - 1] == '\r')
			lx.len--;
		lx.cur = 0;
		lx.lineno = ++lineno;
		rc = parse_line(&lx, &b);
		if (rc)
			goto out;
		pos = end + 1;
	}
out:
	if (rc) {
		policy_free(&p);
		if (rc == -ENOMEM && err) {
			err->line = lineno;
			snprintf(err->message, sizeof(err->message), "out of memory");
		}
		return rc;
	}
	*out = p;
	return 0;
}
