#include "mix/mix_fragment.h"
#include "util/bytes.h"

#include <errno.h>
#include <string.h>

#define FLAG 0x80000000u
#define ID_MASK 0x7fffffffu
/* No packet class comes near this; it keeps every product below from overflowing. */
#define MAX_PER_PACKET (1u << 20)

/* Per-set capacities for a given plaintext per packet (Nym's set.rs). */
struct layout {
	size_t unlinked; /* data bytes of an unlinked fragment */
	size_t linked;	 /* data bytes of a linked fragment */
	size_t single;	 /* a set linked to nothing: 255 unlinked fragments */
	size_t one_way;	 /* first set of a chain: one linked fragment */
	size_t two_way;	 /* a middle set: two linked fragments */
};

static int layout_init(struct layout *l, size_t per_packet)
{
	if (per_packet < MIX_FRAGMENT_MIN_PER_PACKET || per_packet > MAX_PER_PACKET)
		return -EINVAL;
	l->unlinked = per_packet - MIX_FRAGMENT_UNLINKED_HEADER_LEN;
	l->linked = per_packet - MIX_FRAGMENT_LINKED_HEADER_LEN;
	l->single = MIX_FRAGMENT_SET_MAX * l->unlinked;
	l->one_way = l->single - (l->unlinked - l->linked);
	l->two_way = l->single - 2 * (l->unlinked - l->linked);
	return 0;
}

static size_t ceil_div(size_t a, size_t b)
{
	return a / b + (a % b != 0);
}

static size_t layout_sets(const struct layout *l, size_t len)
{
	if (len <= l->single)
		return 1;
	if (len <= 2 * l->one_way)
		return 2;
	return 2 + ceil_div(len - 2 * l->one_way, l->two_way);
}

static size_t layout_set_start(const struct layout *l, size_t k)
{
	return k == 0 ? 0 : l->one_way + (k - 1) * l->two_way;
}

static size_t layout_set_end(const struct layout *l, size_t n, size_t k, size_t len)
{
	if (k == n - 1)
		return len;
	return layout_set_start(l, k) + (k == 0 ? l->one_way : l->two_way);
}

/* Fragments in set k holding slen bytes. */
static size_t layout_set_count(const struct layout *l, size_t n, size_t k, size_t slen)
{
	if (k < n - 1)
		return MIX_FRAGMENT_SET_MAX;
	if (k == 0)
		return ceil_div(slen, l->unlinked);
	return 1 + (slen > l->linked ? ceil_div(slen - l->linked, l->unlinked) : 0);
}

int mix_fragment_plaintext_per_packet(enum mix_packet_size size, size_t *out)
{
	size_t plain = mix_packet_size_plaintext_len(size);
	size_t overhead = (mix_packet_size_is_outfox(size) ? MIX_FRAGMENT_OUTFOX_ACK_OVERHEAD
							   : MIX_FRAGMENT_ACK_OVERHEAD) +
			  MIX_FRAGMENT_VARIANT_OVERHEAD;
	if (plain < overhead + MIX_FRAGMENT_MIN_PER_PACKET)
		return -EINVAL;
	*out = plain - overhead;
	return 0;
}

int mix_fragment_plaintext_per_packet_unacked(enum mix_packet_size size, size_t *out)
{
	size_t plain = mix_packet_size_plaintext_len(size);
	size_t overhead = MIX_NODE_ADDR_MAX_UNPADDED_LEN + MIX_FRAGMENT_VARIANT_OVERHEAD;
	if (mix_packet_size_is_outfox(size) || plain < MIX_FRAGMENT_ACK_OVERHEAD + overhead + MIX_FRAGMENT_MIN_PER_PACKET)
		return -EINVAL;
	*out = plain - overhead;
	return 0;
}

size_t mix_fragment_unlinked_capacity(size_t per_packet)
{
	return per_packet > MIX_FRAGMENT_UNLINKED_HEADER_LEN
		       ? per_packet - MIX_FRAGMENT_UNLINKED_HEADER_LEN
		       : 0;
}

size_t mix_fragment_linked_capacity(size_t per_packet)
{
	return per_packet > MIX_FRAGMENT_LINKED_HEADER_LEN
		       ? per_packet - MIX_FRAGMENT_LINKED_HEADER_LEN
		       : 0;
}

size_t mix_fragment_header_len(const struct mix_fragment *f)
{
	return f->prev_set_id || f->next_set_id ? MIX_FRAGMENT_LINKED_HEADER_LEN
						: MIX_FRAGMENT_UNLINKED_HEADER_LEN;
}

