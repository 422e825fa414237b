/* The ticketbook file parser on arbitrary bytes: anything it accepts re-encodes to a file it
 * accepts again with the same content. */
#include <stdlib.h>
#include <string.h>

#include "cred/ticketbook.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_ticketbook *book, *again;
	if (nym_ticketbook_from_json(&book, (const char *)data, size) != 0)
		return 0;
	char *json;
	size_t len;
	if (nym_ticketbook_to_json(book, &json, &len) != 0 ||
	    nym_ticketbook_from_json(&again, json, len) != 0 || again->count != book->count ||
	    again->state != book->state ||
	    memcmp(again->entries, book->entries, sizeof(book->entries)) != 0)
		abort();
	nym_ticketbook_json_free(json, len);
	nym_ticketbook_free(again);
	nym_ticketbook_free(book);
	return 0;
}
