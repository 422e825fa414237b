#include "topology/body_sig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base58.h"

static const char domain[] = "nym-body-v1";

static uint8_t *message(const char *label, int64_t created, const void *body, size_t len, size_t *n)
{
	size_t dl = sizeof(domain), ll = strlen(label) + 1;
	uint8_t *m = malloc(dl + ll + 8 + len);
	if (!m)
		return NULL;
	memcpy(m, domain, dl);
	memcpy(m + dl, label, ll);
	for (int i = 0; i < 8; i++)
		m[dl + ll + i] = (uint8_t)((uint64_t)created >> (56 - 8 * i));
	if (len)
		memcpy(m + dl + ll + 8, body, len);
	*n = dl + ll + 8 + len;
	return m;
}

void nym_body_sig_make(const struct nym_ed25519_keypair *kp, const char *label, int64_t created,
		       const void *body, size_t len, struct nym_body_sig *out)
{
	size_t n;
	uint8_t *m = message(label, created, body, len, &n);
	memcpy(out->authority, kp->public_key, 32);
	out->created = created;
	if (m)
		nym_ed25519_sign(kp, m, n, out->signature);
	else
		memset(out->signature, 0, sizeof(out->signature)); /* never verifies */
	free(m);
}

bool nym_body_sig_valid(const struct nym_body_sig *s, const char *label, const void *body, size_t len)
{
	size_t n;
	uint8_t *m = message(label, s->created, body, len, &n);
	bool ok = m && nym_ed25519_verify(s->authority, m, n, s->signature);
	free(m);
	return ok;
}

void nym_body_sig_format(const struct nym_body_sig *s, char out[NYM_BODY_SIG_TEXT_MAX])
{
	char a[NYM_BASE58_ENCODED_MAX(32)], sig[NYM_BASE58_ENCODED_MAX(64)];
	nym_base58_encode(a, sizeof(a), s->authority, 32);
	nym_base58_encode(sig, sizeof(sig), s->signature, 64);
	snprintf(out, NYM_BODY_SIG_TEXT_MAX, "v1 authority=%s created=%" PRId64 " signature=%s", a, s->created, sig);
}

/* Takes "name=" and the value up to the next blank or the end into out. */
static const char *field(const char *p, const char *end, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	if ((size_t)(end - p) <= nl || memcmp(p, name, nl) != 0 || p[nl] != '=')
		return NULL;
	p += nl + 1;
	size_t n = 0;
	while (p + n < end && p[n] != ' ')
		n++;
	if (n == 0 || n >= cap)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	p += n;
	while (p < end && *p == ' ')
		p++;
	return p;
}

int nym_body_sig_parse(const char *value, size_t len, struct nym_body_sig *out)
{
	const char *p = value, *end = value + len;
	char a[64], c[24], s[128];
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end - p < 3 || memcmp(p, "v1 ", 3) != 0)
		return -EINVAL;
	p += 3;
	if (!(p = field(p, end, "authority", a, sizeof(a))) || !(p = field(p, end, "created", c, sizeof(c))) ||
	    !(p = field(p, end, "signature", s, sizeof(s))) || p != end)
		return -EINVAL;
	char *num_end;
	for (const char *q = c; *q; q++)
		if (*q < '0' || *q > '9')
			return -EINVAL;
	errno = 0;
	unsigned long long created = strtoull(c, &num_end, 10);
	if (errno || *num_end || created > INT64_MAX)
		return -EINVAL;
	if (nym_base58_decode_exact(out->authority, 32, a) || nym_base58_decode_exact(out->signature, 64, s))
		return -EINVAL;
	out->created = (int64_t)created;
	return 0;
}
