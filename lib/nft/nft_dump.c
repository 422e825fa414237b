#include "nft/nft_dump.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/array.h"

/* ---- netlink requests ---- */

struct req {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char *buf;
};

#define RECV_BUF (MNL_SOCKET_BUFFER_SIZE * 16)

static int req_open(struct req *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(RECV_BUF);
	if (!r->buf)
		return -ENOMEM;
	r->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;
		if (r->nl)
			mnl_socket_close(r->nl);
		free(r->buf);
		r->buf = NULL;
		r->nl = NULL;
		return e;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (uint32_t)time(NULL);
	return 0;
}

static void req_close(struct req *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r->buf);
}

/* Sends nlh and runs cb over every answer until the dump ends or an error arrives. */
static int req_run(struct req *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->nl, r->buf, RECV_BUF);
		if (n < 0)
			return -errno;
		int rc = mnl_cb_run(r->buf, (size_t)n, nlh->nlmsg_seq, r->portid, cb, data);
		if (rc < 0)
			return -errno;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

struct collect {
	struct nft_objects *o;
	const char *table;
	int err;
	struct nftnl_set *elems_into;
};

/* Appends to a NULL-terminated array. Its capacity is kept at the smallest power of two
 * that holds n + 1 slots, so it is full exactly when n + 1 is a power of two. */
static int push(void ***arr, size_t *n, void *obj)
{
	size_t used = *n + 1;
	if (!*arr || (used & (used - 1)) == 0) {
		size_t cap = 1;
		while (cap < used + 1)
			cap *= 2;
		void **p = realloc(*arr, cap * sizeof(**arr));
		if (!p)
			return -ENOMEM;
		*arr = p;
	}
	(*arr)[(*n)++] = obj;
	(*arr)[*n] = NULL;
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		if (t)
			nftnl_table_free(t);
		c->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (c->o->table)
		nftnl_table_free(c->o->table);
	c->o->table = t;
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_chain *ch = nftnl_chain_alloc();
	if (!ch || nftnl_chain_nlmsg_parse(nlh, ch) < 0)
		goto fail;
	if (nftnl_chain_get_u32(ch, NFTNL_CHAIN_FAMILY) != NFPROTO_INET ||
	    strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), c->table) != 0) {
		nftnl_chain_free(ch);
		return MNL_CB_OK;
	}
	if (push((void ***)&c->o->chains, &c->o->n_chains, ch))
		goto fail;
	return MNL_CB_OK;
fail:
	if (ch)
		nftnl_chain_free(ch);
	c->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0)
		goto fail;
	if (nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) != NFPROTO_INET ||
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), c->table) != 0) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	if (push((void ***)&c->o->rules, &c->o->n_rules, r))
		goto fail;
	return MNL_CB_OK;
fail:
	if (r)
		nftnl_rule_free(r);
	c->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0)
		goto fail;
	if (nftnl_set_get_u32(s, NFTNL_SET_FAMILY) != NFPROTO_INET ||
	    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), c->table) != 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	if (push((void ***)&c->o->sets, &c->o->n_sets, s))
		goto fail;
	return MNL_CB_OK;
fail:
	if (s)
		nftnl_set_free(s);
	c->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static int flowtable_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_flowtable *f = nftnl_flowtable_alloc();
	if (!f || nftnl_flowtable_nlmsg_parse(nlh, f) < 0) {
		if (f)
			nftnl_flowtable_free(f);
		c->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_flowtable_get_u32(f, NFTNL_FLOWTABLE_FAMILY) != NFPROTO_INET ||
	    strcmp(nftnl_flowtable_get_str(f, NFTNL_FLOWTABLE_TABLE), c->table) != 0 || c->o->flowtable) {
		nftnl_flowtable_free(f);
		return MNL_CB_OK;
	}
	c->o->flowtable = f;
	return MNL_CB_OK;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	if (nftnl_set_elems_nlmsg_parse(nlh, c->elems_into) < 0) {
		c->err = -EINVAL;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();
	if (!g)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, g) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