/* FragmentHeader::try_new. */
static bool header_valid(const struct mix_fragment *f)
{
	if (f->set_id <= 0 || f->total == 0 || f->position == 0 || f->position > f->total)
		return false;
	if (f->prev_set_id &&
	    (f->prev_set_id < 0 || f->position != 1 || f->prev_set_id == f->set_id))
		return false;
	if (f->next_set_id && (f->next_set_id < 0 || f->position != f->total ||
			       f->total != MIX_FRAGMENT_SET_MAX || f->next_set_id == f->set_id))
		return false;
	/* One link field on the wire: a fragment cannot be both first and 255th. */
	return !(f->prev_set_id && f->next_set_id);
}

int mix_fragment_encode(const struct mix_fragment *f, uint8_t *out, size_t cap, size_t *written)
{
	if (!header_valid(f))
		return -EINVAL;
	size_t hlen = mix_fragment_header_len(f);
	if (cap < hlen || cap - hlen < f->data_len)
		return -ENOSPC;
	nym_bytes_put_be32(out, (uint32_t)f->set_id | FLAG);
	out[4] = f->total;
	out[5] = f->position;
	if (hlen == MIX_FRAGMENT_LINKED_HEADER_LEN)
		nym_bytes_put_be32(out + 6, (uint32_t)(f->prev_set_id ? f->prev_set_id : f->next_set_id) | FLAG);
	else
		out[6] = 0;
	if (f->data_len)
		memmove(out + hlen, f->data, f->data_len);
	*written = hlen + f->data_len;
	return 0;
}

int mix_fragment_decode(const uint8_t *in, size_t len, struct mix_fragment *out)
{
	if (len < MIX_FRAGMENT_UNLINKED_HEADER_LEN)
		return -EMSGSIZE;
	uint32_t id = nym_bytes_get_be32(in);
	if (!(id & FLAG))
		return -EINVAL;
	struct mix_fragment f = {
		.set_id = (int32_t)(id & ID_MASK),
		.total = in[4],
		.position = in[5],
	};
	size_t hlen = MIX_FRAGMENT_UNLINKED_HEADER_LEN;
	/* A nonzero byte 6 starts a link id, whose own flag bit must then be set. */
	if (in[6] != 0) {
		if (len < MIX_FRAGMENT_LINKED_HEADER_LEN)
			return -EMSGSIZE;
		uint32_t link = nym_bytes_get_be32(in + 6);
		if (!(link & FLAG))
			return -EINVAL;
		int32_t link_id = (int32_t)(link & ID_MASK);
		/* A zero link id would read back as "no link"; Nym refuses it too. */
		if (link_id == 0)
			return -EINVAL;
		if (f.position == 1)
			f.prev_set_id = link_id;
		else if (f.position == f.total && f.total == MIX_FRAGMENT_SET_MAX)
			f.next_set_id = link_id;
		else
			return -EINVAL;
		hlen = MIX_FRAGMENT_LINKED_HEADER_LEN;
	}
	if (!header_valid(&f))
		return -EINVAL;
	f.data = in + hlen;
	f.data_len = len - hlen;
	*out = f;
	return 0;
}

struct mix_fragment_id mix_fragment_id_of(const struct mix_fragment *f)
{
	return (struct mix_fragment_id){ .set_id = f->set_id, .position = f->position };
}

void mix_fragment_id_encode(const struct mix_fragment_id *id, uint8_t out[MIX_FRAG_ID_LEN])
{
	nym_bytes_put_be32(out, (uint32_t)id->set_id);
	out[4] = id->position;
}

int mix_fragment_id_decode(const uint8_t in[MIX_FRAG_ID_LEN], struct mix_fragment_id *out)
{
	uint32_t raw = nym_bytes_get_be32(in);
	/* Set id 0 is valid here: loop cover messages and replies use it. */
	if (raw & FLAG)
		return -EINVAL;
	out->set_id = (int32_t)raw;
	out->position = in[4];
	return 0;
}

bool mix_fragment_id_is_cover(const struct mix_fragment_id *id)
{
	return id->set_id == 0 && id->position == 0;
}

int mix_fragment_message_layout(size_t msg_len, size_t per_packet, size_t *padded_len,
				size_t *fragments)
{
	struct layout l;
	int r = layout_init(&l, per_packet);
	if (r)
		return r;
	/* At least one padding byte (0x01) always follows the message. Refuse lengths that
	 * would overflow the set arithmetic. */
	if (msg_len > SIZE_MAX / 4)
		return -EINVAL;
	size_t need = msg_len + 1;
	size_t n = layout_sets(&l, need);
	size_t start = layout_set_start(&l, n - 1);
	size_t count = layout_set_count(&l, n, n - 1, need - start);
	size_t last_cap = n == 1 ? count * l.unlinked : l.linked + (count - 1) * l.unlinked;
	*padded_len = start + last_cap;
	*fragments = (n - 1) * MIX_FRAGMENT_SET_MAX + count;
	return 0;
}

