// SPDX-License-Identifier: GPL-2.0
/*
 * nym_awg: the AmneziaWG 1.0 wire transform (Nym spec wireguard.md section 1.1) around the
 * UDP datagrams of the stock wireguard.ko.
 *
 * The module never touches WireGuard itself. Netfilter hooks in the namespaces that asked
 * for it watch the UDP port of a configured device: LOCAL_OUT encodes what the device
 * sends (junk datagrams before an initiation, the S1/S2 prefix, the replaced type word),
 * LOCAL_IN decodes what arrives before the UDP layer hands it to WireGuard's socket.
 * Configuration comes over the generic netlink family "nym_awg" (uapi/nym_awg.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <asm/unaligned.h>
#include <net/checksum.h>
#include <net/genetlink.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/rtnetlink.h>

#include "uapi/nym_awg.h"

#define WG_SIZE_INIT		148
#define WG_SIZE_RESPONSE	92
#define WG_SIZE_COOKIE		64
#define WG_SIZE_TRANSPORT_MIN	32

/* The limits of spec section 1.1 and NymVPN's validate() (section 1.6), as lib/awg. */
#define AWG_MAX_JC		128
#define AWG_MAX_SIZE		1280

/*
 * Learned AWG endpoints of a RESPONDER. Learning is not authenticated (WireGuard checks
 * the datagram only after us), so the table is bounded and idle entries are dropped.
 */
#define NYM_AWG_EP_BITS		8
#define NYM_AWG_EP_MAX		4096
#define NYM_AWG_EP_IDLE		(600 * HZ)

struct nym_awg_params {
	u16 jc, jmin, jmax, s1, s2;
	u32 h_conf[4];	/* as configured (GET) */
	u32 h[4];	/* effective type word of WireGuard types 1..4 */
	bool wire;	/* S1, S2 or a header differs from plain WireGuard */
};

struct nym_awg_stats {
	u64 c[__NYM_AWG_C_MAX];
};

struct nym_awg_ep {
	struct hlist_node node;
	struct rcu_head rcu;
	unsigned long seen;
	struct in6_addr addr;	/* IPv4 as v4-mapped */
	__be16 port;
};

struct nym_awg_dev {
	struct list_head list;
	struct rcu_head rcu;
	int ifindex;
	char ifname[IFNAMSIZ];
	__be16 port;
	u8 mode;
	struct nym_awg_params p;
	struct nym_awg_stats __percpu *stats;
	u32 seed;
	spinlock_t ep_lock;	/* writers of eps and ep_count */
	unsigned int ep_count;
	DECLARE_HASHTABLE(eps, NYM_AWG_EP_BITS);
};

/* Per namespace; devs and hooked change under RTNL, devs is read under RCU. */
struct nym_awg_net {
	struct list_head devs;
	bool hooked;
};

static unsigned int nym_awg_net_id __read_mostly;

/* Set while this CPU sends junk, so that our own hook lets it pass. */
static DEFINE_PER_CPU(bool, nym_awg_junk_xmit);

static void nym_awg_count(struct nym_awg_dev *d, int c)
{
	this_cpu_inc(d->stats->c[c]);
}

/* ---- classification ---- */

/* The plain WireGuard type of a payload (type word, length), or 0. */
static unsigned int nym_awg_wg_type(u32 type, unsigned int len)
{
	switch (type) {
	case 1:
		return len == WG_SIZE_INIT ? 1 : 0;
	case 2:
		return len == WG_SIZE_RESPONSE ? 2 : 0;
	case 3:
		return len == WG_SIZE_COOKIE ? 3 : 0;
	case 4:
		return len >= WG_SIZE_TRANSPORT_MIN ? 4 : 0;
	}
	return 0;
}

static bool nym_awg_word(const struct sk_buff *skb, unsigned int off, u32 *word)
{
	__le32 buf;
	const __le32 *p = skb_header_pointer(skb, off, sizeof(buf), &buf);

	if (!p)
		return false;
	*word = le32_to_cpu(get_unaligned(p));
	return true;
}

/*
 * Spec section 1.1: a datagram of the size of a handshake, cookie or keepalive message
 * (plus its prefix) must carry that message's header after the prefix; anything else
 * must start with H4. Returns the WireGuard type and the prefix length, or 0.
 */
static unsigned int nym_awg_classify(const struct nym_awg_params *p, const struct sk_buff *skb,
				     unsigned int doff, unsigned int len, unsigned int *pre)
{
	const unsigned int size[4] = { WG_SIZE_INIT + p->s1, WG_SIZE_RESPONSE + p->s2,
				       WG_SIZE_COOKIE, WG_SIZE_TRANSPORT_MIN };
	const unsigned int prefix[4] = { p->s1, p->s2, 0, 0 };
	unsigned int i;
	u32 w;

	for (i = 0; i < 4; i++) {
		if (len == size[i] && nym_awg_word(skb, doff + prefix[i], &w) && w == p->h[i]) {
			*pre = prefix[i];
			return i + 1;
		}
	}
	if (len >= WG_SIZE_TRANSPORT_MIN && nym_awg_word(skb, doff, &w) && w == p->h[3]) {
		*pre = 0;
		return 4;
	}
	return 0;
}

