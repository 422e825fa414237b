#include "sphinx/sphinx_header.h"

#include <errno.h>
#include <string.h>

#include "crypto/aes_ctr.h"
#include "crypto/sha256.h"
#include "sphinx/sphinx_sender.h"
#include "util/bytes.h"

#define OFF_FLAG 0
#define OFF_VERSION 1
#define OFF_ADDRESS 4
#define OFF_DELAY 36
#define OFF_IDENTIFIER 36
#define OFF_NEXT_GAMMA 44
#define OFF_NEXT_BETA SPHINX_HOP_SLOT_LEN
#define TRUNCATED_BETA (SPHINX_BETA_LEN - SPHINX_HOP_SLOT_LEN)

static void put_version(uint8_t *p, uint16_t version)
{
	p[0] = 0;
	p[1] = (uint8_t)(version >> 8);
	p[2] = (uint8_t)version;
}

static void mac_beta(uint8_t gamma[SPHINX_GAMMA_LEN], const struct sphinx_hop_keys *keys,
		     const uint8_t beta[SPHINX_BETA_LEN])
{
	nym_hmac_sha256_16(gamma, keys->mac_key, sizeof(keys->mac_key), beta, SPHINX_BETA_LEN);
}

int sphinx_header_create(uint8_t header[SPHINX_HEADER_LEN], struct sphinx_hop_keys *keys,
			 const struct sphinx_hop *route, size_t hops,
			 const uint8_t destination[SPHINX_ADDRESS_LEN],
			 const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
			 const struct nym_rng *rng)
{
	if (hops < 1 || hops > SPHINX_MAX_HOPS)
		return -EINVAL;
	if (!sphinx_version_supported(version))
		return -EPROTONOSUPPORT;

	uint8_t x[32], route_keys[SPHINX_MAX_HOPS][32];
	nym_rng_fill(rng, x, sizeof(x));
	for (size_t i = 0; i < hops; i++)
		memcpy(route_keys[i], route[i].public_key, 32);
	int rc = sphinx_sender_keys(header, keys, (const uint8_t(*)[32])route_keys, hops, x);
	nym_memzero(x, sizeof(x));
	if (rc)
		return rc;
	return sphinx_header_create_with_keys(header, keys, route, hops, destination, identifier, version, rng);
}

int sphinx_header_create_with_keys(uint8_t header[SPHINX_HEADER_LEN], const struct sphinx_hop_keys *keys,
				   const struct sphinx_hop *route, size_t hops,
				   const uint8_t destination[SPHINX_ADDRESS_LEN],
				   const uint8_t identifier[SPHINX_IDENTIFIER_LEN], uint16_t version,
				   const struct nym_rng *rng)
{
	if (hops < 1 || hops > SPHINX_MAX_HOPS)
		return -EINVAL;
	if (!sphinx_version_supported(version))
		return -EPROTONOSUPPORT;

	uint8_t streams[SPHINX_MAX_HOPS][SPHINX_STREAM_LEN];
	uint8_t filler[SPHINX_BETA_LEN - SPHINX_HOP_SLOT_LEN] = { 0 };
	uint8_t beta[SPHINX_BETA_LEN], gamma[SPHINX_GAMMA_LEN];

	for (size_t i = 0; i < hops; i++)
		nym_aes_ctr_keystream(keys[i].stream_key, streams[i], SPHINX_STREAM_LEN);

	/* Filler: what hops 0..n-2 will shift in at the tail of beta, pre-encrypted so that the
	 * last hop's beta carries a valid MAC. Step i covers 60*i bytes and absorbs the last
	 * 60*i bytes of hop i-1's keystream. */
	size_t filler_len = 0;
	for (size_t i = 1; i < hops; i++) {
		filler_len += SPHINX_HOP_SLOT_LEN;
		const uint8_t *tail = streams[i - 1] + SPHINX_STREAM_LEN - filler_len;
		for (size_t j = 0; j < filler_len; j++)
			filler[j] ^= tail[j];
	}

	/* The final hop's block: flag, version, destination, identifier, random padding. */
	size_t final_len = SPHINX_BETA_LEN - filler_len;
	beta[OFF_FLAG] = SPHINX_FLAG_FINAL;
	put_version(beta + OFF_VERSION, version);
	memcpy(beta + OFF_ADDRESS, destination, SPHINX_ADDRESS_LEN);
	memcpy(beta + OFF_IDENTIFIER, identifier, SPHINX_IDENTIFIER_LEN);
	nym_rng_fill(rng, beta + SPHINX_FINAL_META_LEN, final_len - SPHINX_FINAL_META_LEN);
	for (size_t j = 0; j < final_len; j++)
		beta[j] ^= streams[hops - 1][j];
	memcpy(beta + final_len, filler, filler_len);
	mac_beta(gamma, &keys[hops - 1], beta);

	/* Wrap each earlier hop around the next one, innermost first. */
	for (size_t i = hops - 1; i-- > 0;) {
		uint8_t plain[SPHINX_BETA_LEN];
		plain[OFF_FLAG] = SPHINX_FLAG_FORWARD;
		put_version(plain + OFF_VERSION, version);
		memcpy(plain + OFF_ADDRESS, route[i + 1].address, SPHINX_ADDRESS_LEN);
		nym_bytes_put_be64(plain + OFF_DELAY, route[i].delay_ns);
		memcpy(plain + OFF_NEXT_GAMMA, gamma, SPHINX_GAMMA_LEN);
		memcpy(plain + OFF_NEXT_BETA, beta, TRUNCATED_BETA);
		for (size_t j = 0; j < SPHINX_BETA_LEN; j++)
			beta[j] = plain[j] ^ streams[i][j];
		mac_beta(gamma, &keys[i], beta);
	}
	memcpy(header + SPHINX_OFF_GAMMA, gamma, SPHINX_GAMMA_LEN);
	memcpy(header + SPHINX_OFF_BETA, beta, SPHINX_BETA_LEN);
	nym_memzero(streams, sizeof(streams));
	nym_memzero(filler, sizeof(filler));
	return 0;
}

