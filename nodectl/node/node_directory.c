#include "nodectl/node/node_directory.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awg/awg_genl.h"
#include "crypto/secret.h"
#include "http/http_client.h"
#include "mixnode/key_rotation.h"
#include "nodectl/node/node_amnezia.h"
#include "topology/canonical.h"
#include "topology/descriptor.h"
#include "util/clock.h"
#include "util/log.h"

#define TICK_MS 200
#define RETRY_MS 2000
#define FETCH_RETRY_MS 1000
#define HTTP_TIMEOUT_MS 3000
#define TOPOLOGY_GRACE_S 5

int node_directory_configure(struct node_directory *d, const char *context, const struct cli_list *urls,
			     const struct cli_list *keys, uint64_t threshold)
{
	const struct conf_list *cu = &d->cfg->directory.authorities, *ck = &d->cfg->directory.authority_keys;
	d->nurls = 0;
	memset(&d->trust, 0, sizeof(d->trust));
	for (size_t i = 0; i < cu->count + urls->count; i++) {
		const char *u = i < cu->count ? cu->item[i] : urls->items[i - cu->count];
		if (!node_config_url_ok(u) || strlen(u) >= CONF_STR_MAX) {
			fprintf(stderr, "%s: --authority expects http://HOST:PORT, got '%s'\n", context, u);
			return -EINVAL;
		}
		if (d->nurls == NODE_DIRECTORY_AUTHORITIES_MAX) {
			fprintf(stderr, "%s: at most %d authorities\n", context, NODE_DIRECTORY_AUTHORITIES_MAX);
			return -EINVAL;
		}
		snprintf(d->urls[d->nurls++], CONF_STR_MAX, "%s", u);
	}
	for (size_t i = 0; i < ck->count + keys->count; i++) {
		const char *k = i < ck->count ? ck->item[i] : keys->items[i - ck->count];
		if (nym_dir_client_trust_add(&d->trust, k)) {
			fprintf(stderr, "%s: --authority-key expects a base58 Ed25519 key, got '%s'\n", context, k);
			return -EINVAL;
		}
	}
	if (!threshold)
		threshold = d->cfg->directory.threshold;
	if (!threshold)
		threshold = d->trust.count / 2 + 1;
	if (d->trust.count && threshold > d->trust.count) {
		fprintf(stderr, "%s: %llu signatures required but only %zu authority keys given\n", context,
			(unsigned long long)threshold, d->trust.count);
		return -EINVAL;
	}
	d->trust.threshold = (size_t)threshold;
	if (d->trust.count && !d->nurls) {
		fprintf(stderr, "%s: authority keys given but no authority URL (--authority)\n", context);
		return -EINVAL;
	}
	return 0;
}

static int port_of(const char *bind)
{
	struct net_addr a;
	return net_addr_parse(&a, bind, -1) ? 0 : net_addr_port((const struct sockaddr *)&a.ss);
}

static struct key_rotation_schedule schedule_of(const struct node_directory *d)
{
	return (struct key_rotation_schedule){ d->clock.genesis, (uint64_t)d->clock.duration_s,
					       (uint32_t)d->cfg->sphinx.epochs_per_rotation };
}