/* ---- packet access ---- */

struct nym_awg_pkt {
	u8 family;
	unsigned int thoff;	/* UDP header, from skb->data */
	unsigned int doff;	/* UDP payload */
	unsigned int len;	/* UDP payload length */
	struct in6_addr peer;	/* remote address, IPv4 as v4-mapped */
	__be16 peer_port;
};

static struct nym_awg_dev *nym_awg_match(struct net *net, struct sk_buff *skb, u8 family,
					 bool out, struct nym_awg_pkt *pk)
{
	struct nym_awg_net *an = net_generic(net, nym_awg_net_id);
	const struct udphdr *uh;
	struct nym_awg_dev *d;
	struct udphdr _uh;
	unsigned int ulen;
	__be16 port;

	if (family == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->protocol != IPPROTO_UDP || ip_is_fragment(iph))
			return NULL;
		pk->thoff = skb_network_offset(skb) + ip_hdrlen(skb);
		ipv6_addr_set_v4mapped(out ? iph->daddr : iph->saddr, &pk->peer);
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		/* WireGuard sends no extension headers. */
		if (ip6h->nexthdr != IPPROTO_UDP)
			return NULL;
		pk->thoff = skb_network_offset(skb) + sizeof(*ip6h);
		pk->peer = out ? ip6h->daddr : ip6h->saddr;
	}
	uh = skb_header_pointer(skb, pk->thoff, sizeof(_uh), &_uh);
	if (!uh)
		return NULL;
	port = out ? uh->source : uh->dest;
	list_for_each_entry_rcu(d, &an->devs, list) {
		if (d->port != port)
			continue;
		ulen = ntohs(uh->len);
		/* A bad length is the UDP layer's to drop. */
		if (ulen < sizeof(*uh) || ulen > skb->len - pk->thoff)
			return NULL;
		pk->family = family;
		pk->doff = pk->thoff + sizeof(*uh);
		pk->len = ulen - sizeof(*uh);
		pk->peer_port = out ? uh->dest : uh->source;
		return d;
	}
	return NULL;
}

/* ---- learned endpoints (RESPONDER) ---- */

static u32 nym_awg_ep_hash(const struct nym_awg_dev *d, const struct in6_addr *a, __be16 port)
{
	return jhash2((const u32 *)a->s6_addr32, 4, d->seed ^ (__force u32)port);
}

static struct nym_awg_ep *nym_awg_ep_find(struct nym_awg_dev *d, const struct in6_addr *a,
					  __be16 port, u32 h)
{
	struct nym_awg_ep *e;

	hash_for_each_possible_rcu(d->eps, e, node, h) {
		if (e->port == port && ipv6_addr_equal(&e->addr, a))
			return e;
	}
	return NULL;
}

static void nym_awg_ep_learn(struct nym_awg_dev *d, const struct nym_awg_pkt *pk)
{
	u32 h = nym_awg_ep_hash(d, &pk->peer, pk->peer_port);
	unsigned long now = jiffies;
	struct nym_awg_ep *e;
	struct hlist_node *t;

	e = nym_awg_ep_find(d, &pk->peer, pk->peer_port, h);
	if (e) {
		if (READ_ONCE(e->seen) != now)
			WRITE_ONCE(e->seen, now);
		return;
	}
	spin_lock_bh(&d->ep_lock);
	if (nym_awg_ep_find(d, &pk->peer, pk->peer_port, h))
		goto out;
	/* Idle entries of this bucket go first; that bounds the work per insertion. */
	hash_for_each_possible_safe(d->eps, e, t, node, h) {
		if (time_after(now, READ_ONCE(e->seen) + NYM_AWG_EP_IDLE)) {
			hash_del_rcu(&e->node);
			kfree_rcu(e, rcu);
			d->ep_count--;
		}
	}
	if (d->ep_count >= NYM_AWG_EP_MAX) {
		nym_awg_count(d, NYM_AWG_C_LEARN_FULL);
		goto out;
	}
	e = kzalloc(sizeof(*e), GFP_ATOMIC);
	if (!e) {
		nym_awg_count(d, NYM_AWG_C_NOMEM);
		goto out;
	}
	e->addr = pk->peer;
	e->port = pk->peer_port;
	e->seen = now;
	hash_add_rcu(d->eps, &e->node, h);
	d->ep_count++;
out:
	spin_unlock_bh(&d->ep_lock);
}

