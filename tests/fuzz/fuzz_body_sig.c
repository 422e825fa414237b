/* The X-Nym-Signature header parser: an accepted value formats back to a value that parses to
 * the same fields. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topology/body_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_body_sig s, back;
	if (nym_body_sig_parse((const char *)data, size, &s) != 0)
		return 0;
	char text[NYM_BODY_SIG_TEXT_MAX];
	nym_body_sig_format(&s, text);
	if (nym_body_sig_parse(text, strlen(text), &back) != 0 || memcmp(&s, &back, sizeof(s)) != 0)
		abort();
	(void)nym_body_sig_valid(&s, "issuer-keys", data, size);
	return 0;
}