/* The description of this node now, signed. */
static int describe(struct node_directory *d, int64_t now, char **body, size_t *len)
{
	const struct node_config *c = d->cfg;
	struct nym_descriptor desc = { 0 };
	enum node_mode mode = NODE_MODE_MIXNODE;
	node_mode_parse(c->mode, &mode);
	memcpy(desc.identity, d->identity.public_key, 32);
	memcpy(desc.noise_key, d->noise_public, 32);
	struct key_rotation_schedule sched = schedule_of(d);
	uint32_t oldest = key_rotation_announced_from(&sched, now);
	pthread_mutex_lock(&d->http->lock);
	/* Every live key if none is as new (a node whose next key is not made yet). */
	bool any = false;
	for (size_t i = 0; i < d->http->sphinx_count; i++)
		any |= d->http->sphinx_rotation[i] >= oldest;
	if (!any)
		oldest = 0;
	for (size_t i = 0; i < d->http->sphinx_count && desc.sphinx_count < NYM_DESCRIPTOR_SPHINX_MAX; i++) {
		if (d->http->sphinx_rotation[i] < oldest)
			continue;
		desc.sphinx[desc.sphinx_count].rotation = d->http->sphinx_rotation[i];
		memcpy(desc.sphinx[desc.sphinx_count].key, d->http->sphinx_public[i], 32);
		desc.sphinx_count++;
	}
	pthread_mutex_unlock(&d->http->lock);
	for (size_t i = 0; i < c->host.public_ips.count && desc.address_count < NYM_DESCRIPTOR_ADDRS_MAX; i++) {
		unsigned char bin[16];
		const char *ip = c->host.public_ips.item[i];
		int af = strchr(ip, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(af, ip, bin) == 1)
			inet_ntop(af, bin, desc.addresses[desc.address_count++], NYM_DESCRIPTOR_ADDR_LEN);
	}
	desc.mix_port = (uint16_t)(c->mixnet.announce_port ? c->mixnet.announce_port : (uint64_t)port_of(c->mixnet.bind_address));
	desc.http_port = (uint16_t)port_of(c->http.bind_address);
	if (mode == NODE_MODE_MIXNODE) {
		desc.roles = NYM_ROLE_MIXNODE;
	} else {
		desc.roles = NYM_ROLE_ENTRY | (mode == NODE_MODE_EXIT ? NYM_ROLE_EXIT : 0);
		desc.clients_port = (uint16_t)c->gateway.clients_port;
		if (d->wireguard) {
			desc.roles |= NYM_ROLE_WIREGUARD;
			desc.wireguard_port = (uint16_t)c->wireguard.announced_port;
			memcpy(desc.wireguard_key, d->wg.public_key, 32);
			/* Announced only as the module applies it now (PROTOCOLS §7.2): what nym_awg.ko holds for
			 * the device, a RESPONDER set. */
			struct awg_params ap;
			int awg_mode;
			if (node_amnezia_on(c) &&
			    awg_genl_get(c->wireguard.interface, &ap, &awg_mode, NULL) == 0 &&
			    awg_mode == AWG_GENL_MODE_RESPONDER && awg_params_active(&ap) &&
			    awg_params_validate(&ap, NULL) == 0) {
				desc.has_amnezia = true;
				desc.amnezia = ap;
			}
		}
	}
	if (strlen(c->host.location) == 2) /* validated: two capitals, or empty */
		memcpy(desc.country, c->host.location, 3);
	snprintf(desc.version, sizeof(desc.version), "%s", NYM_VERSION);
	/* Strictly increasing: an authority takes only a newer description. */
	desc.published = now > d->last_published ? now : d->last_published + 1;
	struct nym_descriptor_signed sd;
	int rc = nym_descriptor_sign(&desc, &d->identity, &sd);
	if (rc)
		return rc;
	json_t *j = nym_descriptor_signed_to_json(&sd);
	rc = j ? nym_canonical_encode(j, body, len) : -ENOMEM;
	json_decref(j);
	if (!rc)
		d->last_published = desc.published;
	return rc;
}

static void announce(struct node_directory *d, const char *body, size_t len)
{
	for (size_t i = 0; i < d->nurls; i++) {
		if (!d->pending[i])
			continue;
		char url[CONF_STR_MAX + 16], err[NYM_DIR_ERR_MAX];
		int status = 0;
		nym_http_url(url, sizeof(url), d->urls[i], "/v1/nodes");
		int rc = nym_dir_client_post(url, "application/json", body, len, HTTP_TIMEOUT_MS, &status, NULL, err, sizeof(err));
		atomic_fetch_add(&d->announcements, 1);
		/* 409: it already holds a newer description of ours (from a peer): as good. */
		if (!rc && (status == 200 || status == 409)) {
			d->pending[i] = false;
			log_debug("directory: announced to %s", d->urls[i]);
		} else {
			atomic_fetch_add(&d->announce_failures, 1);
			log_ratelimited(NYM_LOG_WARN, "directory: announcing to %s failed: %s", d->urls[i],
					rc ? err : err[0] ? err : "refused");
		}
	}
}

static void release_table(struct nym_retire *r, void *table)
{
	(void)r;
	free(table);
}

static void publish(struct node_directory *d, struct mixnode_peers *t, int64_t now)
{
	struct mixnode_peers *old = atomic_exchange_explicit(&d->mix->topology, t, memory_order_acq_rel);
	d->owned = t;
	nym_retire_add(&d->retired, old, now);
}

