#include "util/base58.h"

#include <errno.h>
#include <string.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

#define MAX_BYTES 256

int nym_base58_encode(char *out, size_t out_size, const uint8_t *in, size_t len)
{
	if (len > MAX_BYTES)
		return -EMSGSIZE;
	size_t zeros = 0;
	while (zeros < len && in[zeros] == 0)
		zeros++;
	/* Big-endian base-58 digits, least significant last; repeated multiply-add. */
	uint8_t digits[MAX_BYTES * 138 / 100 + 1];
	size_t ndigits = 0;
	for (size_t i = zeros; i < len; i++) {
		unsigned carry = in[i];
		for (size_t j = 0; j < ndigits; j++) {
			carry += (unsigned)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			digits[ndigits++] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	size_t total = zeros + ndigits;
	if (total + 1 > out_size)
		return -ENOSPC;
	memset(out, '1', zeros);
	for (size_t j = 0; j < ndigits; j++)
		out[zeros + j] = alphabet[digits[ndigits - 1 - j]];
	out[total] = '\0';
	return (int)total;
}

int nym_base58_decode(uint8_t *out, size_t cap, size_t *out_len, const char *text)
{
	size_t n = strlen(text);
	if (n == 0 || n > MAX_BYTES * 138 / 100 + 1)
		return n == 0 ? -EINVAL : -EMSGSIZE;
	size_t zeros = 0;
	while (zeros < n && text[zeros] == '1')
		zeros++;
	uint8_t bytes[MAX_BYTES * 2];
	size_t nbytes = 0; /* little-endian */
	for (size_t i = zeros; i < n; i++) {
		const char *p = strchr(alphabet, text[i]);
		if (!p || !*p)
			return -EINVAL;
		unsigned carry = (unsigned)(p - alphabet);
		for (size_t j = 0; j < nbytes; j++) {
			carry += (unsigned)bytes[j] * 58;
			bytes[j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			if (nbytes == sizeof(bytes))
				return -EMSGSIZE;
			bytes[nbytes++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	if (zeros + nbytes > cap)
		return -EMSGSIZE;
	memset(out, 0, zeros);
	for (size_t j = 0; j < nbytes; j++)
		out[zeros + j] = bytes[nbytes - 1 - j];
	*out_len = zeros + nbytes;
	return 0;
}

int nym_base58_decode_exact(uint8_t *out, size_t len, const char *text)
{
	uint8_t tmp[MAX_BYTES];
	size_t got;
	if (len > MAX_BYTES || nym_base58_decode(tmp, sizeof(tmp), &got, text) != 0 || got != len)
		return -EINVAL;
	memcpy(out, tmp, len);
	return 0;
}
