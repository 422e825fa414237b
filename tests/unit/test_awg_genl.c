/* lib/awg/awg_genl's messages: the SET request carries every parameter with the kernel's
 * types (u16 for J*, S*, u32 for H*), and a GET answer parses only when whole. */
#include <criterion/criterion.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <nym_awg.h>
#include <string.h>

#include "awg/awg_genl.h"

static const struct awg_params P = { .jc = 4, .jmin = 40, .jmax = 70, .s1 = 15, .s2 = 30,
				     .h1 = 123456, .h2 = 234567, .h3 = 345678, .h4 = 456789 };

Test(awg_genl, set_request_has_every_attribute)
{
	uint8_t buf[AWG_GENL_MSG_SIZE] __attribute__((aligned(8))) = { 0 };
	cr_assert_eq(awg_genl_build_set(buf, sizeof(buf), 42, "nymwg", 51822, AWG_GENL_MODE_RESPONDER, &P), 0);
	const struct nlmsghdr *nlh = (const void *)buf;
	cr_assert_eq(nlh->nlmsg_type, 42);
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(g->cmd, NYM_AWG_CMD_SET);
	cr_assert_eq(g->version, NYM_AWG_GENL_VERSION);
	unsigned seen = 0;
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		unsigned t = mnl_attr_get_type(a);
		seen |= 1u << t;
		switch (t) {
		case NYM_AWG_A_IFNAME: cr_assert_str_eq(mnl_attr_get_str(a), "nymwg"); break;
		case NYM_AWG_A_PORT: cr_assert_eq(mnl_attr_get_u16(a), 51822); break;
		case NYM_AWG_A_MODE: cr_assert_eq(mnl_attr_get_u8(a), NYM_AWG_MODE_RESPONDER); break;
		case NYM_AWG_A_JC: case NYM_AWG_A_JMIN: case NYM_AWG_A_JMAX: case NYM_AWG_A_S1: case NYM_AWG_A_S2:
			cr_assert_eq(mnl_attr_get_payload_len(a), 2);
			break;
		case NYM_AWG_A_H1: case NYM_AWG_A_H2: case NYM_AWG_A_H3: case NYM_AWG_A_H4:
			cr_assert_eq(mnl_attr_get_payload_len(a), 4);
			break;
		default: cr_assert_fail("unexpected attribute %u", t);
		}
	}
	cr_assert_eq(seen, 0x3ffcu, "attributes 2..13, got %#x", seen);
	cr_assert_eq(awg_genl_build_set(buf, sizeof(buf), 42, "", 1, 1, &P), -EINVAL);
	cr_assert_eq(awg_genl_build_set(buf, sizeof(buf), 42, "a-name-far-too-long", 1, 1, &P), -EINVAL);
}

