/* The authority's prober thread: every probe_interval it probes each registered node (mixnet
 * port and HTTP API, probe_parallel connections at once, each within probe_timeout) and merges the other authorities'
 * registries, so a node that reached only some of them is still known to all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nodectl/authority/authority.h"
#include "dirclient/probe.h"
#include "http/http_client.h"
#include "util/clock.h"
#include "util/log.h"

static void probe_round(struct authority *a)
{
	struct nym_descriptor *nodes;
	size_t n;
	if (nym_registry_probe_order(a->probe_reg, &nodes, &n) != 0)
		return;
	struct nym_probe *probes = n ? calloc(n, sizeof(*probes)) : NULL;
	if (n && !probes) {
		free(nodes);
		return;
	}
	for (size_t i = 0; i < n; i++)
		probes[i].node = &nodes[i];
	int64_t started = nym_clock_unix_now();
	/* A round ends before the next begins, however many nodes wait: those left over (the
	 * least established, by the order above) count as not answering this round. */
	long timeout_ms = (long)(a->cfg->authority.probe_timeout_ns / NYM_NS_PER_MS);
	long round_ms = (long)(a->cfg->authority.probe_interval_ns / NYM_NS_PER_MS);
	if (nym_probe_run(probes, n, timeout_ms, (size_t)a->cfg->authority.probe_parallel,
			  round_ms > timeout_ms ? round_ms : timeout_ms) == 0) {
		struct nym_registry_probe_outcome *out = calloc(n ? n : 1, sizeof(*out));
		for (size_t i = 0; out && i < n; i++) {
			out[i] = (struct nym_registry_probe_outcome){ nodes[i].identity, probes[i].mix_ok, probes[i].http_ok };
			if (!probes[i].mix_ok || !probes[i].http_ok) {
				atomic_fetch_add(&a->n.probes_failed, 1);
				log_ratelimited(NYM_LOG_INFO, "authority: %s did not answer (mixnet %s, http %s)",
						nodes[i].addresses[0], probes[i].mix_ok ? "ok" : "no",
						probes[i].http_ok ? "ok" : "no");
			}
		}
		/* Stamped with the round's start: the nodes answered at or after it. Under the HTTP
		 * lock: SQLite's busy wait would let a stream of registrations starve this write
		 * past the vote, and the votes are what the registry is for. */
		atomic_store(&a->prober_waiting, true);
		pthread_mutex_lock(&a->http_lock);
		atomic_store(&a->prober_waiting, false);
		int rc = out ? nym_registry_probe_results(a->probe_reg, out, n, started) : -ENOMEM;
		pthread_mutex_unlock(&a->http_lock);
		if (rc)
			log_warn("authority: cannot record a probe round: %s", strerror(-rc));
		free(out);
		atomic_fetch_add(&a->n.probe_rounds, 1);
	}
	free(probes);
	free(nodes);
}

static void *prober(void *arg)
{
	struct authority *a = arg;
	uint64_t interval = a->cfg->authority.probe_interval_ns, next = 0;
	while (!atomic_load(&a->stopping)) {
		uint64_t now = nym_clock_now_ns();
		if (now >= next) {
			next = now + interval;
			probe_round(a);
			authority_merge_peer_nodes(a);
			authority_merge_admissions(a);
		}
		struct timespec pause = { 0, 100 * 1000000L };
		nanosleep(&pause, NULL);
	}
	return NULL;
}

int authority_prober_start(struct authority *a)
{
	int rc = pthread_create(&a->prober, NULL, prober, a);
	if (rc) {
		log_error("authority: cannot start the prober: %s", strerror(rc));
		return -rc;
	}
	a->prober_started = true;
	return 0;
}

void authority_prober_stop(struct authority *a)
{
	if (!a->prober_started)
		return;
	atomic_store(&a->stopping, true);
	pthread_join(a->prober, NULL);
	a->prober_started = false;
}
