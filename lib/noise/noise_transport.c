#include "noise/noise_transport.h"

#include <errno.h>

int noise_transport_encrypt(struct noise_transport *t, const uint8_t *in, size_t len,
			    uint8_t *out, size_t cap, size_t *written)
{
	if (len > NOISE_MAX_PLAINTEXT_LEN)
		return -EMSGSIZE;
	if (!noise_cipher_has_key(&t->send))
		return -EINVAL;
	return noise_cipher_encrypt(&t->send, NULL, 0, in, len, out, cap, written);
}

int noise_transport_decrypt(struct noise_transport *t, const uint8_t *in, size_t len,
			    uint8_t *out, size_t cap, size_t *written)
{
	if (len > NOISE_MAX_MESSAGE_LEN)
		return -EMSGSIZE;
	/* Without a key the cipher would pass bytes through: never for a transport. */
	if (!noise_cipher_has_key(&t->recv))
		return -EBADMSG;
	return noise_cipher_decrypt(&t->recv, NULL, 0, in, len, out, cap, written);
}

void noise_transport_clear(struct noise_transport *t)
{
	noise_cipher_clear(&t->send);
	noise_cipher_clear(&t->recv);
}
