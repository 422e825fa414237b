#include "client/client_poisson.h"

#include <errno.h>

#include "mix/mix_delay.h"

void client_poisson_config_default(struct client_poisson_config *cfg)
{
	*cfg = (struct client_poisson_config){
		.message_sending_average_delay_ns = CLIENT_POISSON_DEFAULT_MESSAGE_SENDING_AVERAGE_DELAY_NS,
		.loop_cover_traffic_average_delay_ns = CLIENT_POISSON_DEFAULT_LOOP_COVER_TRAFFIC_AVERAGE_DELAY_NS,
	};
}

static const struct nym_rng *rng_of(const struct client_poisson *p)
{
	return p->rng.fill ? &p->rng : NULL;
}

/* At least 1 ns, so each stream fires at most once per distinct now: a caller that polls until
 * NONE at one time always stops, even with the mixed stream's rate lifted (mean 0). */
static uint64_t after(uint64_t now_ns, uint64_t mean_ns, const struct client_poisson *p)
{
	uint64_t wait = mix_delay_sample_ns(mean_ns, rng_of(p));
	if (wait == 0)
		wait = 1;
	return wait > UINT64_MAX - now_ns ? UINT64_MAX : now_ns + wait;
}

int client_poisson_init(struct client_poisson *p, const struct client_poisson_config *cfg,
			const struct nym_rng *rng, uint64_t now_ns)
{
	if (!cfg->disable_loop_cover_traffic_stream && cfg->loop_cover_traffic_average_delay_ns == 0)
		return -EINVAL;
	*p = (struct client_poisson){ .cfg = *cfg };
	if (rng)
		p->rng = *rng;
	p->mixed_due_ns = after(now_ns, cfg->message_sending_average_delay_ns, p);
	p->loop_due_ns = cfg->disable_loop_cover_traffic_stream
				 ? UINT64_MAX
				 : after(now_ns, cfg->loop_cover_traffic_average_delay_ns, p);
	return 0;
}

static uint64_t mixed_due(const struct client_poisson *p, uint64_t now_ns, size_t queued)
{
	if (p->cfg.disable_main_poisson_packet_distribution)
		return queued > 0 ? now_ns : UINT64_MAX;
	return p->mixed_due_ns;
}

uint64_t client_poisson_next_due(const struct client_poisson *p, uint64_t now_ns, size_t queued)
{
	uint64_t mixed = mixed_due(p, now_ns, queued);
	return mixed < p->loop_due_ns ? mixed : p->loop_due_ns;
}

static void note_lateness(struct client_poisson *p, uint64_t due_ns, uint64_t now_ns)
{
	uint64_t late = now_ns - due_ns;
	if (late > p->stats.late_ns_max)
		p->stats.late_ns_max = late;
}

enum client_poisson_event client_poisson_poll(struct client_poisson *p, uint64_t now_ns, size_t queued)
{
	uint64_t mixed = mixed_due(p, now_ns, queued);
	bool mixed_ready = mixed <= now_ns;
	bool loop_ready = p->loop_due_ns <= now_ns;

	if (loop_ready && (!mixed_ready || p->loop_due_ns < mixed)) {
		note_lateness(p, p->loop_due_ns, now_ns);
		p->loop_due_ns = after(now_ns, p->cfg.loop_cover_traffic_average_delay_ns, p);
		p->stats.loop_cover++;
		return CLIENT_POISSON_LOOP_COVER;
	}
	if (!mixed_ready)
		return CLIENT_POISSON_NONE;
	if (!p->cfg.disable_main_poisson_packet_distribution) {
		note_lateness(p, mixed, now_ns);
		p->mixed_due_ns = after(now_ns, p->cfg.message_sending_average_delay_ns, p);
	}
	if (queued > 0) {
		p->stats.real++;
		return CLIENT_POISSON_REAL;
	}
	p->stats.cover++;
	return CLIENT_POISSON_COVER;
}

void client_poisson_get_stats(const struct client_poisson *p, struct client_poisson_stats *out)
{
	*out = p->stats;
}
