/* The mixnode role: runs the mixnet data plane (workers, ingress, egress) and keeps its keys
 * live: publishes each rotation's Sphinx keyring with its replay filter, retires the replaced
 * one after a grace period, saves the replay filters, and reloads on SIGHUP. */
#include "nodectl/mixnode/mixnode.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "io/sock.h"
#include "mixnode/key_rotation.h"
#include "mixnode/mixnode_peers.h"
#include "mixnode/replay_filter.h"
#include "nodectl/commands.h"
#include "nodectl/mixnode/mix_worker.h"
#include "nodectl/node/node_directory.h"
#include "nodectl/node/node_http.h"
#include "nodectl/node/node_keys.h"
#include "nodectl/node/node_metrics.h"
#include "nodectl/node/node_notify.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/retire.h"
#include "util/signals.h"

/* Workers read a keyring for the few microseconds a packet takes; a replaced keyring is
 * kept this long before what only it holds is freed. */
#define RETIRE_GRACE_S 5

struct node {
	const char *context;
	char dir[NODE_DIR_MAX];
	char data[NODE_PATH_MAX];
	struct node_config cfg;
	struct node_keys keys;
	struct key_rotation_schedule sched;
	struct mix_shared mix;
	struct node_metrics metrics;
	struct node_http http;
	struct node_directory directory;
	/* Keyrings replaced less than RETIRE_GRACE_S ago may still be read by a worker. */
	struct nym_retire retired;
	uint64_t next_save_ns;
};

static void replay_path(const struct node *n, uint32_t rotation, char *out, size_t len)
{
	snprintf(out, len, "%s/replay_%u.bloom", n->data, rotation);
}

/* The filter for a key: loaded from its file if the node saved one, else new. */
static struct replay_filter *open_filter(struct node *n, uint32_t rotation)
{
	char path[NODE_PATH_MAX + 32];
	struct replay_filter *f = NULL;
	replay_path(n, rotation, path, sizeof(path));
	int rc = replay_filter_load(path, &f);
	if (rc == 0 && f->rotation_id == rotation) {
		log_info("replay filter for rotation %u loaded (%llu tags)", rotation,
			 (unsigned long long)atomic_load(&f->inserted));
		return f;
	}
	if (rc == 0)
		replay_filter_free(f);
	else if (rc != -ENOENT)
		log_warn("replay filter %s unreadable (%s); starting a new one", path, strerror(-rc));
	uint64_t lifetime_s = n->sched.epoch_s * (n->sched.epochs_per_rotation + 1);
	uint64_t capacity = n->cfg.mixnet.replay_expected_packets_per_second * lifetime_s;
	f = replay_filter_new(rotation, capacity, n->cfg.mixnet.replay_false_positive_rate);
	if (!f)
		log_error("cannot allocate a replay filter for %llu packets", (unsigned long long)capacity);
	else
		log_info("replay filter for rotation %u: %llu packets, %zu MiB", rotation,
			 (unsigned long long)capacity, replay_filter_bytes(f) >> 20);
	return f;
}

static void save_filters(struct node *n)
{
	const struct mixnode_keyring *kr = atomic_load(&n->mix.keyring);
	for (size_t i = 0; kr && i < kr->count; i++) {
		if (!kr->keys[i].replay)
			continue;
		char path[NODE_PATH_MAX + 32];
		replay_path(n, kr->keys[i].rotation_id, path, sizeof(path));
		int rc = replay_filter_save(kr->keys[i].replay, path);
		if (rc)
			log_error("cannot save the replay filter to %s: %s", path, strerror(-rc));
	}
}

static const struct node_sphinx_key *find_key(const struct node *n, uint32_t rotation)
{
	for (size_t i = 0; i < n->keys.sphinx_count; i++)
		if (n->keys.sphinx[i].rotation_id == rotation)
			return &n->keys.sphinx[i];
	return NULL;
}

