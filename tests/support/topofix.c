#include "topofix.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void topofix_identity(unsigned n, struct nym_ed25519_keypair *kp)
{
	uint8_t seed[32] = { 0x5e, 0xed };
	seed[30] = (uint8_t)(n >> 8);
	seed[31] = (uint8_t)n;
	nym_ed25519_from_seed(kp, seed);
}

void topofix_descriptor(unsigned n, unsigned roles, int64_t published, struct nym_descriptor *d)
{
	struct nym_ed25519_keypair kp;
	memset(d, 0, sizeof(*d));
	topofix_identity(n, &kp);
	memcpy(d->identity, kp.public_key, 32);
	memset(d->noise_key, (int)n, 32);
	d->sphinx_count = 2;
	d->sphinx[0].rotation = 7;
	d->sphinx[1].rotation = 8;
	memset(d->sphinx[0].key, 0x70 + (int)n, 32);
	memset(d->sphinx[1].key, 0x80 + (int)n, 32);
	d->address_count = 1;
	snprintf(d->addresses[0], sizeof(d->addresses[0]), "198.51.100.%u", n % 250 + 1);
	d->mix_port = 1789;
	d->http_port = 8080;
	d->roles = roles;
	if (roles & NYM_ROLES_GATEWAY)
		d->clients_port = 9000;
	if (roles & NYM_ROLE_WIREGUARD) {
		d->wireguard_port = 51822;
		memset(d->wireguard_key, 0x33, 32);
	}
	memcpy(d->country, n % 2 ? "DE" : "CH", 3);
	strcpy(d->version, "1.2.3");
	d->published = published;
	nym_ed25519_keypair_clear(&kp);
}

void topofix_signed(unsigned n, unsigned roles, int64_t published, struct nym_descriptor_signed *sd)
{
	struct nym_ed25519_keypair kp;
	struct nym_descriptor d;
	topofix_identity(n, &kp);
	topofix_descriptor(n, roles, published, &d);
	cr_assert_eq(nym_descriptor_sign(&d, &kp, sd), 0);
	nym_ed25519_keypair_clear(&kp);
}

void topofix_vote(unsigned a, uint64_t epoch, const unsigned *nodes, size_t count,
		  const uint8_t *previous, struct nym_vote *v)
{
	struct nym_ed25519_keypair kp;
	memset(v, 0, sizeof(*v));
	topofix_identity(200 + a, &kp);
	v->epoch = epoch;
	v->valid_from = (int64_t)epoch * 60;
	v->valid_until = v->valid_from + 60;
	if (previous) {
		v->has_previous = true;
		memcpy(v->previous, previous, 32);
	}
	v->nodes = calloc(count ? count : 1, sizeof(v->nodes[0]));
	cr_assert_not_null(v->nodes);
	for (size_t i = 0; i < count; i++)
		topofix_signed(nodes[i], NYM_ROLE_MIXNODE, 1000, &v->nodes[i]);
	v->node_count = count;
	cr_assert_eq(nym_vote_sign(v, &kp), 0);
	nym_ed25519_keypair_clear(&kp);
}
