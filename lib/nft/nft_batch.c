#include "nft/nft_batch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/array.h"

/* A set element message may grow to 64 KiB before libnftnl splits it (the netlink attribute
 * length is 16 bits). A message only goes on a page whose limit it fits under, so pages
 * must be larger than that (nft uses 128 KiB); the overrun is the room for writing one
 * message past the limit before it moves to the next page. */
#define PAGE_SIZE_BATCH (256 * 1024)
#define PAGE_OVERRUN (128 * 1024)

struct msg_desc {
	char what[96];
};

struct txn {
	struct nftnl_batch *b;
	struct msg_desc *desc; /* one per message, indexed by seq - first_seq */
	size_t n_desc, cap_desc;
	uint32_t seq, first_seq;
	struct nlmsghdr *last; /* the last message: the only one asking for an acknowledgement */
	size_t bytes;	       /* everything written, to check that every message is sent */
	int err;
};

static void txn_init(struct txn *t)
{
	memset(t, 0, sizeof(*t));
	t->b = nftnl_batch_alloc(PAGE_SIZE_BATCH, PAGE_OVERRUN);
	if (!t->b)
		t->err = -ENOMEM;
	t->seq = (uint32_t)time(NULL);
}

static void txn_free(struct txn *t)
{
	if (t->b)
		nftnl_batch_free(t->b);
	free(t->desc);
}

/* Reserves the next sequence number for a message described by `what`. */
static uint32_t txn_msg(struct txn *t, const char *what)
{
	if (nym_array_grow((void **)&t->desc, &t->cap_desc, t->n_desc + 1, sizeof(*t->desc))) {
		t->err = -ENOMEM;
		return t->seq;
	}
	if (t->n_desc == 0)
		t->first_seq = t->seq;
	snprintf(t->desc[t->n_desc++].what, sizeof(t->desc[0].what), "%s", what);
	return t->seq++;
}

/* Called after each message is written at nftnl_batch_buffer(). A message that overflows
 * its page is moved to the next page by nftnl_batch_update(), so it is found afterwards
 * as the one that ends at the new write position. */
static void txn_next(struct txn *t)
{
	if (t->err)
		return;
	uint32_t len = ((struct nlmsghdr *)nftnl_batch_buffer(t->b))->nlmsg_len;
	t->bytes += len;
	if (nftnl_batch_update(t->b) < 0) {
		t->err = -ENOMEM;
		return;
	}
	t->last = (struct nlmsghdr *)((char *)nftnl_batch_buffer(t->b) - len);
}

static void txn_begin(struct txn *t)
{
	if (t->err)
		return;
	t->bytes += nftnl_batch_begin(nftnl_batch_buffer(t->b), t->seq++)->nlmsg_len;
	if (nftnl_batch_update(t->b) < 0)
		t->err = -ENOMEM;
}

/* Only the last message asks for an acknowledgement: the kernel reports every failing
 * message anyway, and one acknowledgement per message would overflow the socket's receive
 * buffer for a large policy (each is an skb of its own). */
static void txn_end(struct txn *t, bool commit)
{
	if (t->err)
		return;
	if (t->last)
		t->last->nlmsg_flags |= NLM_F_ACK;
	/* Without the end message the kernel checks every message as for a commit, answers,
	 * and then aborts the batch (what `nft --check` does). */
	if (!commit)
		return;
	t->bytes += nftnl_batch_end(nftnl_batch_buffer(t->b), t->seq++)->nlmsg_len;
	if (nftnl_batch_update(t->b) < 0)
		t->err = -ENOMEM;
}

static void txn_table(struct txn *t, uint16_t type, const struct nftnl_table *tab, const char *what)
{
	if (t->err)
		return;
	uint16_t flags = type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0;
	char d[96];
	snprintf(d, sizeof(d), "%s table %s", what, nftnl_table_get_str(tab, NFTNL_TABLE_NAME));
	uint32_t seq = txn_msg(t, d);
	struct nlmsghdr *nlh = nftnl_table_nlmsg_build_hdr(nftnl_batch_buffer(t->b), type, NFPROTO_INET, flags, seq);
	nftnl_table_nlmsg_build_payload(nlh, tab);
	txn_next(t);
}

static void txn_flowtable(struct txn *t, const struct nftnl_flowtable *f)
{
	if (t->err)
		return;
	char d[96];
	snprintf(d, sizeof(d), "flowtable %s", nftnl_flowtable_get_str(f, NFTNL_FLOWTABLE_NAME));
	uint32_t seq = txn_msg(t, d);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(t->b), NFT_MSG_NEWFLOWTABLE, NFPROTO_INET,
						     NLM_F_CREATE | NLM_F_EXCL, seq);
	nftnl_flowtable_nlmsg_build_payload(nlh, f);
	txn_next(t);
}

