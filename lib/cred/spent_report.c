#include "cred/spent_report.h"
#include "util/bytes.h"

#include <errno.h>
#include <string.h>

static const uint8_t magic[8] = { 'N', 'Y', 'M', 'S', 'P', 'E', 'N', 'T' };

int nym_spent_report_encode(const struct nym_spent_report *r, const struct nym_ed25519_keypair *id,
			    uint8_t *out, size_t cap, size_t *out_len)
{
	if (r->count > NYM_SPENT_REPORT_MAX || r->created < 0)
		return -EINVAL;
	size_t len = NYM_SPENT_REPORT_LEN(r->count);
	if (cap < len)
		return -ENOSPC;
	for (size_t i = 0; i < r->count; i++)
		if (r->entries[i].expiry < 0)
			return -EINVAL;
	memcpy(out, magic, 8);
	out[8] = NYM_SPENT_REPORT_VERSION;
	memcpy(out + 9, id->public_key, NYM_ED25519_PUBLIC_LEN);
	nym_bytes_put_be64(out + 41, (uint64_t)r->created);
	nym_bytes_put_be64(out + 49, r->last_seq);
	out[57] = (uint8_t)(r->count >> 8);
	out[58] = (uint8_t)r->count;
	uint8_t *p = out + NYM_SPENT_REPORT_HEADER_LEN;
	for (size_t i = 0; i < r->count; i++, p += NYM_SPENT_REPORT_ENTRY_LEN) {
		memcpy(p, r->entries[i].serial, NYM_TICKET_SERIAL_LEN);
		nym_bytes_put_be64(p + NYM_TICKET_SERIAL_LEN, (uint64_t)r->entries[i].expiry);
	}
	nym_ed25519_sign(id, out, (size_t)(p - out), p);
	*out_len = len;
	return 0;
}

int nym_spent_report_decode(struct nym_spent_report *r, const uint8_t *in, size_t len)
{
	r->count = 0;
	if (len < NYM_SPENT_REPORT_LEN(0) || memcmp(in, magic, 8) != 0)
		return -EINVAL;
	if (in[8] != NYM_SPENT_REPORT_VERSION)
		return -EPROTONOSUPPORT;
	size_t count = (size_t)in[57] << 8 | in[58];
	if (count > NYM_SPENT_REPORT_MAX || len != NYM_SPENT_REPORT_LEN(count))
		return -EINVAL;
	uint64_t created = nym_bytes_get_be64(in + 41);
	if (created > INT64_MAX)
		return -EINVAL;
	size_t signed_len = len - NYM_ED25519_SIG_LEN;
	if (!nym_ed25519_verify(in + 9, in, signed_len, in + signed_len))
		return -EBADMSG;
	const uint8_t *p = in + NYM_SPENT_REPORT_HEADER_LEN;
	for (size_t i = 0; i < count; i++, p += NYM_SPENT_REPORT_ENTRY_LEN) {
		uint64_t e = nym_bytes_get_be64(p + NYM_TICKET_SERIAL_LEN);
		if (e > INT64_MAX)
			return -EINVAL;
		memcpy(r->entries[i].serial, p, NYM_TICKET_SERIAL_LEN);
		r->entries[i].expiry = (int64_t)e;
	}
	memcpy(r->gateway, in + 9, NYM_ED25519_PUBLIC_LEN);
	r->created = (int64_t)created;
	r->last_seq = nym_bytes_get_be64(in + 49);
	r->count = count;
	return 0;
}