static bool filter_referenced(const struct mixnode_keyring *kr, const struct replay_filter *f)
{
	for (size_t i = 0; kr && i < kr->count; i++)
		if (kr->keys[i].replay == f)
			return true;
	return false;
}

/* Frees a retired keyring, and each of its replay filters that neither the live keyring nor
 * a keyring still retired holds. */
static void release_keyring(struct nym_retire *r, void *item)
{
	const struct node *n = r->ctx;
	struct mixnode_keyring *kr = item;
	const struct mixnode_keyring *live = atomic_load(&n->mix.keyring);
	for (size_t k = 0; k < kr->count; k++) {
		struct replay_filter *f = kr->keys[k].replay;
		bool held = filter_referenced(live, f);
		for (size_t j = 0; j < r->count && !held; j++)
			held = filter_referenced(r->items[j].item, f);
		if (f && !held)
			replay_filter_free(f);
	}
	nym_memzero(kr, sizeof(*kr));
	free(kr);
}

/* Makes sure the key files for `rotation` and the next one exist, removes those no longer
 * needed (the previous rotation's survives its overlap epoch, so a restart then keeps it)
 * and reloads the key set. */
static int ensure_keys(struct node *n, uint32_t rotation, bool overlap)
{
	for (uint32_t r = rotation; r <= rotation + 1; r++) {
		if (find_key(n, r))
			continue;
		struct nym_x25519_keypair kp;
		int rc = node_sphinx_key_add(n->data, r, &kp);
		nym_x25519_keypair_clear(&kp);
		if (rc && rc != -EEXIST) {
			log_error("cannot write the Sphinx key for rotation %u: %s", r, strerror(-rc));
			return rc;
		}
		log_info("generated the Sphinx key for rotation %u", r);
	}
	uint32_t first = overlap ? rotation - 1 : rotation;
	node_sphinx_keys_prune(n->data, first, rotation + 1);
	/* A replay filter outlives its key only until the key is gone. */
	for (uint32_t r = first > 3 ? first - 3 : 1; r < first; r++) {
		char path[NODE_PATH_MAX + 32];
		replay_path(n, r, path, sizeof(path));
		unlink(path);
	}
	char err[512];
	struct node_keys fresh;
	int rc = node_keys_load(n->data, &fresh, err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		return rc;
	}
	node_keys_clear(&n->keys);
	n->keys = fresh;
	return 0;
}

/* Publishes the keys workers accept now: this rotation's and the secondary one (previous in
 * the overlap epoch, next otherwise), each with its replay filter (carried over from the
 * live keyring, or loaded from disk, or new). Returns 0 or a negative errno. */
static int publish_keyring(struct node *n, int64_t now)
{
	uint32_t rotation = key_rotation_id_at(&n->sched, now);
	bool overlap = key_rotation_in_overlap(&n->sched, now);
	struct mixnode_keyring *old = atomic_load(&n->mix.keyring);
	int rc = ensure_keys(n, rotation, overlap);
	if (rc)
		return rc;
	struct mixnode_keyring *kr = calloc(1, sizeof(*kr));
	if (!kr)
		return -ENOMEM;
	uint32_t wanted[2] = { rotation, key_rotation_secondary_at(&n->sched, now) };
	for (size_t w = 0; w < 2; w++) {
		const struct node_sphinx_key *file = find_key(n, wanted[w]);
		if (!file)
			continue; /* the previous key of a node that did not exist then */
		struct mixnode_key *k = &kr->keys[kr->count++];
		k->rotation_id = wanted[w];
		memcpy(k->secret, file->kp.secret, 32);
		memcpy(k->public_key, file->kp.public_key, 32);
		for (size_t i = 0; old && i < old->count; i++)
			if (old->keys[i].rotation_id == wanted[w])
				k->replay = old->keys[i].replay;
		if (!k->replay && n->mix.replay_protection && !(k->replay = open_filter(n, wanted[w]))) {
			free(kr);
			return -ENOMEM;
		}
	}
	if (kr->count == 0) {
		free(kr);
		return -ENOENT;
	}
	kr->primary = 0;
	atomic_store_explicit(&n->mix.keyring, kr, memory_order_release);

	nym_retire_add(&n->retired, old, now);

	pthread_mutex_lock(&n->http.lock);
	n->http.sphinx_count = 0;
	for (uint32_t r = rotation; r <= rotation + 1; r++) {
		const struct node_sphinx_key *k = find_key(n, r);
		if (!k)
			continue;
		n->http.sphinx_rotation[n->http.sphinx_count] = r;
		memcpy(n->http.sphinx_public[n->http.sphinx_count++], k->kp.public_key, 32);
	}
	pthread_mutex_unlock(&n->http.lock);
	log_info("Sphinx keys live: rotation %u and %u (%s)", rotation, kr->count > 1 ? kr->keys[1].rotation_id : 0,
		 overlap ? "previous, overlap" : "next");
	return 0;
}