static void nym_awg_ep_forget(struct nym_awg_dev *d, const struct nym_awg_pkt *pk)
{
	u32 h = nym_awg_ep_hash(d, &pk->peer, pk->peer_port);
	struct nym_awg_ep *e;

	if (!nym_awg_ep_find(d, &pk->peer, pk->peer_port, h))
		return;
	spin_lock_bh(&d->ep_lock);
	e = nym_awg_ep_find(d, &pk->peer, pk->peer_port, h);
	if (e) {
		hash_del_rcu(&e->node);
		kfree_rcu(e, rcu);
		d->ep_count--;
	}
	spin_unlock_bh(&d->ep_lock);
}

/* ---- rewriting ---- */

/* Lengths and checksums after the payload changed size; the UDP checksum in software. */
static void nym_awg_fix_out(struct sk_buff *skb, u8 family, unsigned int thoff)
{
	struct udphdr *uh = (struct udphdr *)(skb->data + thoff);
	unsigned int ulen = skb->len - thoff;
	__wsum csum;

	uh->len = htons(ulen);
	if (family == NFPROTO_IPV4) {
		struct iphdr *iph = ip_hdr(skb);
		bool nocsum = skb->ip_summed != CHECKSUM_PARTIAL && !uh->check;

		iph->tot_len = htons(skb->len - skb_network_offset(skb));
		ip_send_check(iph);
		skb->ip_summed = CHECKSUM_NONE;
		if (nocsum)
			return;
		uh->check = 0;
		csum = skb_checksum(skb, thoff, ulen, 0);
		uh->check = csum_tcpudp_magic(iph->saddr, iph->daddr, ulen, IPPROTO_UDP, csum);
	} else {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		ip6h->payload_len = htons(skb->len - skb_network_offset(skb) - sizeof(*ip6h));
		skb->ip_summed = CHECKSUM_NONE;
		uh->check = 0;
		csum = skb_checksum(skb, thoff, ulen, 0);
		uh->check = csum_ipv6_magic(&ip6h->saddr, &ip6h->daddr, ulen, IPPROTO_UDP, csum);
	}
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
}

/* Replaces the type word at doff (writable), keeping the UDP checksum right. */
static void nym_awg_set_word(struct sk_buff *skb, const struct nym_awg_pkt *pk, u32 word)
{
	struct udphdr *uh = (struct udphdr *)(skb->data + pk->thoff);
	u8 *w = skb->data + pk->doff;
	__be32 from, to;

	memcpy(&from, w, sizeof(from));
	put_unaligned_le32(word, w);
	memcpy(&to, w, sizeof(to));
	if (skb->ip_summed == CHECKSUM_PARTIAL || skb->ip_summed == CHECKSUM_UNNECESSARY)
		return;
	if (pk->family == NFPROTO_IPV4 && !uh->check)
		return;
	/* The word sits at an even offset of the UDP header, so it adds as it is. */
	csum_replace4(&uh->check, from, to);
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
}

static void nym_awg_send_junk(struct net *net, struct nym_awg_dev *d, struct sk_buff *skb,
			      const struct nym_awg_pkt *pk)
{
	struct dst_entry *dst = skb_dst(skb);
	unsigned int span, hdrlen = pk->doff, i;
	unsigned int room;

	if (!dst)
		return;
	room = LL_RESERVED_SPACE(dst->dev);
	span = d->p.jmax > d->p.jmin ? d->p.jmax - d->p.jmin : 1;
	local_bh_disable();
	for (i = 0; i < d->p.jc; i++) {
		unsigned int n = d->p.jmin + get_random_u32_below(span);
		struct sk_buff *j = alloc_skb(room + hdrlen + n, GFP_ATOMIC);
		int err;

		if (!j) {
			nym_awg_count(d, NYM_AWG_C_NOMEM);
			break;
		}
		skb_reserve(j, room);
		skb_put_data(j, skb->data, hdrlen);
		get_random_bytes(skb_put(j, n), n);
		skb_reset_network_header(j);
		skb_set_transport_header(j, pk->thoff);
		j->protocol = skb->protocol;
		j->mark = skb->mark;
		j->priority = skb->priority;
		skb_dst_set(j, dst_clone(dst));
		if (pk->family == NFPROTO_IPV4)
			__ip_select_ident(net, ip_hdr(j), 1);
		nym_awg_fix_out(j, pk->family, pk->thoff);
		__this_cpu_write(nym_awg_junk_xmit, true);
		if (pk->family == NFPROTO_IPV4)
			err = ip_local_out(net, NULL, j);
		else
			err = ip6_local_out(net, NULL, j);
		__this_cpu_write(nym_awg_junk_xmit, false);
		if (!net_xmit_eval(err))
			nym_awg_count(d, NYM_AWG_C_TX_JUNK);
	}
	local_bh_enable();
}