static void txn_objects(struct txn *t, const struct nft_objects *o)
{
	/* Before the rules that offload to it. */
	if (o->flowtable)
		txn_flowtable(t, o->flowtable);
	for (size_t i = 0; i < o->n_chains && !t->err; i++) {
		char d[96];
		snprintf(d, sizeof(d), "chain %s", nftnl_chain_get_str(o->chains[i], NFTNL_CHAIN_NAME));
		uint32_t seq = txn_msg(t, d);
		struct nlmsghdr *nlh = nftnl_chain_nlmsg_build_hdr(nftnl_batch_buffer(t->b), NFT_MSG_NEWCHAIN,
								   NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL, seq);
		nftnl_chain_nlmsg_build_payload(nlh, o->chains[i]);
		txn_next(t);
	}
	for (size_t i = 0; i < o->n_sets && !t->err; i++) {
		const char *name = nftnl_set_get_str(o->sets[i], NFTNL_SET_NAME);
		char d[96];
		snprintf(d, sizeof(d), "set %s", name);
		uint32_t seq = txn_msg(t, d);
		struct nlmsghdr *nlh = nftnl_set_nlmsg_build_hdr(nftnl_batch_buffer(t->b), NFT_MSG_NEWSET, NFPROTO_INET,
								 NLM_F_CREATE | NLM_F_EXCL, seq);
		nftnl_set_nlmsg_build_payload(nlh, o->sets[i]);
		txn_next(t);
	}
	/* Elements after every chain they jump to and every set exists. */
	for (size_t i = 0; i < o->n_sets && !t->err; i++) {
		struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(o->sets[i]);
		if (!it) {
			t->err = -ENOMEM;
			break;
		}
		const char *name = nftnl_set_get_str(o->sets[i], NFTNL_SET_NAME);
		while (!t->err && nftnl_set_elems_iter_cur(it)) {
			char d[96];
			snprintf(d, sizeof(d), "elements of set %s", name);
			uint32_t seq = txn_msg(t, d);
			struct nlmsghdr *nlh = nftnl_set_elem_nlmsg_build_hdr(nftnl_batch_buffer(t->b), NFT_MSG_NEWSETELEM,
									      NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL,
									      seq);
			int more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
			txn_next(t);
			if (more <= 0)
				break;
		}
		nftnl_set_elems_iter_destroy(it);
	}
	const char *prev = "";
	long idx = 0;
	for (size_t i = 0; i < o->n_rules && !t->err; i++) {
		const char *chain = nftnl_rule_get_str(o->rules[i], NFTNL_RULE_CHAIN);
		idx = strcmp(chain, prev) == 0 ? idx + 1 : 1;
		prev = chain;
		char d[96];
		snprintf(d, sizeof(d), "rule %ld of chain %s", idx, chain);
		uint32_t seq = txn_msg(t, d);
		struct nlmsghdr *nlh = nftnl_rule_nlmsg_build_hdr(nftnl_batch_buffer(t->b), NFT_MSG_NEWRULE, NFPROTO_INET,
								  NLM_F_CREATE | NLM_F_APPEND, seq);
		nftnl_rule_nlmsg_build_payload(nlh, o->rules[i]);
		txn_next(t);
	}
}

static void grow_buffer(int fd, int opt_force, int opt, size_t want)
{
	int v = want > (size_t)(1 << 30) ? (1 << 30) : (int)want;
	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) != 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* Sends the batch and reads the answer. The kernel processes a batch inside sendmsg() and
 * then queues an error for each message it refused and the acknowledgement of the last
 * message; the batch took effect if and only if no error came. */