static void load_description(struct node *n)
{
	char path[NODE_PATH_MAX + CONF_STR_MAX];
	snprintf(path, sizeof(path), "%s/%s", n->data, n->cfg.host.description);
	static const struct conf_key schema[] = {
		{ "moniker", CONF_STRING, 0, "", "node name shown to users", 0, 0 },
		{ "website", CONF_STRING, CONF_STR_MAX, "", "operator website", 0, 0 },
		{ "security_contact", CONF_STRING, 2 * CONF_STR_MAX, "", "security contact", 0, 0 },
		{ "details", CONF_STRING, 3 * CONF_STR_MAX, "", "free text", 0, 0 },
		{ 0 },
	};
	char fields[4][CONF_STR_MAX], err[CONF_ERROR_MAX];
	int rc = conf_load(path, schema, fields, err);
	if (rc && rc != -ENOENT)
		log_warn("description: %s (keeping the previous one)", err);
	if (rc && rc != -ENOENT)
		return;
	json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "moniker", fields[0], "website", fields[1],
			      "security_contact", fields[2], "details", fields[3]);
	char *text = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	pthread_mutex_lock(&n->http.lock);
	free(n->http.description_json);
	n->http.description_json = text;
	pthread_mutex_unlock(&n->http.lock);
}

static void reload(struct node *n, const struct mixnode_options *o)
{
	struct node_config fresh;
	char dir[NODE_DIR_MAX];
	if (node_config_open(n->context, o->id, o->data_dir, &fresh, dir, sizeof(dir)) == 0) {
		enum nym_log_level level;
		nym_log_parse_level(fresh.logging.level, &level);
		nym_log_set_level(level);
		log_info("SIGHUP: log level %s", fresh.logging.level);
	} else {
		log_warn("SIGHUP: configuration invalid, keeping the running one");
	}
	load_description(n);
}

static int setup_shared(struct node *n, uint64_t workers)
{
	struct mix_shared *m = &n->mix;
	const struct node_config *c = &n->cfg;
	m->cfg = c;
	m->metrics = &n->metrics;
	m->nworkers = workers;
	m->max_delay_ns = c->mixnet.maximum_forward_packet_delay_ns;
	m->idle_ns = c->mixnet.connection_idle_timeout_ns;
	m->write_timeout_ns = c->mixnet.connection_write_timeout_ns;
	m->busy_poll_ns = c->mixnet.busy_poll_ns;
	m->connect_timeout_ns = c->mixnet.initial_connection_timeout_ns;
	m->backoff_initial_ns = c->mixnet.packet_forwarding_initial_backoff_ns;
	m->backoff_max_ns = c->mixnet.packet_forwarding_maximum_backoff_ns;
	m->peer_queue_max = c->mixnet.maximum_connection_buffer_size;
	m->delayed_max = c->mixnet.maximum_delayed_packets;
	m->ingress_max = c->mixnet.maximum_connections;
	m->per_address_max = (uint32_t)c->mixnet.max_connections_per_address;
	m->handshakes_per_second = c->mixnet.handshakes_per_second;
	m->handshake_burst = (uint32_t)c->mixnet.handshake_burst;
	m->first_frame_ns = c->mixnet.first_frame_timeout_ns;
	m->packet_memory_max = c->mixnet.maximum_packet_memory;
	m->replay_protection = c->mixnet.replay_protection;
	m->noise = n->keys.noise;
	return 0;
}

