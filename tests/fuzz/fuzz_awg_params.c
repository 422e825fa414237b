/* AWG parameter text ("jc=4,jmin=40,..."): any byte string parses or fails with a reason; a
 * parsed set validates, formats, and parses back to itself; its junk sizes stay in range. */
#include <stdlib.h>
#include <string.h>

#include "awg/awg.h"
#include "fuzz.h"

/* Field by field: the struct has padding after s2, which memcmp would read. */
static int same_fields(const struct awg_params *a, const struct awg_params *b)
{
	return a->jc == b->jc && a->jmin == b->jmin && a->jmax == b->jmax && a->s1 == b->s1 && a->s2 == b->s2 &&
	       a->h1 == b->h1 && a->h2 == b->h2 && a->h3 == b->h3 && a->h4 == b->h4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct awg_params p, q;
	const char *why = NULL;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	int rc = awg_params_parse(text, &p, &why);
	free(text);
	if (rc) {
		if (!why || !*why)
			abort();
		return 0;
	}
	if (awg_params_validate(&p, NULL) != 0)
		abort();
	char out[AWG_PARAMS_TEXT_MAX];
	if (awg_params_format(&p, out, sizeof(out)) != 0 || awg_params_parse(out, &q, NULL) != 0 ||
	    !same_fields(&p, &q) || !awg_params_equal(&p, &q))
		abort();
	if (p.jc) {
		size_t n = awg_junk_size(&p, NULL);
		if (n < p.jmin || (p.jmax > p.jmin && n >= p.jmax) || (p.jmax == p.jmin && n != p.jmin))
			abort();
	}
	return 0;
}