static int txn_commit(struct txn *t, struct nft_batch_error *err)
{
	if (t->err)
		return t->err;
	if (t->n_desc == 0)
		return 0;
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	int rc = 0;
	char *buf = NULL;
	struct iovec *iov = NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	int fd = mnl_socket_get_fd(nl);
	int one = 1;
	/* Errors then carry only the header of the refused message, not all of it. */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	int iovlen = nftnl_batch_iovec_len(t->b);
	iov = calloc((size_t)iovlen, sizeof(*iov));
	buf = malloc(MNL_SOCKET_BUFFER_SIZE * 8);
	if (!iov || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	nftnl_batch_iovec(t->b, iov, (uint32_t)iovlen);
	size_t total = 0;
	for (int i = 0; i < iovlen; i++)
		total += iov[i].iov_len;
	/* A message that fits no page would silently be left out: refuse to send a batch
	 * that is not all there. */
	if (total != t->bytes) {
		rc = -EMSGSIZE;
		snprintf(err->what, sizeof(err->what), "building the batch (%zu of %zu bytes on pages)", total, t->bytes);
		err->refused = true;
		goto out;
	}
	grow_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, total + 4096);
	grow_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, 4u << 20);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = iov,
			      .msg_iovlen = (size_t)iovlen };
	if (sendmsg(fd, &msg, 0) < 0) {
		rc = -errno;
		snprintf(err->what, sizeof(err->what), "sending the batch");
		err->refused = rc == -EPERM || rc == -EMSGSIZE;
		goto out;
	}
	uint32_t last_seq = t->first_seq + (uint32_t)t->n_desc - 1;
	uint32_t portid = mnl_socket_get_portid(nl);
	bool acked = false, overflow = false;
	int first_err = 0;
	for (int waited_ms = 0; !acked && !first_err && !overflow;) {
		ssize_t n = recv(fd, buf, MNL_SOCKET_BUFFER_SIZE * 8, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			overflow = true; /* more errors than the buffer holds */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (waited_ms >= 5000) {
				rc = -ETIMEDOUT;
				snprintf(err->what, sizeof(err->what), "waiting for the kernel's answer");
				goto out;
			}
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			poll(&pfd, 1, 100);
			waited_ms += 100;
			continue;
		}
		if (n < 0) {
			rc = -errno;
			snprintf(err->what, sizeof(err->what), "reading the kernel's answer");
			goto out;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_pid != portid || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				acked |= nlh->nlmsg_seq == last_seq;
				continue;
			}
			if (!first_err) {
				first_err = e->error;
				uint32_t i = nlh->nlmsg_seq - t->first_seq;
				snprintf(err->what, sizeof(err->what), "%s", i < t->n_desc ? t->desc[i].what : "the batch");
			}
		}
	}
	if (first_err || overflow) {
		err->refused = true;
		rc = first_err ? first_err : -ENOBUFS;
		if (!first_err)
			snprintf(err->what, sizeof(err->what), "the batch (too many errors to read)");
	}
out:
	free(iov);
	free(buf);
	mnl_socket_close(nl);
	return rc;
}

int nft_batch_replace(const struct nft_objects *o, struct nft_batch_error *err)
{
	memset(err, 0, sizeof(*err));
	struct txn t;
	txn_init(&t);
	/* A bare table first, so that the delete below finds one whether or not it existed. */
	struct nftnl_table *bare = nftnl_table_alloc();
	if (!bare)
		t.err = -ENOMEM;
	else {
		nftnl_table_set_u32(bare, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nftnl_table_set_str(bare, NFTNL_TABLE_NAME, nftnl_table_get_str(o->table, NFTNL_TABLE_NAME));
	}
	txn_begin(&t);
	txn_table(&t, NFT_MSG_NEWTABLE, bare, "creating");
	txn_table(&t, NFT_MSG_DELTABLE, bare, "deleting the old");
	txn_table(&t, NFT_MSG_NEWTABLE, o->table, "creating");
	txn_objects(&t, o);
	txn_end(&t, true);
	int rc = txn_commit(&t, err);
	if (bare)
		nftnl_table_free(bare);
	txn_free(&t);
	return rc;
}

int nft_batch_delete_table(const char *name, struct nft_batch_error *err)
{
	memset(err, 0, sizeof(*err));
	struct txn t;
	txn_init(&t);
	struct nftnl_table *tab = nftnl_table_alloc();
	if (!tab)
		t.err = -ENOMEM;
	else {
		nftnl_table_set_u32(tab, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nftnl_table_set_str(tab, NFTNL_TABLE_NAME, name);
	}
	txn_begin(&t);
	txn_table(&t, NFT_MSG_DELTABLE, tab, "deleting");
	txn_end(&t, true);
	int rc = txn_commit(&t, err);
	if (tab)
		nftnl_table_free(tab);
	txn_free(&t);
	return rc == -ENOENT ? 0 : rc;
}

int nft_batch_flowtable_supported(void)
{
	struct nft_ruleset rs;
	struct nft_objects o;
	nft_ruleset_init(&rs, "nym-flowtable-probe");
	nft_add_flowtable(&rs, "probe", 0);
	int rc = nft_encode(&rs, &o);
	nft_ruleset_free(&rs);
	if (rc)
		return rc;
	struct nft_batch_error err;
	memset(&err, 0, sizeof(err));
	struct txn t;
	txn_init(&t);
	txn_begin(&t);
	txn_table(&t, NFT_MSG_NEWTABLE, o.table, "creating");
	txn_objects(&t, &o);
	txn_end(&t, false);
	rc = txn_commit(&t, &err);
	txn_free(&t);
	nft_objects_free(&o);
	if (rc == 0)
		return 1;
	return err.refused && rc != -EPERM ? 0 : rc;
}
