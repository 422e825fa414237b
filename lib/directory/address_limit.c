#include "directory/address_limit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The form an address is counted under: "4:" + IPv4, "6:" + the /64, or the text itself. */
static void address_key(const char *text, char out[NYM_DESCRIPTOR_ADDR_LEN + 4])
{
	unsigned char bin[16];
	char buf[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET, text, bin) == 1) {
		snprintf(out, NYM_DESCRIPTOR_ADDR_LEN + 4, "4:%s", text);
	} else if (inet_pton(AF_INET6, text, bin) == 1) {
		memset(bin + 8, 0, 8);
		inet_ntop(AF_INET6, bin, buf, sizeof(buf));
		snprintf(out, NYM_DESCRIPTOR_ADDR_LEN + 4, "6:%s", buf);
	} else {
		snprintf(out, NYM_DESCRIPTOR_ADDR_LEN + 4, "?:%s", text);
	}
}

struct seen {
	char key[NYM_DESCRIPTOR_ADDR_LEN + 4];
	size_t count;
};

static int cmp_seen(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->key, ((const struct seen *)b)->key);
}

int nym_address_limit(struct nym_descriptor_signed *nodes, size_t *n, size_t max_per_address)
{
	if (max_per_address == 0)
		return -EINVAL;
	if (*n == 0)
		return 0;
	/* Every distinct address with its count: sorted once, then looked up by bsearch. */
	size_t total = 0;
	for (size_t i = 0; i < *n; i++)
		total += nodes[i].d.address_count;
	struct seen *seen = calloc(total ? total : 1, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	for (size_t i = 0, k = 0; i < *n; i++)
		for (size_t a = 0; a < nodes[i].d.address_count; a++)
			address_key(nodes[i].d.addresses[a], seen[k++].key);
	qsort(seen, total, sizeof(*seen), cmp_seen);
	size_t distinct = 0;
	for (size_t i = 0; i < total; i++)
		if (distinct == 0 || strcmp(seen[distinct - 1].key, seen[i].key) != 0)
			seen[distinct++] = seen[i];
	total = distinct;
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		struct seen *slot[NYM_DESCRIPTOR_ADDRS_MAX];
		bool fits = true;
		for (size_t a = 0; a < nodes[i].d.address_count; a++) {
			struct seen key;
			address_key(nodes[i].d.addresses[a], key.key);
			slot[a] = bsearch(&key, seen, total, sizeof(*seen), cmp_seen);
			fits &= slot[a]->count < max_per_address;
		}
		if (!fits)
			continue;
		/* Descriptors list distinct addresses, but two may share a /64. */
		for (size_t a = 0; a < nodes[i].d.address_count; a++) {
			bool again = false;
			for (size_t b = 0; b < a; b++)
				again |= slot[b] == slot[a];
			if (!again)
				slot[a]->count++;
		}
		if (kept != i)
			nodes[kept] = nodes[i];
		kept++;
	}
	free(seen);
	*n = kept;
	return 0;
}