int mix_fragment_message_pad(enum mix_message_type type, const uint8_t *body, size_t body_len,
			     size_t per_packet, uint8_t *out, size_t cap, size_t *written)
{
	size_t padded, frags;
	if ((unsigned)type > MIX_MESSAGE_REPLY || body_len > SIZE_MAX / 4)
		return -EINVAL;
	int r = mix_fragment_message_layout(body_len + 1, per_packet, &padded, &frags);
	if (r)
		return r;
	if (cap < padded)
		return -ENOSPC;
	out[0] = (uint8_t)type;
	if (body_len)
		memmove(out + 1, body, body_len);
	out[1 + body_len] = 1;
	memset(out + 2 + body_len, 0, padded - body_len - 2);
	*written = padded;
	return 0;
}

int mix_fragment_message_unpad(const uint8_t *padded, size_t len, enum mix_message_type *type,
			       size_t *body_len)
{
	const uint8_t *marker = len ? memrchr(padded, 1, len) : NULL;
	if (!marker || marker == padded)
		return -EINVAL;
	if (padded[0] > MIX_MESSAGE_REPLY)
		return -EINVAL;
	*type = (enum mix_message_type)padded[0];
	*body_len = (size_t)(marker - padded) - 1;
	return 0;
}

/* A 31-bit nonzero id that differs from the given neighbours. */
static int32_t new_set_id(const struct nym_rng *rng, int32_t avoid1, int32_t avoid2)
{
	for (;;) {
		uint32_t r;
		nym_rng_fill(rng, &r, sizeof(r));
		int32_t id = (int32_t)(r & ID_MASK);
		if (id != 0 && id != avoid1 && id != avoid2)
			return id;
	}
}

static void begin_set(struct mix_fragmenter *f, const struct layout *l)
{
	size_t start = layout_set_start(l, f->set);
	size_t end = layout_set_end(l, f->n_sets, f->set, f->len);
	f->offset = start;
	f->position = 1;
	f->set_total = (unsigned)layout_set_count(l, f->n_sets, f->set, end - start);
}

int mix_fragmenter_init(struct mix_fragmenter *f, const uint8_t *msg, size_t len,
			size_t per_packet, const struct nym_rng *rng)
{
	struct layout l;
	int r = layout_init(&l, per_packet);
	if (r)
		return r;
	if (len == 0 || len > SIZE_MAX / 4)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->msg = msg;
	f->len = len;
	f->per_packet = per_packet;
	f->rng = rng;
	f->n_sets = layout_sets(&l, len);
	size_t last_start = layout_set_start(&l, f->n_sets - 1);
	f->total = (f->n_sets - 1) * MIX_FRAGMENT_SET_MAX +
		   layout_set_count(&l, f->n_sets, f->n_sets - 1, len - last_start);
	f->cur_id = new_set_id(rng, 0, 0);
	f->next_id = f->n_sets > 1 ? new_set_id(rng, f->cur_id, 0) : 0;
	begin_set(f, &l);
	return 0;
}

size_t mix_fragmenter_total(const struct mix_fragmenter *f)
{
	return f->total;
}

int mix_fragmenter_next(struct mix_fragmenter *f, uint8_t *out, size_t cap, size_t *written,
			struct mix_fragment_id *id)
{
	struct layout l;
	if (f->emitted == f->total)
		return -ENODATA;
	layout_init(&l, f->per_packet);

	bool linked_prev = f->position == 1 && f->set > 0;
	bool linked_next = f->position == MIX_FRAGMENT_SET_MAX && f->set + 1 < f->n_sets;
	size_t room = linked_prev || linked_next ? l.linked : l.unlinked;
	size_t end = layout_set_end(&l, f->n_sets, f->set, f->len);
	size_t take = end - f->offset < room ? end - f->offset : room;
	struct mix_fragment frag = {
		.set_id = f->cur_id,
		.total = (uint8_t)f->set_total,
		.position = (uint8_t)f->position,
		.prev_set_id = linked_prev ? f->prev_id : 0,
		.next_set_id = linked_next ? f->next_id : 0,
		.data = f->msg + f->offset,
		.data_len = take,
	};
	int r = mix_fragment_encode(&frag, out, cap, written);
	if (r)
		return r;
	if (id)
		*id = mix_fragment_id_of(&frag);
	f->offset += take;
	f->emitted++;
	if (f->position < f->set_total) {
		f->position++;
	} else if (f->set + 1 < f->n_sets) {
		f->set++;
		f->prev_id = f->cur_id;
		f->cur_id = f->next_id;
		f->next_id = f->set + 1 < f->n_sets ? new_set_id(f->rng, f->cur_id, f->prev_id) : 0;
		begin_set(f, &l);
	}
	return 0;
}
