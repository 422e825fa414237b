#include "nodectl/gateway/gateway_plane.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mix/mix_frame.h"
#include "util/log.h"

struct inject_item {
	struct inject_item *next;
	struct net_addr hop;
	uint8_t key_rotation;
	enum mix_packet_size size;
	size_t len;
	uint8_t packet[];
};

struct gateway_plane {
	pthread_mutex_t lock;
	size_t max;
	struct mix_shared *mix;
	struct worker_metrics *m;
	int final_fd;
	struct gateway_plane_final *final_head, *final_tail;
	size_t final_count;
	struct inject_item *inj_head, *inj_tail;
	size_t inj_count;
};

int gateway_plane_create(struct gateway_plane **out, size_t max, struct worker_metrics *m)
{
	struct gateway_plane *p = calloc(1, sizeof(*p));
	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->final_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->final_fd < 0) {
		int rc = -errno;
		free(p);
		return rc;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->max = max;
	p->m = m;
	*out = p;
	return 0;
}

void gateway_plane_free(struct gateway_plane *p)
{
	if (!p)
		return;
	while (p->final_head) {
		struct gateway_plane_final *f = p->final_head;
		p->final_head = f->next;
		free(f);
	}
	while (p->inj_head) {
		struct inject_item *i = p->inj_head;
		p->inj_head = i->next;
		free(i);
	}
	close(p->final_fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void wake(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(NYM_LOG_WARN, "gateway: cannot wake a thread: %s", strerror(errno));
}

/* Mix worker: a final hop. Copies the message into the service's queue. */
static void on_final(void *ctx, struct mix_worker *w, const struct mix_frame *f, const struct mix_forward *d,
		     const uint8_t *msg, size_t msg_len)
{
	struct gateway_plane *p = ctx;
	struct gateway_plane_final *q = malloc(sizeof(*q) + msg_len);
	if (!q) {
		METRIC_INC(w->m, gateway_final_dropped);
		return;
	}
	q->next = NULL;
	q->size = f->header.size;
	q->key_rotation = f->header.key_rotation;
	memcpy(q->destination, d->destination, 32);
	q->len = msg_len;
	memcpy(q->msg, msg, msg_len);
	pthread_mutex_lock(&p->lock);
	bool full = p->final_count >= p->max, was_empty = p->final_count == 0;
	if (!full) {
		if (p->final_tail)
			p->final_tail->next = q;
		else
			p->final_head = q;
		p->final_tail = q;
		p->final_count++;
	}
	pthread_mutex_unlock(&p->lock);
	if (full) {
		free(q);
		METRIC_INC(w->m, gateway_final_dropped);
		log_ratelimited(NYM_LOG_WARN, "gateway: final-hop queue full, dropping");
		return;
	}
	if (was_empty)
		wake(p->final_fd);
}

/* Mix worker, on every wake: frames and queues what was injected. */
static void on_drain(void *ctx, struct mix_worker *w)
{
	struct gateway_plane *p = ctx;
	pthread_mutex_lock(&p->lock);
	struct inject_item *i = p->inj_head;
	p->inj_head = p->inj_tail = NULL;
	p->inj_count = 0;
	pthread_mutex_unlock(&p->lock);
	while (i) {
		struct inject_item *next = i->next;
		struct packet_slot *s = mix_slot_alloc(w, MIX_FRAME_HEADER_LEN + i->len);
		struct egress_peer *peer = s ? mix_egress_peer(w, &i->hop) : NULL;
		if (!peer) {
			atomic_fetch_add_explicit(&p->m->gateway_inject_dropped, 1, memory_order_relaxed);
			log_ratelimited(NYM_LOG_INFO, "gateway: dropping an injected packet (%s)",
					s ? "next hop outside the topology" : "packet memory budget exhausted");
			if (s)
				mix_slot_free(w, s);
		} else {
			struct mix_frame_header h = { .version = MIX_FRAME_VERSION,
						      .size = i->size,
						      .type = MIX_PACKET_TYPE_MIX,
						      .key_rotation = i->key_rotation };
			size_t hlen;
			mix_frame_header_encode(&h, s->frame, &hlen);
			memcpy(s->frame + MIX_FRAME_HEADER_LEN, i->packet, i->len);
			s->peer = peer;
			mix_egress_enqueue(w, s);
		}
		free(i);
		i = next;
	}
}

void gateway_plane_attach(struct gateway_plane *p, struct mix_shared *mix)
{
	p->mix = mix;
	mix->gateway_ctx = p;
	mix->gateway_final = on_final;
	mix->gateway_drain = on_drain;
}

int gateway_plane_inject(struct gateway_plane *p, const struct net_addr *next_hop, uint8_t key_rotation,
			 enum mix_packet_size size, const uint8_t *packet, size_t len)
{
	if (!p || !next_hop || !packet || mix_packet_size_is_outfox(size) || len != mix_packet_size_len(size) ||
	    key_rotation > MIX_KEY_ROTATION_EVEN || next_hop->len > sizeof(next_hop->ss))
		return -EINVAL;
	struct inject_item *i = malloc(sizeof(*i) + len);
	if (!i) {
		atomic_fetch_add_explicit(&p->m->gateway_inject_dropped, 1, memory_order_relaxed);
		return -ENOBUFS;
	}
	i->next = NULL;
	i->hop = *next_hop;
	i->key_rotation = key_rotation;
	i->size = size;
	i->len = len;
	memcpy(i->packet, packet, len);
	pthread_mutex_lock(&p->lock);
	bool full = p->inj_count >= p->max, was_empty = p->inj_count == 0;
	if (!full) {
		if (p->inj_tail)
			p->inj_tail->next = i;
		else
			p->inj_head = i;
		p->inj_tail = i;
		p->inj_count++;
	}
	pthread_mutex_unlock(&p->lock);
	if (full) {
		free(i);
		atomic_fetch_add_explicit(&p->m->gateway_inject_dropped, 1, memory_order_relaxed);
		return -ENOBUFS;
	}
	if (was_empty && p->mix && p->mix->workers)
		wake(p->mix->workers[0].wake_fd);
	return 0;
}

int gateway_plane_final_fd(const struct gateway_plane *p)
{
	return p->final_fd;
}

struct gateway_plane_final *gateway_plane_take_final(struct gateway_plane *p)
{
	pthread_mutex_lock(&p->lock);
	struct gateway_plane_final *f = p->final_head;
	p->final_head = p->final_tail = NULL;
	p->final_count = 0;
	pthread_mutex_unlock(&p->lock);
	return f;
}