static void fetch_topology(struct node_directory *d, int64_t now)
{
	const char *urls[NODE_DIRECTORY_AUTHORITIES_MAX];
	for (size_t i = 0; i < d->nurls; i++)
		urls[i] = d->urls[i];
	struct nym_dir_client_topology t;
	char err[NYM_DIR_ERR_MAX];
	int rc = nym_dir_client_fetch_topology(urls, d->nurls, &d->trust, 0, HTTP_TIMEOUT_MS, &t, err, sizeof(err));
	if (rc) {
		log_ratelimited(NYM_LOG_WARN, "directory: no topology accepted: %s", err);
		return;
	}
	if (t.doc.epoch > d->topology_epoch) {
		struct key_rotation_schedule sched = schedule_of(d);
		struct mixnode_peers *table;
		if (mixnode_peers_from_document(&t.doc, key_rotation_id_at(&sched, now), &table) == 0) {
			publish(d, table, now);
			d->topology_epoch = t.doc.epoch;
			atomic_fetch_add(&d->documents, 1);
			log_info("directory: topology of epoch %" PRIu64 " from %s: %zu/%zu/%zu mixnodes, %zu gateways, "
				 "%zu of %zu signatures",
				 t.doc.epoch, t.source, t.doc.layer_count[0], t.doc.layer_count[1], t.doc.layer_count[2],
				 t.doc.gateway_count, t.valid, d->trust.count);
		}
	}
	nym_dir_client_topology_free(&t);
}

static void *run(void *arg)
{
	struct node_directory *d = arg;
	char *body = NULL;
	size_t len = 0;
	while (!atomic_load(&d->stopping)) {
		int64_t ms = nym_clock_unix_now_ms(), now = ms / 1000;
		uint64_t epoch = nym_epoch_at(&d->clock, now);
		uint32_t rotations[2] = { 0, 0 };
		pthread_mutex_lock(&d->http->lock);
		for (size_t i = 0; i < d->http->sphinx_count && i < 2; i++)
			rotations[i] = d->http->sphinx_rotation[i];
		pthread_mutex_unlock(&d->http->lock);
		if (epoch != d->announced_epoch || memcmp(rotations, d->announced_rotations, sizeof(rotations)) != 0) {
			free(body);
			body = NULL;
			if (describe(d, now, &body, &len) == 0) {
				for (size_t i = 0; i < d->nurls; i++)
					d->pending[i] = true;
				d->retry_ms = 0;
			} else {
				log_ratelimited(NYM_LOG_ERROR, "directory: cannot describe this node (check host.public_ips)");
			}
			d->announced_epoch = epoch;
			memcpy(d->announced_rotations, rotations, sizeof(rotations));
		}
		if (body && ms >= d->retry_ms) {
			announce(d, body, len);
			d->retry_ms = ms + RETRY_MS;
		}
		if (d->trust.count && d->topology_epoch < epoch && ms >= d->next_fetch_ms) {
			fetch_topology(d, now);
			d->next_fetch_ms = ms + FETCH_RETRY_MS;
		}
		nym_retire_reap(&d->retired, now);
		struct timespec pause = { 0, TICK_MS * 1000000L };
		nanosleep(&pause, NULL);
	}
	free(body);
	return NULL;
}

int node_directory_start(struct node_directory *d)
{
	nym_retire_init(&d->retired, TOPOLOGY_GRACE_S, release_table, NULL);
	if (!d->nurls)
		return 0;
	d->clock = (struct nym_epoch_clock){ (int64_t)d->cfg->sphinx.genesis,
					     (int64_t)(d->cfg->sphinx.epoch_duration_ns / NYM_NS_PER_SEC) };
	d->identity = d->keys->identity;
	memcpy(d->noise_public, d->keys->noise.public_key, 32);
	enum node_mode mode = NODE_MODE_MIXNODE;
	node_mode_parse(d->cfg->mode, &mode);
	if ((mode == NODE_MODE_ENTRY || mode == NODE_MODE_EXIT) && d->cfg->wireguard.enabled) {
		char err[512];
		if (node_wireguard_key(d->data_dir, &d->wg, err, sizeof(err))) {
			log_error("%s", err);
			return -EIO;
		}
		d->wireguard = true;
	}
	int rc = nym_http_init();
	if (rc)
		return rc;
	if ((rc = pthread_create(&d->thread, NULL, run, d)) != 0)
		return -rc;
	d->started = true;
	log_info("directory: %zu authorities%s", d->nurls,
		 d->trust.count ? "; the topology comes from their signed documents" : " (announcing only: no keys)");
	return 0;
}

void node_directory_stop(struct node_directory *d)
{
	if (d->started) {
		atomic_store(&d->stopping, true);
		pthread_join(d->thread, NULL);
		d->started = false;
	}
	nym_retire_drain(&d->retired);
	/* Workers are stopped: the table in use can go too. */
	if (d->owned && atomic_load(&d->mix->topology) == d->owned) {
		atomic_store(&d->mix->topology, NULL);
		free(d->owned);
	}
	d->owned = NULL;
	nym_x25519_keypair_clear(&d->wg);
	nym_ed25519_keypair_clear(&d->identity);
}
