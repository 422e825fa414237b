#include "nft/nft_encode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "nft/nft_index.h"

void nft_objects_free(struct nft_objects *o)
{
	if (!o)
		return;
	if (o->table)
		nftnl_table_free(o->table);
	if (o->flowtable)
		nftnl_flowtable_free(o->flowtable);
	for (size_t i = 0; i < o->n_chains; i++)
		nftnl_chain_free(o->chains[i]);
	for (size_t i = 0; i < o->n_sets; i++)
		nftnl_set_free(o->sets[i]);
	for (size_t i = 0; i < o->n_rules; i++)
		nftnl_rule_free(o->rules[i]);
	free(o->chains);
	free(o->sets);
	free(o->rules);
	memset(o, 0, sizeof(*o));
}

/* A comment as nft stores it: one NUL-terminated TLV of type 0 in the object's user data.
 * Table, chain and rule comments all use type 0. */
static int put_comment(const char *comment, void *obj,
		       int (*setter)(void *obj, uint16_t attr, const void *data, uint32_t len),
		       uint16_t attr)
{
	if (!comment || !comment[0])
		return 0;
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud)
		return -ENOMEM;
	int rc = 0;
	if (!nftnl_udata_put_strz(ud, 0, comment))
		rc = -EINVAL;
	else if (setter(obj, attr, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud)) < 0)
		rc = -ENOMEM;
	nftnl_udata_buf_free(ud);
	return rc;
}

static int table_setter(void *o, uint16_t a, const void *d, uint32_t l)
{
	return nftnl_table_set_data(o, a, d, l);
}

static int chain_setter(void *o, uint16_t a, const void *d, uint32_t l)
{
	return nftnl_chain_set_data(o, a, d, l);
}

static int rule_setter(void *o, uint16_t a, const void *d, uint32_t l)
{
	return nftnl_rule_set_data(o, a, d, l);
}

static struct nftnl_table *encode_table(const struct nft_ruleset *rs)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, rs->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	if (put_comment(rs->comment, t, table_setter, NFTNL_TABLE_USERDATA)) {
		nftnl_table_free(t);
		return NULL;
	}
	return t;
}

static struct nftnl_chain *encode_chain(const struct nft_ruleset *rs, const struct nft_chain *c)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	if (!ch)
		return NULL;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, rs->table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name);
	if (c->hook != NFT_HOOK_NONE) {
		uint32_t hooknum = c->hook == NFT_HOOK_INPUT	   ? NF_INET_LOCAL_IN
				   : c->hook == NFT_HOOK_FORWARD ? NF_INET_FORWARD
				   : c->hook == NFT_HOOK_OUTPUT	 ? NF_INET_LOCAL_OUT
				   : c->hook == NFT_HOOK_PREROUTING ? NF_INET_PRE_ROUTING
								 : NF_INET_POST_ROUTING;
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hooknum);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->priority);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, c->nat ? "nat" : "filter");
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, c->policy_drop ? NF_DROP : NF_ACCEPT);
	}
	if (put_comment(c->comment, ch, chain_setter, NFTNL_CHAIN_USERDATA)) {
		nftnl_chain_free(ch);
		return NULL;
	}
	return ch;
}

static struct nftnl_flowtable *encode_flowtable(const struct nft_ruleset *rs, const struct nft_flowtable *ft)
{
	struct nftnl_flowtable *f = nftnl_flowtable_alloc();
	if (!f)
		return NULL;
	const char *devs[NFT_FLOWTABLE_MAX_DEVICES + 1];
	for (size_t i = 0; i < ft->n_devices; i++)
		devs[i] = ft->devices[i];
	devs[ft->n_devices] = NULL;
	nftnl_flowtable_set_u32(f, NFTNL_FLOWTABLE_FAMILY, NFPROTO_INET);
	nftnl_flowtable_set_str(f, NFTNL_FLOWTABLE_TABLE, rs->table);
	nftnl_flowtable_set_str(f, NFTNL_FLOWTABLE_NAME, ft->name);
	nftnl_flowtable_set_u32(f, NFTNL_FLOWTABLE_HOOKNUM, NF_NETDEV_INGRESS);
	nftnl_flowtable_set_s32(f, NFTNL_FLOWTABLE_PRIO, ft->priority);
	if (ft->n_devices && nftnl_flowtable_set_array(f, NFTNL_FLOWTABLE_DEVICES, devs) < 0) {
		nftnl_flowtable_free(f);
		return NULL;
	}
	return f;
}

