#include "client/client_route.h"

#include <errno.h>
#include <string.h>

#include "crypto/secret.h"
#include "mix/mix_delay.h"
#include "mix/mix_node_addr.h"
#include "sphinx/sphinx_packet.h"

static const struct nym_descriptor_signed *pick_random(const struct nym_descriptor_signed *list, size_t n)
{
	if (!n)
		return NULL;
	uint32_t r;
	nym_random(&r, sizeof(r));
	return &list[r % n];
}

static int endpoint(const struct nym_descriptor *d, struct net_addr *addr, uint8_t routing[SPHINX_ADDRESS_LEN])
{
	if (net_addr_parse(addr, d->addresses[0], d->mix_port))
		return -EINVAL;
	return mix_node_addr_encode((const struct sockaddr *)&addr->ss, addr->len, routing);
}

int client_route_pick(const struct nym_epoch_doc *doc, const struct nym_descriptor_signed *gateway,
		      struct client_route *r, int *missing_hop)
{
	memset(r, 0, sizeof(*r));
	for (int l = 0; l < NYM_LAYERS; l++)
		r->nodes[l] = pick_random(doc->layers[l], doc->layer_count[l]);
	r->nodes[NYM_LAYERS] = gateway;
	for (int i = 0; i < CLIENT_ROUTE_HOPS; i++) {
		if (!r->nodes[i]) {
			*missing_hop = i;
			return -ENOENT;
		}
	}
	for (int i = 0; i < CLIENT_ROUTE_HOPS; i++) {
		const struct nym_descriptor *d = &r->nodes[i]->d;
		if (endpoint(d, &r->addresses[i], r->hops[i].address))
			return -EINVAL;
		memcpy(r->hops[i].public_key, d->sphinx[0].key, 32);
	}
	r->key_rotation = mix_frame_key_rotation_from_id(r->nodes[0]->d.sphinx[0].rotation);
	return 0;
}

void client_route_sample_delays(struct client_route *r, uint64_t mean_ns)
{
	for (int i = 0; i < NYM_LAYERS; i++)
		r->hops[i].delay_ns = mix_delay_sample_ns(mean_ns, NULL);
}

int client_route_frame(const struct client_route *r, const uint8_t *msg, size_t msg_len,
		       uint8_t out[CLIENT_ROUTE_FRAME_LEN])
{
	static const uint8_t destination[SPHINX_ADDRESS_LEN], identifier[SPHINX_IDENTIFIER_LEN];
	const struct mix_frame_header h = { MIX_FRAME_VERSION, MIX_PACKET_SIZE_REGULAR, MIX_PACKET_TYPE_MIX,
					    r->key_rotation };
	size_t header_len;
	int rc = mix_frame_header_encode(&h, out, &header_len);
	if (rc)
		return rc;
	struct sphinx_packet_params p = { r->hops, CLIENT_ROUTE_HOPS, destination, identifier, SPHINX_VERSION_DEFAULT,
					  NULL };
	return sphinx_packet_create(out + header_len, MIX_REGULAR_PACKET_LEN, &p, msg, msg_len);
}
