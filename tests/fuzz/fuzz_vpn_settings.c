/* nym-vpnd's settings.json parser over arbitrary bytes: whatever it reads must serialize and
 * read back to the same settings. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vpn/vpn_settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vpn_settings s, t;
	char err[256];
	if (vpn_settings_from_json((const char *)data, size, &s, err, sizeof(err)) != 0)
		return 0;
	char *text = vpn_settings_to_json(&s);
	if (!text)
		abort();
	if (vpn_settings_from_json(text, strlen(text), &t, err, sizeof(err)) != 0)
		abort();
	char *again = vpn_settings_to_json(&t);
	if (!again || strcmp(text, again) != 0)
		abort();
	free(text);
	free(again);
	return 0;
}
