#include "cred/ticket.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	uint64_t bytes;
} types[] = {
	[NYM_TICKET_MIXNET_ENTRY] = { "mixnet-entry", 200ull * 1000 * 1000 },
	[NYM_TICKET_WG_ENTRY] = { "wg-entry", 500ull * 1000 * 1000 },
	[NYM_TICKET_WG_EXIT] = { "wg-exit", 500ull * 1000 * 1000 },
};

bool nym_ticket_type_valid(unsigned type)
{
	return type >= NYM_TICKET_TYPE_MIN && type <= NYM_TICKET_TYPE_MAX;
}

const char *nym_ticket_type_name(enum nym_ticket_type type)
{
	return nym_ticket_type_valid(type) ? types[type].name : "unknown";
}

int nym_ticket_type_parse(const char *name, enum nym_ticket_type *out)
{
	for (unsigned t = NYM_TICKET_TYPE_MIN; t <= NYM_TICKET_TYPE_MAX; t++) {
		if (strcmp(name, types[t].name) == 0) {
			*out = (enum nym_ticket_type)t;
			return 0;
		}
	}
	return -EINVAL;
}

uint64_t nym_ticket_type_bytes(enum nym_ticket_type type)
{
	return nym_ticket_type_valid(type) ? types[type].bytes : 0;
}

void nym_ticket_msg_encode(uint8_t out[NYM_TICKET_MSG_LEN], const struct nym_ticket_msg *m)
{
	uint64_t e = (uint64_t)m->expiry;
	out[0] = (uint8_t)m->type;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(e >> (56 - 8 * i));
	memcpy(out + 9, m->serial, NYM_TICKET_SERIAL_LEN);
}

int nym_ticket_msg_decode(struct nym_ticket_msg *m, const uint8_t *in, size_t len)
{
	if (len != NYM_TICKET_MSG_LEN || !nym_ticket_type_valid(in[0]))
		return -EINVAL;
	uint64_t e = 0;
	for (int i = 0; i < 8; i++)
		e = e << 8 | in[1 + i];
	if (e > INT64_MAX)
		return -EINVAL;
	m->type = (enum nym_ticket_type)in[0];
	m->expiry = (int64_t)e;
	memcpy(m->serial, in + 9, NYM_TICKET_SERIAL_LEN);
	return 0;
}

int nym_ticket_parse(struct nym_ticket_view *v, const uint8_t *ticket, size_t len)
{
	if (len < NYM_TICKET_PREPARED_LEN)
		return -EINVAL;
	int rc = nym_ticket_msg_decode(&v->msg, ticket + NYM_BRSA_PREFIX_LEN, NYM_TICKET_MSG_LEN);
	if (rc)
		return rc;
	v->prepared = ticket;
	v->sig = ticket + NYM_TICKET_PREPARED_LEN;
	v->sig_len = len - NYM_TICKET_PREPARED_LEN;
	return 0;
}

int nym_ticket_check_len(const struct nym_ticket_view *v, size_t k)
{
	return v->sig_len == k ? 0 : -EINVAL;
}

int nym_ticket_encode(uint8_t *out, size_t cap, size_t *out_len,
		      const uint8_t prepared[NYM_TICKET_PREPARED_LEN], const uint8_t *sig, size_t k)
{
	if (k == 0 || k > NYM_BRSA_MAX_LEN)
		return -EINVAL;
	if (cap < NYM_TICKET_PREPARED_LEN + k)
		return -ENOSPC;
	memcpy(out, prepared, NYM_TICKET_PREPARED_LEN);
	memcpy(out + NYM_TICKET_PREPARED_LEN, sig, k);
	*out_len = NYM_TICKET_PREPARED_LEN + k;
	return 0;
}