static int get_gen(struct req *r, uint32_t *gen)
{
	char buf[256];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, ++r->seq);
	return req_run(r, nlh, gen_cb, gen);
}

static int dump_once(struct req *r, const char *name, struct nft_objects *o, bool *exists)
{
	struct collect c = { .o = o, .table = name };
	char buf[1024];
	int rc;

	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	struct nlmsghdr *nlh = nftnl_table_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, ++r->seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	rc = req_run(r, nlh, table_cb, &c);
	if (rc == -ENOENT) {
		*exists = false;
		return 0;
	}
	if (rc || c.err)
		return rc ? rc : c.err;
	*exists = true;

	struct nftnl_chain *ch = nftnl_chain_alloc();
	if (!ch)
		return -ENOMEM;
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, name);
	nlh = nftnl_chain_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, ++r->seq);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	if ((rc = req_run(r, nlh, chain_cb, &c)) || c.err)
		return rc ? rc : c.err;

	struct nftnl_rule *ru = nftnl_rule_alloc();
	if (!ru)
		return -ENOMEM;
	nftnl_rule_set_str(ru, NFTNL_RULE_TABLE, name);
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, ++r->seq);
	nftnl_rule_nlmsg_build_payload(nlh, ru);
	nftnl_rule_free(ru);
	if ((rc = req_run(r, nlh, rule_cb, &c)) || c.err)
		return rc ? rc : c.err;

	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, name);
	nlh = nftnl_set_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, ++r->seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if ((rc = req_run(r, nlh, set_cb, &c)) || c.err)
		return rc ? rc : c.err;

	struct nftnl_flowtable *f = nftnl_flowtable_alloc();
	if (!f)
		return -ENOMEM;
	nftnl_flowtable_set_str(f, NFTNL_FLOWTABLE_TABLE, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETFLOWTABLE, NFPROTO_INET, NLM_F_DUMP, ++r->seq);
	nftnl_flowtable_nlmsg_build_payload(nlh, f);
	nftnl_flowtable_free(f);
	if ((rc = req_run(r, nlh, flowtable_cb, &c)) || c.err)
		return rc ? rc : c.err;

	for (size_t i = 0; i < o->n_sets; i++) {
		struct nftnl_set *q = nftnl_set_alloc();
		if (!q)
			return -ENOMEM;
		nftnl_set_set_str(q, NFTNL_SET_TABLE, name);
		nftnl_set_set_str(q, NFTNL_SET_NAME, nftnl_set_get_str(o->sets[i], NFTNL_SET_NAME));
		nlh = nftnl_set_elem_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, ++r->seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, q);
		nftnl_set_free(q);
		c.elems_into = o->sets[i];
		if ((rc = req_run(r, nlh, elem_cb, &c)) || c.err)
			return rc ? rc : c.err;
	}
	return 0;
}

int nft_dump_table(const char *name, struct nft_objects *out, bool *exists)
{
	struct req r;
	int rc = req_open(&r);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	for (int attempt = 0; attempt < 8; attempt++) {
		uint32_t g0 = 0, g1 = 1;
		if ((rc = get_gen(&r, &g0)))
			break;
		rc = dump_once(&r, name, out, exists);
		if (rc == 0 && (rc = get_gen(&r, &g1)) == 0 && g0 == g1)
			break;
		nft_objects_free(out);
		if (rc && rc != -EINTR)
			break;
		rc = -EAGAIN;
	}
	req_close(&r);
	if (rc)
		nft_objects_free(out);
	return rc;
}

/* ---- comments ---- */