static uint32_t key_type(enum nft_key k)
{
	switch (k) {
	case NFT_KEY_IPV4:
		return NFT_TYPE_IPADDR;
	case NFT_KEY_IPV6:
		return NFT_TYPE_IP6ADDR;
	case NFT_KEY_PORT:
		return NFT_TYPE_INET_SERVICE;
	case NFT_KEY_IFNAME:
		return NFT_TYPE_IFNAME;
	case NFT_KEY_ICMPV6_TYPE:
		return NFT_TYPE_ICMP6_TYPE;
	}
	return 0;
}

static int add_elem(struct nftnl_set *s, const uint8_t *key, size_t kl, uint32_t flags,
		    const struct nft_elem *data)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	if (!e)
		return -ENOMEM;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)kl);
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	if (data) {
		switch (data->verdict) {
		case NFT_VERDICT_ACCEPT:
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NF_ACCEPT);
			break;
		case NFT_VERDICT_DROP:
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NF_DROP);
			break;
		case NFT_VERDICT_JUMP:
		case NFT_VERDICT_GOTO:
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT,
					       data->verdict == NFT_VERDICT_JUMP ? (uint32_t)NFT_JUMP : (uint32_t)NFT_GOTO);
			nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, data->chain);
			break;
		case NFT_VERDICT_NONE:
			break;
		}
	}
	nftnl_set_elem_add(s, e);
	return 0;
}

static bool bytes_inc(uint8_t *b, size_t n)
{
	for (size_t i = n; i-- > 0;)
		if (++b[i] != 0)
			return true;
	return false;
}

static int elem_cmp(const void *a, const void *b, void *arg)
{
	return memcmp(((const struct nft_elem *)a)->lo, ((const struct nft_elem *)b)->lo, *(size_t *)arg);
}

/* Interval sets are sent as nft sends them: a start element for each range, an end element
 * (flagged INTERVAL_END) at hi + 1 unless the range reaches the top of the key space, and
 * an end element at 0 when the first range does not start there. */
static int encode_elems(const struct nft_set *set, struct nftnl_set *s)
{
	size_t kl = nft_key_len(set->key);
	if (!set->interval) {
		for (size_t i = 0; i < set->n_elems; i++) {
			int rc = add_elem(s, set->elems[i].lo, kl, 0, set->vmap ? &set->elems[i] : NULL);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (set->n_elems == 0)
		return 0;
	struct nft_elem *sorted = malloc(set->n_elems * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, set->elems, set->n_elems * sizeof(*sorted));
	qsort_r(sorted, set->n_elems, sizeof(*sorted), elem_cmp, &kl);
	int rc = 0;
	static const uint8_t zero[16];
	if (memcmp(sorted[0].lo, zero, kl) != 0 && (rc = add_elem(s, zero, kl, NFT_SET_ELEM_INTERVAL_END, NULL)))
		goto out;
	for (size_t i = 0; i < set->n_elems; i++) {
		if (i > 0 && memcmp(sorted[i - 1].hi, sorted[i].lo, kl) >= 0) {
			rc = -EINVAL; /* overlapping ranges */
			goto out;
		}
		if ((rc = add_elem(s, sorted[i].lo, kl, 0, set->vmap ? &sorted[i] : NULL)))
			goto out;
		uint8_t end[16];
		memcpy(end, sorted[i].hi, kl);
		if (bytes_inc(end, kl) && (rc = add_elem(s, end, kl, NFT_SET_ELEM_INTERVAL_END, NULL)))
			goto out;
	}
out:
	free(sorted);
	return rc;
}

static struct nftnl_set *encode_set(const struct nft_ruleset *rs, const struct nft_set *set, uint32_t id,
				    int *err)
{
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	uint32_t flags = 0;
	if (set->interval)
		flags |= NFT_SET_INTERVAL;
	if (set->vmap)
		flags |= NFT_SET_MAP;
	if (set->timeout_ms)
		flags |= NFT_SET_TIMEOUT;
	if (set->dynamic)
		flags |= NFT_SET_EVAL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, rs->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set->name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type(set->key));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, (uint32_t)nft_key_len(set->key));
	if (set->timeout_ms)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, set->timeout_ms);
	if (set->size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, set->size);
	/* The user data nft(8) writes, so that `nft list` can print keys and verdicts: the key
	 * byte order (2 = big endian, 1 = host: only interface names), and for verdict maps the
	 * data byte order (0: none) and that the data is not an interval. */
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud) {
		nftnl_set_free(s);
		*err = -ENOMEM;
		return NULL;
	}
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, set->key == NFT_KEY_IFNAME ? 1 : 2);
	if (set->vmap) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, 0);
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	*err = encode_elems(set, s);
	if (*err) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* ---- rules ---- */