/* A GET answer as the module writes it; `skip` leaves one attribute out. */
static struct nlmsghdr *answer(uint8_t *buf, unsigned skip)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = NYM_AWG_CMD_GET;
	if (skip != NYM_AWG_A_IFINDEX) mnl_attr_put_u32(nlh, NYM_AWG_A_IFINDEX, 7);
	if (skip != NYM_AWG_A_IFNAME) mnl_attr_put_strz(nlh, NYM_AWG_A_IFNAME, "wgc");
	if (skip != NYM_AWG_A_PORT) mnl_attr_put_u16(nlh, NYM_AWG_A_PORT, 51821);
	if (skip != NYM_AWG_A_MODE) mnl_attr_put_u8(nlh, NYM_AWG_A_MODE, NYM_AWG_MODE_INITIATOR);
	if (skip != NYM_AWG_A_JC) mnl_attr_put_u16(nlh, NYM_AWG_A_JC, P.jc);
	if (skip != NYM_AWG_A_JMIN) mnl_attr_put_u16(nlh, NYM_AWG_A_JMIN, P.jmin);
	if (skip != NYM_AWG_A_JMAX) mnl_attr_put_u16(nlh, NYM_AWG_A_JMAX, P.jmax);
	if (skip != NYM_AWG_A_S1) mnl_attr_put_u16(nlh, NYM_AWG_A_S1, P.s1);
	if (skip != NYM_AWG_A_S2) mnl_attr_put_u16(nlh, NYM_AWG_A_S2, P.s2);
	if (skip != NYM_AWG_A_H1) mnl_attr_put_u32(nlh, NYM_AWG_A_H1, P.h1);
	if (skip != NYM_AWG_A_H2) mnl_attr_put_u32(nlh, NYM_AWG_A_H2, P.h2);
	if (skip != NYM_AWG_A_H3) mnl_attr_put_u32(nlh, NYM_AWG_A_H3, P.h3);
	if (skip != NYM_AWG_A_H4) mnl_attr_put_u32(nlh, NYM_AWG_A_H4, P.h4);
	if (skip != NYM_AWG_A_ENDPOINTS) mnl_attr_put_u32(nlh, NYM_AWG_A_ENDPOINTS, 2);
	if (skip != NYM_AWG_A_COUNTERS) {
		struct nlattr *n = mnl_attr_nest_start(nlh, NYM_AWG_A_COUNTERS);
		for (unsigned i = NYM_AWG_C_TX_ENCODED; i <= NYM_AWG_C_MAX; i++)
			mnl_attr_put_u64(nlh, (uint16_t)i, 100 + i);
		mnl_attr_nest_end(nlh, n);
	}
	return nlh;
}

Test(awg_genl, get_answer_parses)
{
	uint8_t buf[AWG_GENL_MSG_SIZE] __attribute__((aligned(8))) = { 0 };
	char ifname[IF_NAMESIZE];
	struct awg_params p;
	struct awg_genl_counters c;
	int mode;
	cr_assert_eq(awg_genl_parse(answer(buf, 0), ifname, &p, &mode, &c), 0);
	cr_assert_str_eq(ifname, "wgc");
	cr_assert_eq(mode, AWG_GENL_MODE_INITIATOR);
	cr_assert(awg_params_equal(&p, &P));
	cr_assert(p.jc == P.jc && p.jmin == P.jmin && p.jmax == P.jmax && p.s1 == P.s1 && p.s2 == P.s2 &&
		  p.h1 == P.h1 && p.h2 == P.h2 && p.h3 == P.h3 && p.h4 == P.h4);
	cr_assert_eq(c.port, 51821);
	cr_assert_eq(c.endpoints, 2);
	cr_assert_eq(c.tx_encoded, 100 + NYM_AWG_C_TX_ENCODED);
	cr_assert_eq(c.rx_dropped, 100 + NYM_AWG_C_RX_DROPPED);
	cr_assert_eq(c.nomem, 100 + NYM_AWG_C_NOMEM);
}

Test(awg_genl, incomplete_answers_are_refused)
{
	for (unsigned skip = NYM_AWG_A_IFNAME; skip <= NYM_AWG_A_MAX; skip++) {
		uint8_t buf[AWG_GENL_MSG_SIZE] __attribute__((aligned(8))) = { 0 };
		char ifname[IF_NAMESIZE];
		struct awg_params p;
		struct awg_genl_counters c;
		int mode;
		cr_assert_eq(awg_genl_parse(answer(buf, skip), ifname, &p, &mode, &c), -EBADMSG, "without %u", skip);
	}
}

Test(awg_genl, modes)
{
	int m;
	cr_assert_eq(awg_genl_mode_parse("initiator", &m), 0);
	cr_assert_eq(m, NYM_AWG_MODE_INITIATOR);
	cr_assert_eq(awg_genl_mode_parse("responder", &m), 0);
	cr_assert_eq(m, NYM_AWG_MODE_RESPONDER);
	cr_assert_eq(awg_genl_mode_parse("both", &m), -EINVAL);
	cr_assert_str_eq(awg_genl_mode_name(AWG_GENL_MODE_RESPONDER), "responder");
}
