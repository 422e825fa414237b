#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/client_route.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "mix/mix_frame.h"
#include "mix/mix_node_addr.h"
#include "sphinx/sphinx_packet.h"

#define PER_LAYER 3

/* Three layers of PER_LAYER mixnodes and one gateway, each at 10.0.<layer>.<i>:1789 with its
 * own Sphinx key of `rotation`. */
struct net {
	struct nym_epoch_doc doc;
	struct nym_descriptor_signed layers[NYM_LAYERS][PER_LAYER];
	struct nym_descriptor_signed gateway;
	struct nym_x25519_keypair keys[NYM_LAYERS + 1][PER_LAYER];
};

static void node(struct nym_descriptor_signed *sd, struct nym_x25519_keypair *kp, int layer, int i, uint32_t rotation)
{
	memset(sd, 0, sizeof(*sd));
	nym_x25519_generate(kp);
	snprintf(sd->d.addresses[0], sizeof(sd->d.addresses[0]), "10.0.%d.%d", layer, i + 1);
	sd->d.mix_port = 1789;
	sd->d.identity[0] = (uint8_t)(layer * 16 + i);
	sd->d.sphinx_count = 1;
	sd->d.sphinx[0].rotation = rotation;
	memcpy(sd->d.sphinx[0].key, kp->public_key, 32);
}

static void build(struct net *n, uint32_t rotation)
{
	memset(n, 0, sizeof(*n));
	for (int l = 0; l < NYM_LAYERS; l++) {
		for (int i = 0; i < PER_LAYER; i++)
			node(&n->layers[l][i], &n->keys[l][i], l, i, rotation);
		n->doc.layers[l] = n->layers[l];
		n->doc.layer_count[l] = PER_LAYER;
	}
	node(&n->gateway, &n->keys[NYM_LAYERS][0], NYM_LAYERS, 0, rotation);
	n->doc.gateways = &n->gateway;
	n->doc.gateway_count = 1;
}

static const struct nym_x25519_keypair *key_of(const struct net *n, const struct nym_descriptor_signed *sd)
{
	for (int l = 0; l < NYM_LAYERS; l++)
		for (int i = 0; i < PER_LAYER; i++)
			if (sd == &n->layers[l][i])
				return &n->keys[l][i];
	return sd == &n->gateway ? &n->keys[NYM_LAYERS][0] : NULL;
}

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(client_route, .init = setup);

Test(client_route, one_node_of_each_layer_then_the_gateway)
{
	static struct net n;
	struct client_route r;
	int missing = -1;
	build(&n, 7);
	cr_assert_eq(client_route_pick(&n.doc, &n.gateway, &r, &missing), 0);
	for (int l = 0; l < NYM_LAYERS; l++) {
		cr_assert(r.nodes[l] >= n.layers[l] && r.nodes[l] < n.layers[l] + PER_LAYER, "hop %d not of layer %d", l, l);
		cr_assert_eq(memcmp(r.hops[l].public_key, r.nodes[l]->d.sphinx[0].key, 32), 0);
		char want[32];
		snprintf(want, sizeof(want), "10.0.%d.", l);
		char text[NET_ADDR_STR_LEN];
		net_addr_format((const struct sockaddr *)&r.addresses[l].ss, text);
		cr_assert_eq(strncmp(text, want, strlen(want)), 0, "%s", text);
	}
	cr_assert_eq(r.nodes[NYM_LAYERS], &n.gateway);
	cr_assert_eq(r.key_rotation, MIX_KEY_ROTATION_ODD);
}

Test(client_route, reports_the_first_hop_without_a_node)
{
	static struct net n;
	struct client_route r;
	int missing = -1;
	build(&n, 1);
	n.doc.layer_count[1] = 0;
	cr_assert_eq(client_route_pick(&n.doc, &n.gateway, &r, &missing), -ENOENT);
	cr_assert_eq(missing, 1);
	build(&n, 1);
	cr_assert_eq(client_route_pick(&n.doc, NULL, &r, &missing), -ENOENT);
	cr_assert_eq(missing, NYM_LAYERS);
}

Test(client_route, refuses_a_node_without_an_address)
{
	static struct net n;
	struct client_route r;
	int missing = -1;
	build(&n, 1);
	n.gateway.d.addresses[0][0] = '\0';
	cr_assert_eq(client_route_pick(&n.doc, &n.gateway, &r, &missing), -EINVAL);
}

/* Rotation 0 is no rotation at all: the frame says "unknown" and the node uses its primary
 * key, rather than claiming the even one. */
Test(client_route, key_rotation_follows_mix_frame)
{
	static struct net n;
	struct client_route r;
	int missing;
	uint32_t ids[] = { 0, 1, 2, 3 };
	uint8_t want[] = { MIX_KEY_ROTATION_UNKNOWN, MIX_KEY_ROTATION_ODD, MIX_KEY_ROTATION_EVEN, MIX_KEY_ROTATION_ODD };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		build(&n, ids[i]);
		cr_assert_eq(client_route_pick(&n.doc, &n.gateway, &r, &missing), 0);
		cr_assert_eq(r.key_rotation, want[i], "rotation %u", ids[i]);
	}
}

/* The frame decodes as v8 with the route's rotation, and every hop peels it with its own key
 * down to the gateway, which finds the message. */
Test(client_route, frames_travel_the_route)
{
	static struct net n;
	static uint8_t frame[CLIENT_ROUTE_FRAME_LEN];
	struct client_route r;
	int missing;
	build(&n, 2);
	cr_assert_eq(client_route_pick(&n.doc, &n.gateway, &r, &missing), 0);
	client_route_sample_delays(&r, 20 * 1000000ull);
	const char *msg = "through three layers";
	cr_assert_eq(client_route_frame(&r, (const uint8_t *)msg, strlen(msg), frame), 0);
	struct mix_frame_header h;
	size_t hl;
	cr_assert_eq(mix_frame_header_decode(frame, sizeof(frame), &h, &hl), 0);
	cr_assert_eq(hl, MIX_FRAME_HEADER_LEN);
	cr_assert_eq(h.version, MIX_FRAME_VERSION);
	cr_assert_eq(h.size, MIX_PACKET_SIZE_REGULAR);
	cr_assert_eq(h.type, MIX_PACKET_TYPE_MIX);
	cr_assert_eq(h.key_rotation, MIX_KEY_ROTATION_EVEN);
	uint8_t *packet = frame + hl;
	for (int i = 0; i < CLIENT_ROUTE_HOPS; i++) {
		struct sphinx_processed out;
		const struct nym_x25519_keypair *kp = key_of(&n, r.nodes[i]);
		cr_assert_not_null(kp);
		cr_assert_eq(sphinx_packet_process(packet, MIX_REGULAR_PACKET_LEN, kp->secret, &out), 0, "hop %d", i);
		if (i < NYM_LAYERS) {
			cr_assert_eq(out.kind, SPHINX_HOP_FORWARD);
			cr_assert_eq(memcmp(out.address, r.hops[i + 1].address, SPHINX_ADDRESS_LEN), 0);
			cr_assert_eq(out.delay_ns, r.hops[i].delay_ns);
		} else {
			cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
		}
	}
	const uint8_t *m;
	size_t mlen;
	cr_assert_eq(sphinx_packet_message(packet, MIX_REGULAR_PACKET_LEN, &m, &mlen), 0);
	cr_assert_eq(mlen, strlen(msg));
	cr_assert_eq(memcmp(m, msg, mlen), 0);
}