struct rule_enc {
	struct nftnl_rule *r;
	const struct nft_ruleset *rs;
	const struct nft_index *sets; /* set name -> position */
	int nfproto;  /* dependency already matched in this rule, or -1 */
	int l4proto;
	int err;
};

static struct nftnl_expr *expr(struct rule_enc *re, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (!e && !re->err)
		re->err = -ENOMEM;
	return e;
}

static void add(struct rule_enc *re, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(re->r, e);
}

static void meta(struct rule_enc *re, uint32_t key)
{
	struct nftnl_expr *e = expr(re, "meta");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	add(re, e);
}

static void cmp(struct rule_enc *re, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(re, "cmp");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	add(re, e);
}

static void payload(struct rule_enc *re, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = expr(re, "payload");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	add(re, e);
}

/* Sets are numbered from 1 in the batch (0 means none) so rules can name them by id. */
static uint32_t set_id_of(const struct rule_enc *re, const char *name)
{
	uint32_t i;
	return nft_index_find(re->sets, name, &i) ? i + 1 : 0;
}

static void lookup(struct rule_enc *re, const char *set, bool verdict)
{
	uint32_t id = set_id_of(re, set);
	if (!id) {
		if (!re->err)
			re->err = -EINVAL;
		return;
	}
	struct nftnl_expr *e = expr(re, "lookup");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (verdict)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	add(re, e);
}

static void dep_nfproto(struct rule_enc *re, uint32_t family)
{
	uint8_t v = family == NFT_V6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	if (re->nfproto == v)
		return;
	meta(re, NFT_META_NFPROTO);
	cmp(re, NFT_CMP_EQ, &v, 1);
	re->nfproto = v;
}

static void dep_l4proto(struct rule_enc *re, uint32_t proto)
{
	uint8_t v = (uint8_t)proto;
	if (re->l4proto == v)
		return;
	meta(re, NFT_META_L4PROTO);
	cmp(re, NFT_CMP_EQ, &v, 1);
	re->l4proto = v;
}

static void verdict(struct rule_enc *re, int code, const char *chain)
{
	struct nftnl_expr *e = expr(re, "immediate");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)code);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	add(re, e);
}

static void reject(struct rule_enc *re, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = expr(re, "reject");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	add(re, e);
}

static void ifname(struct rule_enc *re, uint32_t key, const char *name)
{
	char buf[NFT_IFNAME_LEN] = { 0 };
	strncpy(buf, name, sizeof(buf) - 1);
	meta(re, key);
	cmp(re, NFT_CMP_EQ, buf, sizeof(buf));
}

static void addr_payload(struct rule_enc *re, uint32_t family, bool source)
{
	dep_nfproto(re, family);
	if (family == NFT_V6)
		payload(re, NFT_PAYLOAD_NETWORK_HEADER, source ? 8 : 24, 16);
	else
		payload(re, NFT_PAYLOAD_NETWORK_HEADER, source ? 12 : 16, 4);
}