int mixnode_run(const char *context, const struct node_config *cfg, const char *dir, const struct mixnode_options *o)
{
	static struct node n;
	char err[CONF_ERROR_MAX];
	n.context = context;
	n.cfg = *cfg;
	snprintf(n.dir, sizeof(n.dir), "%s", dir);
	nym_retire_init(&n.retired, RETIRE_GRACE_S, release_keyring, &n);
	node_mode_parse(n.cfg.mode, &n.mix.mode);
	const char *topology_file = o->topology_file;
	uint64_t workers = o->workers;
	int rc;
	n.directory.cfg = &n.cfg;
	if (node_directory_configure(&n.directory, context, o->authorities, o->authority_keys, o->authority_threshold))
		return EXIT_FAIL;
	snprintf(n.data, sizeof(n.data), "%s/data", n.dir);
	if (node_keys_load(n.data, &n.keys, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	if (!workers)
		workers = n.cfg.mixnet.workers;
	if (!workers) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		workers = cpus > 0 ? (uint64_t)cpus : 1;
	}
	if (!topology_file && n.cfg.mixnet.topology_file[0])
		topology_file = n.cfg.mixnet.topology_file;
	if (topology_file && n.directory.trust.count) {
		log_warn("the authorities' topology replaces %s", topology_file);
		topology_file = NULL;
	}
	struct mixnode_peers *topo = NULL;
	if (topology_file && mixnode_peers_load(topology_file, &topo, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", context, err);
		return EXIT_FAIL;
	}
	n.sched = (struct key_rotation_schedule){ (int64_t)n.cfg.sphinx.genesis, n.cfg.sphinx.epoch_duration_ns / NYM_NS_PER_SEC,
					      (uint32_t)n.cfg.sphinx.epochs_per_rotation };

	sigset_t sigs;
	nym_signals_take(&sigs, true);

	int status = EXIT_FAIL;
	struct net_addr bind_addr;
	net_addr_parse(&bind_addr, n.cfg.mixnet.bind_address, -1);
	setup_shared(&n, workers);
	atomic_store(&n.mix.topology, topo);
	n.mix.listen_fd = sock_tcp_listen(&bind_addr, false, 4096);
	if (n.mix.listen_fd < 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", context, n.cfg.mixnet.bind_address,
			strerror(-n.mix.listen_fd));
		goto out;
	}
	/* One block per worker, and one for a service beside them (the gateway's). */
	if (node_metrics_init(&n.metrics, workers + 1))
		goto out;
	pthread_mutex_init(&n.http.lock, NULL);
	n.http.cfg = &n.cfg;
	n.http.metrics = &n.metrics;
	n.http.identity = &n.keys.identity;
	memcpy(n.http.noise_public, n.keys.noise.public_key, 32);
	n.http.started_unix = nym_clock_unix_now();
	load_description(&n);
	if (publish_keyring(&n, nym_clock_unix_now()))
		goto out;
	const struct mixnode_service *svc = o->service;
	struct mixnode_runtime rt = { &n.cfg, n.dir, n.data, &n.keys, &n.metrics, &n.mix, &n.directory };
	if (svc && (rc = svc->attach(svc->ctx, &rt)) != 0) {
		fprintf(stderr, "%s: cannot set up the %s service: %s\n", context, n.cfg.mode, strerror(-rc));
		goto out;
	}
	if (mix_workers_start(&n.mix))
		goto out;
	if (svc && (rc = svc->start(svc->ctx)) != 0) {
		fprintf(stderr, "%s: cannot start the %s service: %s\n", context, n.cfg.mode, strerror(-rc));
		mix_workers_stop(&n.mix);
		goto out;
	}
	rc = node_http_start(&n.http);
	if (rc) {
		fprintf(stderr, "%s: cannot serve HTTP on %s: %s\n", context, n.cfg.http.bind_address, strerror(-rc));
		if (svc)
			svc->stop(svc->ctx);
		mix_workers_stop(&n.mix);
		goto out;
	}
	n.directory.data_dir = n.data;
	n.directory.keys = &n.keys;
	n.directory.http = &n.http;
	n.directory.mix = &n.mix;
	if (node_directory_start(&n.directory)) {
		node_http_stop(&n.http);
		if (svc)
			svc->stop(svc->ctx);
		mix_workers_stop(&n.mix);
		goto out;
	}
	log_info("%s node %s running: mixnet %s (%llu workers), http %s", n.cfg.mode, n.cfg.id,
		 n.cfg.mixnet.bind_address, (unsigned long long)workers, n.cfg.http.bind_address);

	/* Type=notify units start what follows (nym-ntm apply over the devices made above). */
	node_notify("READY=1");
	n.next_save_ns = nym_clock_now_ns() + n.cfg.mixnet.replay_save_interval_ns;
	for (;;) {
		/* Wake at least every second, and right when the accepted keys change. */
		struct timespec wall, tick = { 1, 0 };
		clock_gettime(CLOCK_REALTIME, &wall);
		int64_t change = key_rotation_next_change(&n.sched, wall.tv_sec);
		if (change - wall.tv_sec <= 1) {
			long ns = (long)((change - wall.tv_sec) * 1000000000ll - wall.tv_nsec) + 1000000;
			tick = (struct timespec){ ns / 1000000000, ns % 1000000000 };
		}
		int sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM) {
			log_info("signal %d: stopping", sig);
			break;
		}
		if (sig == SIGHUP)
			reload(&n, o);
		int64_t now = nym_clock_unix_now();
		const struct mixnode_keyring *kr = atomic_load(&n.mix.keyring);
		if (key_rotation_id_at(&n.sched, now) != kr->keys[0].rotation_id ||
		    kr->count < 2 || key_rotation_secondary_at(&n.sched, now) != kr->keys[1].rotation_id) {
			if (publish_keyring(&n, now))
				log_error("key rotation failed; keeping the current keys");
		}
		nym_retire_reap(&n.retired, now);
		node_metrics_sample(&n.metrics, nym_clock_now_ns());
		if (n.mix.replay_protection && nym_clock_now_ns() >= n.next_save_ns) {
			save_filters(&n);
			n.next_save_ns = nym_clock_now_ns() + n.cfg.mixnet.replay_save_interval_ns;
		}
	}
	node_http_stop(&n.http);
	if (svc)
		svc->stop(svc->ctx);
	mix_workers_stop(&n.mix);
	node_directory_stop(&n.directory);
	if (n.mix.replay_protection)
		save_filters(&n);
	status = EXIT_OK;
out:
	if (n.mix.listen_fd > 0)
		close(n.mix.listen_fd);
	nym_retire_drain(&n.retired);
	struct mixnode_keyring *kr = atomic_load(&n.mix.keyring);
	if (kr) {
		for (size_t i = 0; i < kr->count; i++)
			replay_filter_free(kr->keys[i].replay);
		nym_memzero(kr, sizeof(*kr));
		free(kr);
	}
	free(n.http.description_json);
	node_metrics_fini(&n.metrics);
	free(topo);
	node_keys_clear(&n.keys);
	log_info("stopped");
	return status;
}