static unsigned int nym_awg_out(struct net *net, struct sk_buff *skb, u8 family)
{
	struct nym_awg_pkt pk;
	struct nym_awg_dev *d;
	unsigned int t, pre;
	u8 *at;
	u32 w;

	if (__this_cpu_read(nym_awg_junk_xmit))
		return NF_ACCEPT;
	d = nym_awg_match(net, skb, family, true, &pk);
	if (!d)
		return NF_ACCEPT;
	t = nym_awg_word(skb, pk.doff, &w) ? nym_awg_wg_type(w, pk.len) : 0;
	if (!t || skb_is_gso(skb)) {
		/* Only WireGuard sends from the port; nothing else leaves it unencoded. */
		nym_awg_count(d, NYM_AWG_C_TX_DROPPED);
		return NF_DROP;
	}
	if (d->mode == NYM_AWG_MODE_RESPONDER &&
	    !nym_awg_ep_find(d, &pk.peer, pk.peer_port,
			     nym_awg_ep_hash(d, &pk.peer, pk.peer_port))) {
		nym_awg_count(d, NYM_AWG_C_TX_PLAIN);
		return NF_ACCEPT;
	}
	if (t == 1 && d->p.jc) {
		if (skb_ensure_writable(skb, pk.doff))
			goto nomem;
		nym_awg_send_junk(net, d, skb, &pk);
	}
	pre = t == 1 ? d->p.s1 : t == 2 ? d->p.s2 : 0;
	if (pre) {
		/* Handshake messages are small: the whole datagram becomes linear. */
		if (skb_cow_head(skb, pre) || skb_ensure_writable(skb, skb->len))
			goto nomem;
		skb_push(skb, pre);
		memmove(skb->data, skb->data + pre, pk.doff);
		skb_reset_network_header(skb);
		skb_set_transport_header(skb, pk.thoff);
		at = skb->data + pk.doff;
		get_random_bytes(at, pre);
		put_unaligned_le32(d->p.h[t - 1], at + pre);
		nym_awg_fix_out(skb, family, pk.thoff);
	} else {
		if (skb_ensure_writable(skb, pk.doff + sizeof(u32)))
			goto nomem;
		nym_awg_set_word(skb, &pk, d->p.h[t - 1]);
	}
	nym_awg_count(d, NYM_AWG_C_TX_ENCODED);
	return NF_ACCEPT;
nomem:
	nym_awg_count(d, NYM_AWG_C_NOMEM);
	return NF_DROP;
}

/* Data from the network: the UDP checksum is checked before the datagram changes. */
static bool nym_awg_csum_ok(struct sk_buff *skb, const struct nym_awg_pkt *pk, unsigned int hook)
{
	const struct udphdr *uh = (const struct udphdr *)(skb->data + pk->thoff);

	if (pk->family == NFPROTO_IPV4 && !uh->check)
		return true;
	if (skb_csum_unnecessary(skb))
		return true;
	return !nf_checksum(skb, hook, pk->thoff, IPPROTO_UDP, pk->family);
}

static unsigned int nym_awg_in(struct net *net, struct sk_buff *skb, u8 family, unsigned int hook)
{
	struct nym_awg_pkt pk;
	struct udphdr *uh;
	struct nym_awg_dev *d;
	unsigned int t, pre;
	u32 w;

	d = nym_awg_match(net, skb, family, false, &pk);
	if (!d)
		return NF_ACCEPT;
	t = nym_awg_classify(&d->p, skb, pk.doff, pk.len, &pre);
	if (d->mode == NYM_AWG_MODE_RESPONDER && (!t || !d->p.wire)) {
		/* Plain WireGuard from a peer without AWG; an initiation makes it plain again. */
		t = nym_awg_word(skb, pk.doff, &w) ? nym_awg_wg_type(w, pk.len) : 0;
		if (t) {
			if (t == 1)
				nym_awg_ep_forget(d, &pk);
			nym_awg_count(d, NYM_AWG_C_RX_PLAIN);
			return NF_ACCEPT;
		}
	}
	if (!t) {
		nym_awg_count(d, NYM_AWG_C_RX_DROPPED);
		return NF_DROP;
	}
	if (skb_ensure_writable(skb, pk.doff + pre + sizeof(u32))) {
		nym_awg_count(d, NYM_AWG_C_NOMEM);
		return NF_DROP;
	}
	if (!nym_awg_csum_ok(skb, &pk, hook)) {
		nym_awg_count(d, NYM_AWG_C_RX_CSUM);
		return NF_DROP;
	}
	if (d->mode == NYM_AWG_MODE_RESPONDER)
		nym_awg_ep_learn(d, &pk);
	if (pre) {
		/* Headers (link layer too, when known) move up over the prefix. */
		int start = skb_mac_header_was_set(skb) ? skb_mac_offset(skb) : 0;

		if (start > 0)
			start = 0;
		memmove(skb->data + start + pre, skb->data + start, pk.doff - start);
		if (skb_mac_header_was_set(skb))
			skb->mac_header += pre;
		__skb_pull(skb, pre);
		skb_reset_network_header(skb);
		skb_set_transport_header(skb, pk.thoff);
		pk.len -= pre;
		uh = (struct udphdr *)(skb->data + pk.thoff);
		uh->len = htons(pk.len + sizeof(*uh));
		if (family == NFPROTO_IPV4) {
			ip_hdr(skb)->tot_len = htons(skb->len - skb_network_offset(skb));
			ip_send_check(ip_hdr(skb));
		} else {
			ipv6_hdr(skb)->payload_len = htons(skb->len - skb_network_offset(skb) -
							   sizeof(struct ipv6hdr));
		}
	}
	put_unaligned_le32(t, skb->data + pk.doff);
	/* Checked above; the checksum on the wire covered the AWG form. */
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb->csum_level = 0;
	nym_awg_count(d, NYM_AWG_C_RX_DECODED);
	return NF_ACCEPT;
}

