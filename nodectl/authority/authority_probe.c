/* The authority's prober thread: every probe_interval it probes each registered node (mixnet
 * port and HTTP API, in parallel, within probe_timeout) and merges the other authorities'
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
	struct nym_descriptor_signed *nodes;
	size_t n;
	if (nym_registry_all(a->probe_reg, &nodes, &n) != 0)
		return;
	struct nym_probe *probes = n ? calloc(n, sizeof(*probes)) : NULL;
	if (n && !probes) {
		free(nodes);
		return;
	}
	for (size_t i = 0; i < n; i++)
		probes[i].node = &nodes[i].d;
	int64_t started = nym_clock_unix_now();
	if (nym_probe_run(probes, n, (long)(a->cfg->authority.probe_timeout_ns / NYM_NS_PER_MS)) == 0) {
		for (size_t i = 0; i < n; i++) {
			/* Stamped with the round's start: the node answered at or after it. */
			nym_registry_probe_result(a->probe_reg, nodes[i].d.identity, started, probes[i].mix_ok,
						  probes[i].http_ok);
			if (!probes[i].mix_ok || !probes[i].http_ok) {
				atomic_fetch_add(&a->n.probes_failed, 1);
				log_ratelimited(NYM_LOG_INFO, "authority: %s did not answer (mixnet %s, http %s)",
						nodes[i].d.addresses[0], probes[i].mix_ok ? "ok" : "no",
						probes[i].http_ok ? "ok" : "no");
			}
		}
		atomic_fetch_add(&a->n.probe_rounds, 1);
	}
	free(probes);
	free(nodes);
}

static void merge_peers(struct authority *a)
{
	struct nym_http_batch_item items[NYM_AUTHORITIES_MAX];
	if (!a->npeers || authority_fetch_peers(a, "/v1/nodes", NYM_REGISTRY_LIST_MAX, 3000, items))
		return;
	for (size_t i = 0; i < a->npeers; i++) {
		size_t added = 0;
		if (items[i].rc == 0 && items[i].resp.status == 200 &&
		    nym_registry_merge(a->probe_reg, items[i].resp.body, items[i].resp.len, nym_clock_unix_now(), &added) == 0 &&
		    added) {
			atomic_fetch_add(&a->n.peer_merges, added);
			log_debug("authority: %zu descriptions learnt from %s", added, a->peers[i].url);
		}
		nym_http_response_free(&items[i].resp);
	}
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
			merge_peers(a);
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