static void udata_comment(const void *data, uint32_t len, char *out, size_t cap)
{
	const uint8_t *p = data;
	out[0] = '\0';
	for (uint32_t i = 0; p && i + 2 <= len;) {
		uint8_t type = p[i], l = p[i + 1];
		if (i + 2 + l > len)
			break;
		if (type == 0 && l > 0) {
			size_t n = strnlen((const char *)p + i + 2, l);
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p + i + 2, n);
			out[n] = '\0';
			return;
		}
		i += 2u + l;
	}
}

void nft_table_comment(const struct nftnl_table *t, char *out, size_t cap)
{
	uint32_t len = 0;
	const void *d = nftnl_table_is_set(t, NFTNL_TABLE_USERDATA) ? nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len) : NULL;
	udata_comment(d, len, out, cap);
}

void nft_chain_comment(const struct nftnl_chain *c, char *out, size_t cap)
{
	uint32_t len = 0;
	const void *d = nftnl_chain_is_set(c, NFTNL_CHAIN_USERDATA) ? nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len) : NULL;
	udata_comment(d, len, out, cap);
}

void nft_rule_comment(const struct nftnl_rule *r, char *out, size_t cap)
{
	uint32_t len = 0;
	const void *d = nftnl_rule_is_set(r, NFTNL_RULE_USERDATA) ? nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len) : NULL;
	udata_comment(d, len, out, cap);
}

/* ---- canonical form ---- */

static int canon_add(struct nft_canon *c, const char *line)
{
	if (nym_array_grow((void **)&c->lines, &c->cap, c->n + 1, sizeof(*c->lines)))
		return -ENOMEM;
	if (!(c->lines[c->n] = strdup(line)))
		return -ENOMEM;
	c->n++;
	return 0;
}

void nft_canon_free(struct nft_canon *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->lines[i]);
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

static void hex(char *out, size_t cap, const void *data, uint32_t len)
{
	const uint8_t *p = data;
	size_t o = 0;
	out[0] = '\0';
	for (uint32_t i = 0; i < len && o + 3 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", p[i]);
}

struct expr_text {
	char *buf;
	size_t cap, len;
};

/* Counter values and the kernel's default dynset timeout are state, not configuration. */
static int expr_text_cb(struct nftnl_expr *e, void *data)
{
	struct expr_text *t = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	char one[512] = "";
	if (strcmp(name, "counter") != 0)
		nftnl_expr_snprintf(one, sizeof(one), e, NFTNL_OUTPUT_DEFAULT, 0);
	if (strcmp(name, "dynset") == 0) {
		char *tm = strstr(one, "timeout 0ms ");
		if (tm)
			memmove(tm, tm + 12, strlen(tm + 12) + 1);
	}
	/* The kernel reports a lookup's flags even when they are 0 and were never sent. */
	size_t ol = strlen(one);
	if (strcmp(name, "lookup") == 0 && ol >= 4 && strcmp(one + ol - 4, "0x0 ") == 0)
		one[ol - 4] = '\0';
	int n = snprintf(t->buf + t->len, t->cap - t->len, "[%s %s]", name, one);
	if (n > 0)
		t->len = t->len + (size_t)n < t->cap ? t->len + (size_t)n : t->cap - 1;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint32_t u32_or(bool set, uint32_t v)
{
	return set ? v : 0;
}

static int canon_chain(struct nft_canon *c, const struct nftnl_chain *ch)
{
	char comment[NFT_COMMENT_LEN], line[512];
	nft_chain_comment(ch, comment, sizeof(comment));
	if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM))
		snprintf(line, sizeof(line), "chain %s hook=%u prio=%d type=%s policy=%u comment=%s",
			 nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM),
			 nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO),
			 nftnl_chain_is_set(ch, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE) : "",
			 u32_or(nftnl_chain_is_set(ch, NFTNL_CHAIN_POLICY), nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY)),
			 comment);
	else
		snprintf(line, sizeof(line), "chain %s comment=%s", nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), comment);
	return canon_add(c, line);
}