static unsigned int nym_awg_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	if (state->hook == NF_INET_LOCAL_OUT)
		return nym_awg_out(state->net, skb, state->pf);
	return nym_awg_in(state->net, skb, state->pf, state->hook);
}

/*
 * Encoding comes first on the way out, decoding last on the way in: every other hook (and
 * tcpdump) sees the datagram as it is on the wire.
 */
static const struct nf_hook_ops nym_awg_nf_ops[] = {
	{ .hook = nym_awg_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_OUT,
	  .priority = NF_IP_PRI_FIRST + 1 },
	{ .hook = nym_awg_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_IN,
	  .priority = NF_IP_PRI_LAST - 1 },
	{ .hook = nym_awg_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_OUT,
	  .priority = NF_IP6_PRI_FIRST + 1 },
	{ .hook = nym_awg_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_IN,
	  .priority = NF_IP6_PRI_LAST - 1 },
};

/* ---- configuration ---- */

static void nym_awg_dev_free_rcu(struct rcu_head *rcu)
{
	struct nym_awg_dev *d = container_of(rcu, struct nym_awg_dev, rcu);
	struct nym_awg_ep *e;
	struct hlist_node *t;
	unsigned int b;

	/* A grace period has passed since d left the list: nobody reads its table. */
	hash_for_each_safe(d->eps, b, t, e, node)
		kfree(e);
	free_percpu(d->stats);
	kfree(d);
}

static void nym_awg_dev_remove(struct nym_awg_dev *d)
{
	ASSERT_RTNL();
	list_del_rcu(&d->list);
	call_rcu(&d->rcu, nym_awg_dev_free_rcu);
}

static struct nym_awg_dev *nym_awg_dev_by_index(struct nym_awg_net *an, int ifindex)
{
	struct nym_awg_dev *d;

	list_for_each_entry(d, &an->devs, list) {
		if (d->ifindex == ifindex)
			return d;
	}
	return NULL;
}

/* The rules of lib/awg's awg_params_validate, in its order and with its words. */
static int nym_awg_params_check(const struct nym_awg_params *p, struct netlink_ext_ack *extack)
{
	unsigned int i, k;

	if (p->jmax >= 65535) {
		NL_SET_ERR_MSG(extack, "Jmax must be below 65535 (AWG 1.0 segment size)");
		return -EINVAL;
	}
	if (p->jmin > p->jmax) {
		NL_SET_ERR_MSG(extack, "Jmin must not exceed Jmax (AWG 1.0)");
		return -EINVAL;
	}
	if (WG_SIZE_INIT + p->s1 >= 65535) {
		NL_SET_ERR_MSG(extack, "148 + S1 must be below 65535 (AWG 1.0)");
		return -EINVAL;
	}
	if (WG_SIZE_RESPONSE + p->s2 >= 65535) {
		NL_SET_ERR_MSG(extack, "92 + S2 must be below 65535 (AWG 1.0)");
		return -EINVAL;
	}
	if (p->s1 + 56 == p->s2) {
		NL_SET_ERR_MSG(extack,
			       "S1 + 56 must differ from S2 (AWG 1.0: initiation and response sizes must differ)");
		return -EINVAL;
	}
	for (i = 0; i < 4; i++) {
		for (k = i + 1; k < 4; k++) {
			if (p->h[i] != p->h[k])
				continue;
			NL_SET_ERR_MSG(extack,
				       "H1, H2, H3 and H4 must differ from each other (AWG 1.0, after values <= 4 take their default 1..4)");
			return -EINVAL;
		}
	}
	if (p->jc > AWG_MAX_JC) {
		NL_SET_ERR_MSG(extack, "Jc must be at most 128 (NymVPN validate)");
		return -EINVAL;
	}
	if (p->jmax > AWG_MAX_SIZE) {
		NL_SET_ERR_MSG(extack, "Jmax must be at most 1280 (NymVPN validate)");
		return -EINVAL;
	}
	if (p->s1 > AWG_MAX_SIZE) {
		NL_SET_ERR_MSG(extack, "S1 must be at most 1280 (NymVPN validate)");
		return -EINVAL;
	}
	if (p->s2 > AWG_MAX_SIZE) {
		NL_SET_ERR_MSG(extack, "S2 must be at most 1280 (NymVPN validate)");
		return -EINVAL;
	}
	for (i = 0; i < 4; i++) {
		if (p->h_conf[i] > S32_MAX) {
			NL_SET_ERR_MSG(extack,
				       "H1..H4 must be at most 2147483647 (NymVPN keeps them as i32)");
			return -EINVAL;
		}
	}
	return 0;
}

