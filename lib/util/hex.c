#include "util/hex.h"

#include <errno.h>
#include <string.h>

void nym_hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nym_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *hex)
{
	size_t n = strlen(hex);
	if (n % 2)
		return -EINVAL;
	if (n / 2 > cap)
		return -EMSGSIZE;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = n / 2;
	return 0;
}

int nym_hex_decode_exact(uint8_t *out, size_t len, const char *hex)
{
	if (strlen(hex) != 2 * len)
		return -EINVAL;
	size_t got;
	return nym_hex_decode(out, len, &got, hex);
}