/* Devices sorted: the kernel reports them in its own order. */
static int canon_flowtable(struct nft_canon *c, const struct nftnl_flowtable *f)
{
	const char *devs[64];
	size_t n = 0;
	const char *const *a = nftnl_flowtable_is_set(f, NFTNL_FLOWTABLE_DEVICES)
				       ? nftnl_flowtable_get_array(f, NFTNL_FLOWTABLE_DEVICES)
				       : NULL;
	for (; a && a[n] && n < 64; n++)
		devs[n] = a[n];
	qsort(devs, n, sizeof(*devs), str_cmp);
	char line[1400];
	int len = snprintf(line, sizeof(line), "flowtable %s hook=%u prio=%d devices=",
			   nftnl_flowtable_get_str(f, NFTNL_FLOWTABLE_NAME),
			   nftnl_flowtable_get_u32(f, NFTNL_FLOWTABLE_HOOKNUM),
			   nftnl_flowtable_get_s32(f, NFTNL_FLOWTABLE_PRIO));
	for (size_t i = 0; i < n && len > 0 && (size_t)len < sizeof(line); i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%s", i ? "," : "", devs[i]);
	return canon_add(c, line);
}

struct elem_ctx {
	struct nft_canon *c;
	const char *set;
	int err;
};

static int canon_elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_ctx *x = data;
	uint32_t klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	char k[80], line[256];
	hex(k, sizeof(k), key, klen);
	uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
	int verdict = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT) ? (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT) : 0;
	const char *chain = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN) ? nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN) : "";
	snprintf(line, sizeof(line), "elem %s %s flags=%u verdict=%d chain=%s", x->set, k, flags, verdict, chain);
	if (canon_add(x->c, line)) {
		x->err = -ENOMEM;
		return -1;
	}
	return 0;
}

static int canon_set(struct nft_canon *c, struct nftnl_set *s)
{
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	uint32_t ulen = 0;
	const void *ud = nftnl_set_is_set(s, NFTNL_SET_USERDATA) ? nftnl_set_get_data(s, NFTNL_SET_USERDATA, &ulen) : NULL;
	char uhex[600], line[900];
	hex(uhex, sizeof(uhex), ud, ulen);
	snprintf(line, sizeof(line), "set %s flags=%x key=%u/%u data=%x timeout=%llu size=%u udata=%s", name, flags,
		 nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
		 u32_or(nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE), nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE)),
		 (unsigned long long)(nftnl_set_is_set(s, NFTNL_SET_TIMEOUT) ? nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT) : 0),
		 u32_or(nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE), nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE)), uhex);
	int rc = canon_add(c, line);
	if (rc || (flags & NFT_SET_EVAL))
		return rc; /* a dynamic set's elements are traffic, not configuration */
	struct elem_ctx x = { .c = c, .set = name };
	nftnl_set_elem_foreach(s, canon_elem_cb, &x);
	return x.err;
}