static const struct nla_policy nym_awg_policy[NYM_AWG_A_MAX + 1] = {
	[NYM_AWG_A_IFINDEX]	= { .type = NLA_U32 },
	[NYM_AWG_A_IFNAME]	= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[NYM_AWG_A_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
	[NYM_AWG_A_MODE]	= NLA_POLICY_RANGE(NLA_U8, NYM_AWG_MODE_INITIATOR,
						   NYM_AWG_MODE_RESPONDER),
	[NYM_AWG_A_JC]		= { .type = NLA_U16 },
	[NYM_AWG_A_JMIN]	= { .type = NLA_U16 },
	[NYM_AWG_A_JMAX]	= { .type = NLA_U16 },
	[NYM_AWG_A_S1]		= { .type = NLA_U16 },
	[NYM_AWG_A_S2]		= { .type = NLA_U16 },
	[NYM_AWG_A_H1]		= { .type = NLA_U32 },
	[NYM_AWG_A_H2]		= { .type = NLA_U32 },
	[NYM_AWG_A_H3]		= { .type = NLA_U32 },
	[NYM_AWG_A_H4]		= { .type = NLA_U32 },
	[NYM_AWG_A_ENDPOINTS]	= { .type = NLA_REJECT },
	[NYM_AWG_A_COUNTERS]	= { .type = NLA_REJECT },
};

static u16 nym_awg_u16(struct nlattr **a, int type)
{
	return a[type] ? nla_get_u16(a[type]) : 0;
}

/* The device named by IFINDEX or IFNAME, in the requester's namespace (RTNL held). */
static struct net_device *nym_awg_netdev(struct net *net, struct genl_info *info)
{
	struct net_device *dev = NULL;

	if (info->attrs[NYM_AWG_A_IFINDEX])
		dev = __dev_get_by_index(net, nla_get_u32(info->attrs[NYM_AWG_A_IFINDEX]));
	else if (info->attrs[NYM_AWG_A_IFNAME])
		dev = __dev_get_by_name(net, nla_data(info->attrs[NYM_AWG_A_IFNAME]));
	else
		NL_SET_ERR_MSG(info->extack, "IFINDEX or IFNAME is required");
	return dev;
}

static int nym_awg_cmd_set(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct nym_awg_net *an = net_generic(net, nym_awg_net_id);
	struct nym_awg_dev *d, *old;
	struct net_device *dev;
	struct nym_awg_params p = { };
	unsigned int i;
	int ret;

	if (!info->attrs[NYM_AWG_A_PORT] || !info->attrs[NYM_AWG_A_MODE]) {
		NL_SET_ERR_MSG(info->extack, "PORT and MODE are required");
		return -EINVAL;
	}
	p.jc = nym_awg_u16(info->attrs, NYM_AWG_A_JC);
	p.jmin = nym_awg_u16(info->attrs, NYM_AWG_A_JMIN);
	p.jmax = nym_awg_u16(info->attrs, NYM_AWG_A_JMAX);
	p.s1 = nym_awg_u16(info->attrs, NYM_AWG_A_S1);
	p.s2 = nym_awg_u16(info->attrs, NYM_AWG_A_S2);
	p.wire = p.s1 || p.s2;
	for (i = 0; i < 4; i++) {
		struct nlattr *a = info->attrs[NYM_AWG_A_H1 + i];

		p.h_conf[i] = a ? nla_get_u32(a) : 0;
		p.h[i] = p.h_conf[i] > 4 ? p.h_conf[i] : i + 1;
		if (p.h[i] != i + 1)
			p.wire = true;
	}
	ret = nym_awg_params_check(&p, info->extack);
	if (ret)
		return ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->stats = alloc_percpu(struct nym_awg_stats);
	if (!d->stats) {
		kfree(d);
		return -ENOMEM;
	}
	d->p = p;
	d->port = htons(nla_get_u16(info->attrs[NYM_AWG_A_PORT]));
	d->mode = nla_get_u8(info->attrs[NYM_AWG_A_MODE]);
	d->seed = get_random_u32();
	spin_lock_init(&d->ep_lock);
	hash_init(d->eps);

	rtnl_lock();
	dev = nym_awg_netdev(net, info);
	if (!dev) {
		if (!info->extack->_msg)
			NL_SET_ERR_MSG(info->extack, "no such device");
		ret = -ENODEV;
		goto fail;
	}
	if (!dev->rtnl_link_ops || strcmp(dev->rtnl_link_ops->kind, "wireguard")) {
		NL_SET_ERR_MSG(info->extack, "the device is not a WireGuard device");
		ret = -EOPNOTSUPP;
		goto fail;
	}
	d->ifindex = dev->ifindex;
	strscpy(d->ifname, dev->name, sizeof(d->ifname));
	list_for_each_entry(old, &an->devs, list) {
		if (old->port == d->port && old->ifindex != d->ifindex) {
			NL_SET_ERR_MSG(info->extack, "another device is configured with this port");
			ret = -EEXIST;
			goto fail;
		}
	}
	if (!an->hooked) {
		ret = nf_register_net_hooks(net, nym_awg_nf_ops, ARRAY_SIZE(nym_awg_nf_ops));
		if (ret)
			goto fail;
		an->hooked = true;
	}
	old = nym_awg_dev_by_index(an, d->ifindex);
	if (old)
		list_replace_rcu(&old->list, &d->list);
	else
		list_add_tail_rcu(&d->list, &an->devs);
	rtnl_unlock();
	if (old)
		call_rcu(&old->rcu, nym_awg_dev_free_rcu);
	return 0;
fail:
	rtnl_unlock();
	free_percpu(d->stats);
	kfree(d);
	return ret;
}

static int nym_awg_cmd_del(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct nym_awg_net *an = net_generic(net, nym_awg_net_id);
	struct net_device *dev;
	struct nym_awg_dev *d;
	int ret = 0;

	rtnl_lock();
	dev = nym_awg_netdev(net, info);
	d = dev ? nym_awg_dev_by_index(an, dev->ifindex) : NULL;
	if (d) {
		nym_awg_dev_remove(d);
	} else {
		if (!info->extack->_msg)
			NL_SET_ERR_MSG(info->extack, "the device is not configured");
		ret = -ENOENT;
	}
	rtnl_unlock();
	return ret;
}

static struct genl_family nym_awg_family;

static int nym_awg_fill(struct sk_buff *skb, const struct nym_awg_dev *d, u32 portid, u32 seq)
{
	struct nym_awg_stats sum = { };
	struct nlattr *nest;
	void *hdr;
	int cpu, i;

	hdr = genlmsg_put(skb, portid, seq, &nym_awg_family, NLM_F_MULTI, NYM_AWG_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	for_each_possible_cpu(cpu) {
		const struct nym_awg_stats *s = per_cpu_ptr(d->stats, cpu);

		for (i = 0; i < __NYM_AWG_C_MAX; i++)
			sum.c[i] += READ_ONCE(s->c[i]);
	}
	if (nla_put_u32(skb, NYM_AWG_A_IFINDEX, d->ifindex) ||
	    nla_put_string(skb, NYM_AWG_A_IFNAME, d->ifname) ||
	    nla_put_u16(skb, NYM_AWG_A_PORT, ntohs(d->port)) ||
	    nla_put_u8(skb, NYM_AWG_A_MODE, d->mode) ||
	    nla_put_u16(skb, NYM_AWG_A_JC, d->p.jc) ||
	    nla_put_u16(skb, NYM_AWG_A_JMIN, d->p.jmin) ||
	    nla_put_u16(skb, NYM_AWG_A_JMAX, d->p.jmax) ||
	    nla_put_u16(skb, NYM_AWG_A_S1, d->p.s1) ||
	    nla_put_u16(skb, NYM_AWG_A_S2, d->p.s2) ||
	    nla_put_u32(skb, NYM_AWG_A_H1, d->p.h_conf[0]) ||
	    nla_put_u32(skb, NYM_AWG_A_H2, d->p.h_conf[1]) ||
	    nla_put_u32(skb, NYM_AWG_A_H3, d->p.h_conf[2]) ||
	    nla_put_u32(skb, NYM_AWG_A_H4, d->p.h_conf[3]) ||
	    nla_put_u32(skb, NYM_AWG_A_ENDPOINTS, READ_ONCE(d->ep_count)))
		goto cancel;
	nest = nla_nest_start(skb, NYM_AWG_A_COUNTERS);
	if (!nest)
		goto cancel;
	for (i = NYM_AWG_C_PAD + 1; i < __NYM_AWG_C_MAX; i++) {
		if (nla_put_u64_64bit(skb, i, sum.c[i], NYM_AWG_C_PAD))
			goto cancel;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int nym_awg_cmd_get(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nym_awg_net *an = net_generic(sock_net(skb->sk), nym_awg_net_id);
	struct nym_awg_dev *d;
	long i = 0, skip = cb->args[0];
	int ret = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(d, &an->devs, list) {
		if (i++ < skip)
			continue;
		ret = nym_awg_fill(skb, d, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq);
		if (ret)
			break;
		cb->args[0] = i;
	}
	rcu_read_unlock();
	if (ret && !skb->len)
		return ret;	/* one device's message does not fit an empty buffer */
	return skb->len;
}

static const struct genl_small_ops nym_awg_ops[] = {
	{ .cmd = NYM_AWG_CMD_SET, .doit = nym_awg_cmd_set, .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = NYM_AWG_CMD_DEL, .doit = nym_awg_cmd_del, .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = NYM_AWG_CMD_GET, .dumpit = nym_awg_cmd_get, .flags = GENL_UNS_ADMIN_PERM },
};

static struct genl_family nym_awg_family __ro_after_init = {
	.name		= NYM_AWG_GENL_NAME,
	.version	= NYM_AWG_GENL_VERSION,
	.maxattr	= NYM_AWG_A_MAX,
	.policy		= nym_awg_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= nym_awg_ops,
	.n_small_ops	= ARRAY_SIZE(nym_awg_ops),
	.resv_start_op	= NYM_AWG_CMD_MAX + 1,
};

/* ---- namespaces, devices, module ---- */

static int nym_awg_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct nym_awg_net *an;
	struct nym_awg_dev *d;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	/* A port of a deleted device may be taken by anything next: forget it. */
	an = net_generic(dev_net(dev), nym_awg_net_id);
	d = nym_awg_dev_by_index(an, dev->ifindex);
	if (d)
		nym_awg_dev_remove(d);
	return NOTIFY_DONE;
}

static struct notifier_block nym_awg_notifier = {
	.notifier_call = nym_awg_netdev_event,
};

static int __net_init nym_awg_net_init(struct net *net)
{
	struct nym_awg_net *an = net_generic(net, nym_awg_net_id);

	INIT_LIST_HEAD(&an->devs);
	an->hooked = false;
	return 0;
}

static void __net_exit nym_awg_net_pre_exit(struct net *net)
{
	struct nym_awg_net *an = net_generic(net, nym_awg_net_id);

	/* Waits for the hooks running now: no packet is inside the module afterwards. */
	if (an->hooked)
		nf_unregister_net_hooks(net, nym_awg_nf_ops, ARRAY_SIZE(nym_awg_nf_ops));
	an->hooked = false;
}

static void __net_exit nym_awg_net_exit(struct net *net)
{
	struct nym_awg_net *an = net_generic(net, nym_awg_net_id);
	struct nym_awg_dev *d, *t;

	rtnl_lock();
	list_for_each_entry_safe(d, t, &an->devs, list)
		nym_awg_dev_remove(d);
	rtnl_unlock();
}

static struct pernet_operations nym_awg_net_ops = {
	.init		= nym_awg_net_init,
	.pre_exit	= nym_awg_net_pre_exit,
	.exit		= nym_awg_net_exit,
	.id		= &nym_awg_net_id,
	.size		= sizeof(struct nym_awg_net),
};

static int __init nym_awg_init(void)
{
	int ret;

	ret = register_pernet_subsys(&nym_awg_net_ops);
	if (ret)
		return ret;
	ret = register_netdevice_notifier(&nym_awg_notifier);
	if (ret)
		goto err_pernet;
	ret = genl_register_family(&nym_awg_family);
	if (ret)
		goto err_notifier;
	pr_info("AmneziaWG 1.0 transform for WireGuard, generic netlink family %s v%d\n",
		NYM_AWG_GENL_NAME, NYM_AWG_GENL_VERSION);
	return 0;
err_notifier:
	unregister_netdevice_notifier(&nym_awg_notifier);
err_pernet:
	unregister_pernet_subsys(&nym_awg_net_ops);
	return ret;
}

static void __exit nym_awg_exit(void)
{
	genl_unregister_family(&nym_awg_family);
	unregister_netdevice_notifier(&nym_awg_notifier);
	unregister_pernet_subsys(&nym_awg_net_ops);
	/* The configurations are freed from RCU callbacks of this module. */
	rcu_barrier();
}

module_init(nym_awg_init);
module_exit(nym_awg_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AmneziaWG 1.0 wire transform for the WireGuard module");
MODULE_AUTHOR("nym-c");
MODULE_ALIAS_GENL_FAMILY(NYM_AWG_GENL_NAME);
