#include "gateway/gateway_wg_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/bytes.h"

#define NO_POS UINT32_MAX

void gateway_wg_pool_default_config(struct gateway_wg_pool_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->net4[0] = 10;
	cfg->net4[1] = 1;
	cfg->prefix4 = 16;
	cfg->net6[0] = 0xfc;
	cfg->net6[1] = 0x01;
	cfg->prefix6 = 112;
	memcpy(cfg->gateway4, cfg->net4, 4);
	cfg->gateway4[3] = 1;
	memcpy(cfg->gateway6, cfg->net6, 16);
	cfg->gateway6[15] = 1;
}

/* Whether the first `bits` bits of a and b agree. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* Host bits of the last 4 bytes (both prefixes leave at most 16 host bits). */
static uint32_t host_part(const uint8_t *addr_tail4, unsigned host_bits)
{
	return nym_bytes_get_be32(addr_tail4) & ((1u << host_bits) - 1);
}

static bool host_bits_zero(const uint8_t *addr, size_t len, unsigned prefix)
{
	uint8_t tmp[16] = { 0 };
	memcpy(tmp, addr, len);
	/* The address with its host bits cleared must equal itself. */
	uint8_t masked[16] = { 0 };
	for (unsigned i = 0; i < prefix; i++)
		masked[i / 8] |= (uint8_t)(tmp[i / 8] & (0x80 >> (i % 8)));
	return memcmp(masked, tmp, len) == 0;
}

static int offset4(const struct gateway_wg_pool_config *c, const uint8_t a[4], uint32_t *off)
{
	if (!prefix_eq(a, c->net4, c->prefix4))
		return -ENOENT;
	*off = host_part(a, 32u - c->prefix4);
	return 0;
}

static int offset6(const struct gateway_wg_pool_config *c, const uint8_t a[16], uint32_t *off)
{
	if (!prefix_eq(a, c->net6, c->prefix6))
		return -ENOENT;
	*off = host_part(a + 12, 128u - c->prefix6);
	return 0;
}

bool gateway_wg_pool_contains(const struct gateway_wg_pool_config *cfg, int family, const uint8_t *addr)
{
	uint32_t off;
	if (family == AF_INET)
		return offset4(cfg, addr, &off) == 0;
	if (family == AF_INET6)
		return offset6(cfg, addr, &off) == 0;
	return false;
}

static void free_push(struct gateway_wg_pool *p, uint32_t i)
{
	p->free_pos[i] = p->n_free;
	p->free_list[p->n_free++] = i;
}

static void free_remove(struct gateway_wg_pool *p, uint32_t i)
{
	uint32_t pos = p->free_pos[i];
	uint32_t last = p->free_list[--p->n_free];
	p->free_list[pos] = last;
	p->free_pos[last] = pos;
	p->free_pos[i] = NO_POS;
}

int gateway_wg_pool_init(struct gateway_wg_pool *p, const struct gateway_wg_pool_config *cfg,
			 const struct nym_rng *rng)
{
	uint32_t g4, g6;
	memset(p, 0, sizeof(*p));
	if (cfg->prefix4 < 16 || cfg->prefix4 > 30 || cfg->prefix6 < 112 || cfg->prefix6 > 126)
		return -EINVAL;
	if (!host_bits_zero(cfg->net4, 4, cfg->prefix4) || !host_bits_zero(cfg->net6, 16, cfg->prefix6))
		return -EINVAL;
	p->cfg = *cfg;
	if (offset4(cfg, cfg->gateway4, &g4) || offset6(cfg, cfg->gateway6, &g6))
		return -EINVAL;
	uint32_t n4 = 1u << (32 - cfg->prefix4), n6 = 1u << (128 - cfg->prefix6);
	p->size = n4 < n6 ? n4 : n6;
	p->rng = rng;
	p->state = calloc(p->size, 1);
	p->free_list = calloc(p->size, sizeof(uint32_t));
	p->free_pos = calloc(p->size, sizeof(uint32_t));
	if (!p->state || !p->free_list || !p->free_pos) {
		gateway_wg_pool_free(p);
		return -ENOMEM;
	}
	uint32_t last = n4 - 2 < n6 - 1 ? n4 - 2 : n6 - 1;
	for (uint32_t i = 0; i < p->size; i++) {
		p->free_pos[i] = NO_POS;
		if (i == 0 || i > last || i == g4 || i == g6)
			continue;
		p->state[i] = GATEWAY_WG_PAIR_FREE;
		free_push(p, i);
	}
	return 0;
}