static void encode_stmt(struct rule_enc *re, const struct nft_stmt *s)
{
	switch (s->kind) {
	case NFT_M_IIFNAME:
		ifname(re, NFT_META_IIFNAME, s->name);
		break;
	case NFT_M_OIFNAME:
		ifname(re, NFT_META_OIFNAME, s->name);
		break;
	case NFT_M_IIFNAME_SET:
	case NFT_M_OIFNAME_SET:
		meta(re, s->kind == NFT_M_IIFNAME_SET ? NFT_META_IIFNAME : NFT_META_OIFNAME);
		lookup(re, s->name, false);
		break;
	case NFT_M_NFPROTO:
		dep_nfproto(re, s->arg);
		break;
	case NFT_M_L4PROTO:
		dep_l4proto(re, s->arg);
		break;
	case NFT_M_CT_STATE: {
		struct nftnl_expr *e = expr(re, "ct");
		if (!e)
			break;
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		add(re, e);
		uint32_t mask = s->arg, zero = 0;
		struct nftnl_expr *b = expr(re, "bitwise");
		if (!b)
			break;
		nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_LEN, 4);
		nftnl_expr_set(b, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
		nftnl_expr_set(b, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
		add(re, b);
		cmp(re, NFT_CMP_NEQ, &zero, 4);
		break;
	}
	case NFT_M_SADDR_SET:
	case NFT_M_DADDR_SET:
		addr_payload(re, s->arg, s->kind == NFT_M_SADDR_SET);
		lookup(re, s->name, false);
		break;
	case NFT_M_DPORT: {
		uint16_t port = htons(s->port);
		dep_l4proto(re, s->arg);
		payload(re, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		cmp(re, NFT_CMP_EQ, &port, 2);
		break;
	}
	case NFT_M_DPORT_SET:
		dep_l4proto(re, s->arg);
		payload(re, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		lookup(re, s->name, false);
		break;
	case NFT_M_ICMP_ECHO: {
		uint8_t type = s->arg == NFT_V6 ? 128 : 8;
		dep_nfproto(re, s->arg);
		dep_l4proto(re, s->arg == NFT_V6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
		payload(re, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		cmp(re, NFT_CMP_EQ, &type, 1);
		break;
	}
	case NFT_M_ICMPV6_TYPE_SET:
		dep_nfproto(re, NFT_V6);
		dep_l4proto(re, IPPROTO_ICMPV6);
		payload(re, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		lookup(re, s->name, false);
		break;
	case NFT_M_OIFNAME_NOT: {
		char buf[NFT_IFNAME_LEN] = { 0 };
		strncpy(buf, s->name, sizeof(buf) - 1);
		meta(re, NFT_META_OIFNAME);
		cmp(re, NFT_CMP_NEQ, buf, sizeof(buf));
		break;
	}
	case NFT_M_MARK: {
		uint32_t mark = s->arg; /* host byte order, as the kernel keeps skb->mark */
		meta(re, NFT_META_MARK);
		cmp(re, NFT_CMP_EQ, &mark, 4);
		break;
	}
	case NFT_M_DADDR:
		addr_payload(re, s->arg, false);
		cmp(re, NFT_CMP_EQ, s->addr, s->arg == NFT_V6 ? 16 : 4);
		break;
	case NFT_M_SPORT_DPORT: {
		uint16_t ports[2] = { htons(s->sport), htons(s->port) };
		dep_l4proto(re, s->arg);
		payload(re, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4);
		cmp(re, NFT_CMP_EQ, ports, 4);
		break;
	}
	case NFT_S_COUNTER:
		add(re, expr(re, "counter"));
		break;
	case NFT_S_LIMIT_OVER: {
		uint32_t id = set_id_of(re, s->name);
		if (!id) {
			if (!re->err)
				re->err = -EINVAL;
			break;
		}
		addr_payload(re, s->arg, true);
		struct nftnl_expr *d = expr(re, "dynset");
		struct nftnl_expr *l = expr(re, "limit");
		if (!d || !l) {
			if (d)
				nftnl_expr_free(d);
			if (l)
				nftnl_expr_free(l);
			break;
		}
		nftnl_expr_set_u64(l, NFTNL_EXPR_LIMIT_RATE, s->rate);
		nftnl_expr_set_u64(l, NFTNL_EXPR_LIMIT_UNIT, s->unit_s);
		nftnl_expr_set_u32(l, NFTNL_EXPR_LIMIT_BURST, s->burst);
		nftnl_expr_set_u32(l, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(l, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
		nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
		nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
		nftnl_expr_set_str(d, NFTNL_EXPR_DYNSET_SET_NAME, s->name);
		nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_SET_ID, id);
		nftnl_expr_add_expr(d, NFTNL_EXPR_DYNSET_EXPRESSIONS, l);
		add(re, d);
		break;
	}
	case NFT_S_MASQUERADE:
		add(re, expr(re, "masq"));
		break;
	case NFT_S_DNAT: {
		/* As nft 1.0: [ immediate reg 1 ADDR ] [ nat dnat ip|ip6 addr_min reg 1 ] */
		if (re->nfproto != (s->arg == NFT_V6 ? NFPROTO_IPV6 : NFPROTO_IPV4) && !re->err)
			re->err = -EINVAL; /* the family must be matched first */
		struct nftnl_expr *i = expr(re, "immediate");
		if (!i)
			break;
		nftnl_expr_set_u32(i, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(i, NFTNL_EXPR_IMM_DATA, s->addr, s->arg == NFT_V6 ? 16 : 4);
		add(re, i);
		struct nftnl_expr *n = expr(re, "nat");
		if (!n)
			break;
		nftnl_expr_set_u32(n, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(n, NFTNL_EXPR_NAT_FAMILY, s->arg == NFT_V6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		nftnl_expr_set_u32(n, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		add(re, n);
		break;
	}
	case NFT_S_FLOW_ADD: {
		if (!re->rs->flowtable || strcmp(re->rs->flowtable->name, s->name) != 0) {
			if (!re->err)
				re->err = -EINVAL;
			break;
		}
		struct nftnl_expr *e = expr(re, "flow_offload");
		if (!e)
			break;
		nftnl_expr_set_str(e, NFTNL_EXPR_FLOW_TABLE_NAME, s->name);
		add(re, e);
		break;
	}
	case NFT_V_ACCEPT:
		verdict(re, NF_ACCEPT, NULL);
		break;
	case NFT_V_DROP:
		verdict(re, NF_DROP, NULL);
		break;
	case NFT_V_JUMP:
		verdict(re, NFT_JUMP, s->name);
		break;
	case NFT_V_GOTO:
		verdict(re, NFT_GOTO, s->name);
		break;
	case NFT_V_REJECT_TCP:
		if (re->l4proto != IPPROTO_TCP && !re->err)
			re->err = -EINVAL; /* a TCP reset needs a TCP packet */
		reject(re, NFT_REJECT_TCP_RST, 0);
		break;
	case NFT_V_REJECT_PORT:
		reject(re, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH);
		break;
	case NFT_V_VMAP_DADDR:
		addr_payload(re, s->arg, false);
		lookup(re, s->name, true);
		break;
	case NFT_V_VMAP_DPORT:
		dep_l4proto(re, s->arg);
		payload(re, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		lookup(re, s->name, true);
		break;
	}
}

static struct nftnl_rule *encode_rule(const struct nft_ruleset *rs, const struct nft_rule *rule,
				      const struct nft_index *chains, const struct nft_index *sets, int *err)
{
	struct rule_enc re = { .rs = rs, .sets = sets, .nfproto = -1, .l4proto = -1 };
	re.r = nftnl_rule_alloc();
	if (!re.r) {
		*err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_set_u32(re.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(re.r, NFTNL_RULE_TABLE, rs->table);
	nftnl_rule_set_str(re.r, NFTNL_RULE_CHAIN, rule->chain);
	uint32_t unused;
	if (!nft_index_find(chains, rule->chain, &unused))
		re.err = -EINVAL;
	for (size_t i = 0; i < rule->n_stmts && !re.err; i++)
		encode_stmt(&re, &rule->stmts[i]);
	if (!re.err)
		re.err = put_comment(rule->comment, re.r, rule_setter, NFTNL_RULE_USERDATA);
	if (re.err) {
		nftnl_rule_free(re.r);
		*err = re.err;
		return NULL;
	}
	*err = 0;
	return re.r;
}

static const char *chain_name_at(const void *ctx, size_t i)
{
	return ((const struct nft_ruleset *)ctx)->chains[i].name;
}

static const char *set_name_at(const void *ctx, size_t i)
{
	return ((const struct nft_ruleset *)ctx)->sets[i]->name;
}

int nft_encode(const struct nft_ruleset *rs, struct nft_objects *out)
{
	struct nft_objects o;
	struct nft_index chains = { 0 }, sets = { 0 };
	memset(&o, 0, sizeof(o));
	int rc = rs->error;
	if (rc)
		return rc;
	if ((rc = nft_index_build(&chains, rs->n_chains, chain_name_at, rs)) ||
	    (rc = nft_index_build(&sets, rs->n_sets, set_name_at, rs)))
		goto out;
	o.chains = calloc(rs->n_chains + 1, sizeof(*o.chains));
	o.sets = calloc(rs->n_sets + 1, sizeof(*o.sets));
	o.rules = calloc(rs->n_rules + 1, sizeof(*o.rules));
	o.table = encode_table(rs);
	if (rs->flowtable)
		o.flowtable = encode_flowtable(rs, rs->flowtable);
	if (!o.chains || !o.sets || !o.rules || !o.table || (rs->flowtable && !o.flowtable)) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		if (!(o.chains[o.n_chains] = encode_chain(rs, &rs->chains[i]))) {
			rc = -ENOMEM;
			goto out;
		}
		o.n_chains++;
	}
	for (size_t i = 0; i < rs->n_sets; i++) {
		if (!(o.sets[o.n_sets] = encode_set(rs, rs->sets[i], (uint32_t)i + 1, &rc)))
			goto out;
		o.n_sets++;
	}
	for (size_t i = 0; i < rs->n_rules; i++) {
		if (!(o.rules[o.n_rules] = encode_rule(rs, &rs->rules[i], &chains, &sets, &rc)))
			goto out;
		o.n_rules++;
	}
out:
	nft_index_free(&chains);
	nft_index_free(&sets);
	if (rc) {
		nft_objects_free(&o);
		return rc;
	}
	*out = o;
	return 0;
}