int nft_canon_build(const struct nft_objects *o, struct nft_canon *out)
{
	struct nft_canon c;
	memset(&c, 0, sizeof(c));
	int rc = 0;
	char line[4096], comment[NFT_COMMENT_LEN];
	if (o->table) {
		nft_table_comment(o->table, comment, sizeof(comment));
		snprintf(line, sizeof(line), "table %s flags=%u comment=%s", nftnl_table_get_str(o->table, NFTNL_TABLE_NAME),
			 u32_or(nftnl_table_is_set(o->table, NFTNL_TABLE_FLAGS), nftnl_table_get_u32(o->table, NFTNL_TABLE_FLAGS)),
			 comment);
		if ((rc = canon_add(&c, line)))
			goto out;
	}
	if (o->flowtable && (rc = canon_flowtable(&c, o->flowtable)))
		goto out;
	for (size_t i = 0; i < o->n_chains; i++)
		if ((rc = canon_chain(&c, o->chains[i])))
			goto out;
	for (size_t i = 0; i < o->n_sets; i++)
		if ((rc = canon_set(&c, o->sets[i])))
			goto out;
	const char *prev = "";
	size_t idx = 0;
	for (size_t i = 0; i < o->n_rules; i++) {
		struct nftnl_rule *r = o->rules[i];
		const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		idx = strcmp(prev, chain) == 0 ? idx + 1 : 0;
		prev = chain;
		char exprs[3000];
		struct expr_text t = { exprs, sizeof(exprs), 0 };
		exprs[0] = '\0';
		nftnl_expr_foreach(r, expr_text_cb, &t);
		nft_rule_comment(r, comment, sizeof(comment));
		snprintf(line, sizeof(line), "rule %s %05zu %s comment=%s", chain, idx, exprs, comment);
		if ((rc = canon_add(&c, line)))
			goto out;
	}
	qsort(c.lines, c.n, sizeof(*c.lines), str_cmp);
out:
	if (rc) {
		nft_canon_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

size_t nft_canon_diff(const struct nft_canon *a, const struct nft_canon *b, FILE *out, size_t max)
{
	size_t i = 0, j = 0, diffs = 0;
	while (i < a->n || j < b->n) {
		int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->lines[i], b->lines[j]);
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (out && diffs < max)
			fprintf(out, "%s %s\n", c < 0 ? "-" : "+", c < 0 ? a->lines[i] : b->lines[j]);
		diffs++;
		if (c < 0)
			i++;
		else
			j++;
	}
	return diffs;
}

struct ctr {
	bool found;
	uint64_t packets, bytes;
};

static int ctr_cb(struct nftnl_expr *e, void *data)
{
	struct ctr *c = data;
	if (c->found || strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") != 0)
		return 0;
	c->found = true;
	c->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	c->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	return 0;
}

bool nft_rule_counter(const struct nftnl_rule *r, uint64_t *packets, uint64_t *bytes)
{
	struct ctr c = { 0 };
	nftnl_expr_foreach((struct nftnl_rule *)r, ctr_cb, &c);
	*packets = c.packets;
	*bytes = c.bytes;
	return c.found;
}

struct elems_out {
	struct nft_dump_elem *v;
	size_t n, cap;
	int err;
};

static int dump_elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct elems_out *x = data;
	if (x->n == x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 64;
		struct nft_dump_elem *p = realloc(x->v, ncap * sizeof(*p));
		if (!p) {
			x->err = -ENOMEM;
			return -1;
		}
		x->v = p;
		x->cap = ncap;
	}
	struct nft_dump_elem *d = &x->v[x->n++];
	memset(d, 0, sizeof(*d));
	uint32_t klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	if (klen > sizeof(d->key))
		klen = sizeof(d->key);
	memcpy(d->key, key, klen);
	d->key_len = klen;
	d->interval_end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
			  (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
	d->verdict = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT) ? (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT) : -1;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
		snprintf(d->chain, sizeof(d->chain), "%s", nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
	return 0;
}

static int dump_elem_cmp(const void *a, const void *b)
{
	const struct nft_dump_elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));
	if (c)
		return c;
	/* At equal keys the end of the previous range sorts before the next start. */
	return (int)y->interval_end - (int)x->interval_end;
}

int nft_dump_set_elems(const struct nft_objects *o, const char *name, struct nft_dump_elem **out, size_t *n)
{
	for (size_t i = 0; i < o->n_sets; i++) {
		if (strcmp(nftnl_set_get_str(o->sets[i], NFTNL_SET_NAME), name) != 0)
			continue;
		struct elems_out x = { 0 };
		nftnl_set_elem_foreach(o->sets[i], dump_elem_cb, &x);
		if (x.err) {
			free(x.v);
			return x.err;
		}
		if (x.n > 1) /* an empty set has no array: qsort must not see NULL */
			qsort(x.v, x.n, sizeof(*x.v), dump_elem_cmp);
		*out = x.v;
		*n = x.n;
		return 0;
	}
	return -ENOENT;
}