void gateway_wg_pool_free(struct gateway_wg_pool *p)
{
	free(p->state);
	free(p->free_list);
	free(p->free_pos);
	p->state = NULL;
	p->free_list = p->free_pos = NULL;
	p->size = 0;
}

void gateway_wg_pool_pair(const struct gateway_wg_pool *p, uint32_t index, struct link_wg_ips *out)
{
	uint32_t v4 = nym_bytes_get_be32(p->cfg.net4) + index;
	nym_bytes_put_be32(out->v4, v4);
	memcpy(out->v6, p->cfg.net6, 16);
	nym_bytes_put_be32(out->v6 + 12, nym_bytes_get_be32(p->cfg.net6 + 12) + index);
}

int gateway_wg_pool_index_of(const struct gateway_wg_pool *p, int family, const uint8_t *addr, uint32_t *index)
{
	uint32_t off;
	int rc = family == AF_INET ? offset4(&p->cfg, addr, &off) : family == AF_INET6 ? offset6(&p->cfg, addr, &off) : -ENOENT;
	if (rc || off >= p->size || p->state[off] == GATEWAY_WG_PAIR_NONE)
		return -ENOENT;
	*index = off;
	return 0;
}

int gateway_wg_pool_index(const struct gateway_wg_pool *p, const struct link_wg_ips *ips, uint32_t *index)
{
	uint32_t a, b;
	if (gateway_wg_pool_index_of(p, AF_INET, ips->v4, &a) || gateway_wg_pool_index_of(p, AF_INET6, ips->v6, &b) ||
	    a != b)
		return -ENOENT;
	*index = a;
	return 0;
}

enum gateway_wg_pair_state gateway_wg_pool_state(const struct gateway_wg_pool *p, uint32_t index)
{
	return index < p->size ? (enum gateway_wg_pair_state)p->state[index] : GATEWAY_WG_PAIR_NONE;
}

int gateway_wg_pool_preallocate(struct gateway_wg_pool *p, uint32_t *index)
{
	uint64_t r;
	if (!p->n_free)
		return -ENOSPC;
	nym_rng_fill(p->rng, &r, sizeof(r));
	uint32_t i = p->free_list[r % p->n_free];
	free_remove(p, i);
	p->state[i] = GATEWAY_WG_PAIR_PREALLOCATED;
	p->n_pre++;
	*index = i;
	return 0;
}

int gateway_wg_pool_allocate(struct gateway_wg_pool *p, uint32_t index, bool claim_free)
{
	switch (gateway_wg_pool_state(p, index)) {
	case GATEWAY_WG_PAIR_PREALLOCATED:
		p->n_pre--;
		break;
	case GATEWAY_WG_PAIR_FREE:
		if (!claim_free)
			return -EBUSY;
		free_remove(p, index);
		break;
	case GATEWAY_WG_PAIR_ALLOCATED:
		return -EALREADY;
	default:
		return -ENOENT;
	}
	p->state[index] = GATEWAY_WG_PAIR_ALLOCATED;
	p->n_alloc++;
	return 0;
}

int gateway_wg_pool_release(struct gateway_wg_pool *p, uint32_t index)
{
	switch (gateway_wg_pool_state(p, index)) {
	case GATEWAY_WG_PAIR_PREALLOCATED:
		p->n_pre--;
		break;
	case GATEWAY_WG_PAIR_ALLOCATED:
		p->n_alloc--;
		break;
	default:
		return -ENOENT;
	}
	p->state[index] = GATEWAY_WG_PAIR_FREE;
	free_push(p, index);
	return 0;
}

void gateway_wg_pool_counts(const struct gateway_wg_pool *p, uint32_t *total, uint32_t *n_free, uint32_t *n_pre,
			    uint32_t *n_alloc)
{
	*total = p->n_free + p->n_pre + p->n_alloc;
	*n_free = p->n_free;
	*n_pre = p->n_pre;
	*n_alloc = p->n_alloc;
}