int sphinx_header_verify(const uint8_t header[SPHINX_HEADER_LEN], const struct sphinx_hop_keys *keys)
{
	uint8_t gamma[SPHINX_GAMMA_LEN];
	mac_beta(gamma, keys, header + SPHINX_OFF_BETA);
	return nym_ct_equal(gamma, header + SPHINX_OFF_GAMMA, SPHINX_GAMMA_LEN) ? 0 : -EBADMSG;
}

int sphinx_header_route(uint8_t header[SPHINX_HEADER_LEN], const struct sphinx_hop_keys *keys,
			struct sphinx_routing *out)
{
	uint8_t block[SPHINX_STREAM_LEN];
	int rc = 0;
	memcpy(block, header + SPHINX_OFF_BETA, SPHINX_BETA_LEN);
	memset(block + SPHINX_BETA_LEN, 0, SPHINX_HOP_SLOT_LEN);
	static const uint8_t zero_iv[16];
	nym_aes_ctr_xor(keys->stream_key, zero_iv, block, block, SPHINX_STREAM_LEN);

	out->flag = block[OFF_FLAG];
	if (block[OFF_VERSION] != 0) {
		rc = -EINVAL;
		goto out;
	}
	out->version = (uint16_t)(block[OFF_VERSION + 1] << 8 | block[OFF_VERSION + 2]);
	if (!sphinx_version_supported(out->version)) {
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	memcpy(out->address, block + OFF_ADDRESS, SPHINX_ADDRESS_LEN);
	switch (out->flag) {
	case SPHINX_FLAG_FORWARD:
		out->delay_ns = nym_bytes_get_be64(block + OFF_DELAY);
		memset(out->identifier, 0, sizeof(out->identifier));
		memcpy(header + SPHINX_OFF_GAMMA, block + OFF_NEXT_GAMMA, SPHINX_GAMMA_LEN);
		memcpy(header + SPHINX_OFF_BETA, block + OFF_NEXT_BETA, SPHINX_BETA_LEN);
		break;
	case SPHINX_FLAG_FINAL:
		out->delay_ns = 0;
		memcpy(out->identifier, block + OFF_IDENTIFIER, SPHINX_IDENTIFIER_LEN);
		break;
	default:
		rc = -EINVAL;
	}
out:
	nym_memzero(block, sizeof(block));
	return rc;
}
