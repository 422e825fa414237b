#include "directory/address_limit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_addr.h"
#include "util/hex.h"

/* The form an address is counted under: the per-address key every limit of the project uses
 * (net_addr_limit_key: IPv4, or the /64 of IPv6) in hex, or the text itself when it is no
 * address. */
static void address_key(const char *text, char out[NYM_DESCRIPTOR_ADDR_LEN + 4])
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	uint8_t key[NET_ADDR_LIMIT_KEY_LEN];
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
		v4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
		v6->sin6_family = AF_INET6;
	if (net_addr_limit_key((const struct sockaddr *)&ss, key) == 0)
		nym_hex_encode(out, key, sizeof(key));
	else
		snprintf(out, NYM_DESCRIPTOR_ADDR_LEN + 4, "?:%s", text);
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
