/* nym-node bench mixnet: one real mixnode process under load.
 *
 * Before the clock starts, distinct regular packets are built for the route
 * node under test -> sink (zero delays). Phase 1 floods them over 2 x workers TCP connections
 * (v8 frames) as fast as the node accepts and counts what the sink receives: delivered
 * packets per second and loss. Phase 2 paces fresh packets at a sustainable rate (80 % of
 * the lower of the delivered rate and the ceiling), first for a warm-up, then measured: each
 * packet's time from the sender's write to the sink's read is the node's added latency. The
 * node runs with its default configuration, busy polling included. The ceiling is
 * workers x 1e6 / process_forward_us, measured in the same run. When the machine has more
 * cores than the node has workers, node and load generator run on separate cores.
 *
 * The sink runs in the bench's main thread. In phase 2, on cores of its own, that thread
 * sends and receives without ever sleeping: a thread that sleeps between packets is woken
 * late when its CPU went idle (on a virtual machine the host may run someone else there for
 * milliseconds), and that delay belongs to the load generator, not to the node it measures. */
#include "nodectl/bench/bench_mixnet.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/sock.h"
#include "mix/mix_frame.h"
#include "mix/mix_node_addr.h"
#include "nodectl/bench/bench_host.h"
#include "nodectl/bench/bench_sphinx.h"
#include "nodectl/debug/mix_sink.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_keys.h"
#include "sphinx/sphinx_packet.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"

#define FRAME_LEN (MIX_FRAME_HEADER_LEN + MIX_REGULAR_PACKET_LEN)
#define LATENCY_SECONDS 2.0
/* The latency phase first runs this long at its rate unmeasured: the node (and, on a virtual
 * machine, the host's scheduling of its CPU) comes out of the idle pause before the phase
 * into a steady state, which is what the figure describes. */
#define LATENCY_WARMUP_SECONDS 0.5

struct pool {
	uint8_t *frames; /* count x FRAME_LEN, contiguous */
	size_t count;
	uint64_t *tag;   /* phase 2: the first 8 bytes of each packet as the node forwards it */
};

struct bench {
	struct sphinx_hop route[2];
	uint8_t node_secret[32];
	struct mix_frame_header header;
	struct pool flood, paced;
	/* sink side */
	_Atomic int phase;
	_Atomic uint64_t received[3];
	uint64_t *arrival_ns; /* phase 2, by packet index */
	uint64_t *sent_ns;
	/* tag -> index, open addressing */
	uint64_t *slot_tag;
	uint32_t *slot_index;
	size_t slots;
};

static uint64_t tag_of(const uint8_t *packet)
{
	uint64_t t;
	memcpy(&t, packet, sizeof(t));
	return t | 1; /* 0 marks an empty slot */
}

static void index_put(struct bench *b, uint64_t tag, uint32_t index)
{
	size_t i = tag % b->slots;
	while (b->slot_tag[i])
		i = (i + 1) % b->slots;
	b->slot_tag[i] = tag;
	b->slot_index[i] = index;
}

static int64_t index_get(const struct bench *b, uint64_t tag)
{
	for (size_t i = tag % b->slots; b->slot_tag[i]; i = (i + 1) % b->slots)
		if (b->slot_tag[i] == tag)
			return b->slot_index[i];
	return -1;
}

static void on_frame(void *ctx, const struct mix_frame *f, uint64_t arrival_ns)
{
	struct bench *b = ctx;
	int phase = atomic_load(&b->phase);
	atomic_fetch_add(&b->received[phase], 1);
	if (phase == 2) {
		int64_t i = index_get(b, tag_of(f->packet));
		if (i >= 0)
			b->arrival_ns[i] = arrival_ns;
	}
}

struct build_job {
	struct bench *b;
	struct pool *pool;
	size_t first, last;
	int rc;
};

static void *build_range(void *arg)
{
	struct build_job *j = arg;
	static const uint8_t dest[32], id[16];
	struct sphinx_packet_params p = { j->b->route, 2, dest, id, SPHINX_VERSION_DEFAULT, NULL };
	uint8_t copy[MIX_REGULAR_PACKET_LEN];
	for (size_t i = j->first; i < j->last && !j->rc; i++) {
		uint8_t *frame = j->pool->frames + i * FRAME_LEN;
		uint64_t n = i;
		size_t header_len;
		j->rc = mix_frame_header_encode(&j->b->header, frame, &header_len);
		if (!j->rc)
			j->rc = sphinx_packet_create(frame + header_len, MIX_REGULAR_PACKET_LEN, &p, (const uint8_t *)&n,
						     sizeof(n));
		if (j->pool->tag && !j->rc) {
			/* What the node will send on: peel it ourselves with its key. */
			struct sphinx_processed out;
			memcpy(copy, frame + MIX_FRAME_HEADER_LEN, sizeof(copy));
			j->rc = sphinx_packet_process(copy, sizeof(copy), j->b->node_secret, &out);
			j->pool->tag[i] = tag_of(copy);
		}
	}
	return NULL;
}

/* Builds `count` distinct packets on every core. */
static int build_pool(struct bench *b, struct pool *pool, size_t count, bool tagged)
{
	pool->count = count;
	pool->frames = malloc(count * FRAME_LEN);
	pool->tag = tagged ? calloc(count, sizeof(uint64_t)) : NULL;
	if (!pool->frames || (tagged && !pool->tag))
		return -ENOMEM;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 0 ? (size_t)cpus : 1;
	pthread_t t[64];
	struct build_job jobs[64];
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct build_job){ b, pool, count * i / n, count * (i + 1) / n, 0 };
		pthread_create(&t[i], NULL, build_range, &jobs[i]);
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		rc = rc ? rc : jobs[i].rc;
	}
	return rc;
}

static int connect_to(const struct net_addr *a)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	sock_tcp_tune(fd);
	return fd;
}

struct flood_job {
	int fd;
	const uint8_t *data;
	size_t len;
	int rc;
	_Atomic int *running;
};

static void *flood(void *arg)
{
	struct flood_job *j = arg;
	enum { CHUNK = 64 * FRAME_LEN };
	for (size_t off = 0; off < j->len && !j->rc; off += CHUNK)
		j->rc = nym_file_write_all(j->fd, j->data + off, j->len - off < CHUNK ? j->len - off : CHUNK);
	atomic_fetch_sub(j->running, 1);
	return NULL;
}

/* Serves the sink until it has seen `expected` packets of a phase, or nothing new for 1 s. */
static uint64_t drain(struct mix_sink *sink, struct bench *b, int phase, uint64_t expected)
{
	uint64_t last = 0, stable_since = nym_clock_now_ns();
	for (;;) {
		uint64_t got = atomic_load(&b->received[phase]);
		if (got >= expected)
			return got;
		if (got != last) {
			last = got;
			stable_since = nym_clock_now_ns();
		} else if (nym_clock_now_ns() - stable_since > NYM_NS_PER_SEC) {
			return got;
		}
		mix_sink_poll(sink, 5 * NYM_NS_PER_MS);
	}
}

/* A process's resident memory now and at its peak, in KiB, from /proc. */
static void memory_kib(pid_t pid, uint64_t *rss, uint64_t *peak)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	*rss = *peak = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "VmRSS: %llu", &v) == 1)
			*rss = v;
		else if (sscanf(line, "VmHWM: %llu", &v) == 1)
			*peak = v;
	}
	if (f)
		fclose(f);
}

/* CPU time (user and system) a process has used, in microseconds. */
static uint64_t cpu_us(pid_t pid)
{
	char path[64];
	unsigned long long ut = 0, st = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	/* Fields 14 and 15, after the command name in parentheses. */
	if (f && fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		ut = st = 0;
	if (f)
		fclose(f);
	return (ut + st) * 1000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int free_port(void)
{
	struct net_addr a;
	net_addr_parse(&a, "127.0.0.1:0", -1);
	int fd = sock_tcp_listen(&a, false, 1);
	if (fd < 0)
		return fd;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	close(fd);
	return net_addr_port((struct sockaddr *)&ss);
}

/* Writes a node directory for the run: loopback ports, rotation 1 lasting the whole run,
 * and a replay filter sized for the packets we will send. */
static int make_node(const char *dir, int mix_port, int http_port, uint64_t packets, struct node_keys *keys)
{
	char path[NODE_PATH_MAX], err[CONF_ERROR_MAX];
	struct node_config c;
	snprintf(path, sizeof(path), "%s/config", dir);
	if (mkdir(path, 0700))
		return -errno;
	snprintf(path, sizeof(path), "%s/data", dir);
	if (mkdir(path, 0700))
		return -errno;
	int rc = node_keys_create(path, 1);
	if (rc == 0)
		rc = node_keys_load(path, keys, err, sizeof(err));
	if (rc)
		return rc;
	conf_defaults(node_config_schema, &c, err);
	snprintf(c.id, sizeof(c.id), "bench");
	snprintf(c.host.public_ips.item[0], CONF_STR_MAX, "127.0.0.1");
	c.host.public_ips.count = 1;
	snprintf(c.mixnet.bind_address, sizeof(c.mixnet.bind_address), "127.0.0.1:%d", mix_port);
	snprintf(c.http.bind_address, sizeof(c.http.bind_address), "127.0.0.1:%d", http_port);
	c.sphinx.genesis = (uint64_t)nym_clock_unix_now() - 1;
	c.sphinx.epoch_duration_ns = 600 * NYM_NS_PER_SEC;
	c.sphinx.epochs_per_rotation = 10;
	c.mixnet.replay_expected_packets_per_second = packets / (600 * 11) + 1;
	/* The load generator is one address with 2 x workers connections, more than the
	 * per-address default allows above 32 workers. */
	c.mixnet.max_connections_per_address = 0;
	snprintf(path, sizeof(path), "%s/config/config.yaml", dir);
	return conf_write(path, node_config_schema, &c, 0600);
}

/* With spare cores, the node under test gets the last `workers` of them to itself and the
 * load generator (senders, sink) the others, so neither steals the other's time slices. */
static bool split_cores(uint64_t workers, cpu_set_t *node_cpus, cpu_set_t *bench_cpus)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0 || (uint64_t)n <= workers)
		return false;
	CPU_ZERO(node_cpus);
	CPU_ZERO(bench_cpus);
	for (long c = 0; c < n; c++)
		CPU_SET((int)c, (uint64_t)c >= (uint64_t)n - workers ? node_cpus : bench_cpus);
	return true;
}

static pid_t start_node(const char *dir, uint64_t workers, const cpu_set_t *cpus)
{
	char log[NODE_PATH_MAX], w[32];
	snprintf(log, sizeof(log), "%s/node.log", dir);
	snprintf(w, sizeof(w), "%llu", (unsigned long long)workers);
	pid_t pid = fork();
	if (pid == 0) {
		if (cpus)
			sched_setaffinity(0, sizeof(*cpus), cpus);
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		execl("/proc/self/exe", "nym-node", "run", "--data-dir", dir, "--workers", w, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void progress(const struct bench_mixnet_options *o, const char *fmt, unsigned long long n)
{
	char line[128];
	if (!o->on_progress)
		return;
	snprintf(line, sizeof(line), fmt, n);
	o->on_progress(line);
}

int bench_mixnet_run(const struct bench_mixnet_options *options, struct bench_mixnet_result *result, char *error,
		     size_t error_len)
{
	uint64_t seconds = options->seconds, workers = options->workers;
	if (seconds == 0 || seconds > 120 || workers == 0 || workers > 64) {
		snprintf(error, error_len, "--seconds must be 1..120 and --workers 1..64");
		return -EINVAL;
	}

	int status = -EIO;
	pid_t node = -1;
	static struct mix_sink sink = { .listen_fd = -1 };
	static struct bench b;
	struct node_keys keys;
	char dir[256];
	/* A node that dies mid-flood must end the run with an error, not the bench with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	int rc = bench_host_scratch_dir(dir, sizeof(dir), "nym-bench-mixnet", error, error_len);
	if (rc)
		return rc;

	/* The ceiling, measured before anything else loads the machine and, when the node will
	 * have cores of its own, on those cores: a host may run its vCPUs at different speeds. */
	cpu_set_t node_cpus, bench_cpus;
	bool pinned = split_cores(workers, &node_cpus, &bench_cpus);
	if (pinned)
		sched_setaffinity(0, sizeof(node_cpus), &node_cpus);
	double speed_spread;
	double forward_us = bench_sphinx_forward_us(2.0, &speed_spread);
	double ceiling = (double)workers * 1e6 / forward_us;
	uint64_t flood_count = (uint64_t)(ceiling * (double)seconds);

	int mix_port = free_port(), http_port = free_port(), sink_port = free_port();
	struct net_addr node_addr, sink_addr;
	char text[64];
	snprintf(text, sizeof(text), "127.0.0.1:%d", mix_port);
	net_addr_parse(&node_addr, text, -1);
	snprintf(text, sizeof(text), "127.0.0.1:%d", sink_port);
	net_addr_parse(&sink_addr, text, -1);
	if (make_node(dir, mix_port, http_port, flood_count * 2, &keys)) {
		snprintf(error, error_len, "cannot set up the node in %s", dir);
		goto out;
	}
	memcpy(b.node_secret, keys.sphinx[0].kp.secret, 32);
	b.header = (struct mix_frame_header){ MIX_FRAME_VERSION, MIX_PACKET_SIZE_REGULAR, MIX_PACKET_TYPE_MIX,
					      mix_frame_key_rotation_from_id(keys.sphinx[0].rotation_id) };
	memcpy(b.route[0].public_key, keys.sphinx[0].kp.public_key, 32);
	mix_node_addr_encode((struct sockaddr *)&node_addr.ss, node_addr.len, b.route[0].address);
	mix_node_addr_encode((struct sockaddr *)&sink_addr.ss, sink_addr.len, b.route[1].address);
	struct nym_x25519_keypair sink_kp;
	nym_x25519_generate(&sink_kp);
	memcpy(b.route[1].public_key, sink_kp.public_key, 32);
	node_keys_clear(&keys);

	if (mix_sink_open(&sink, &sink_addr, on_frame, &b)) {
		snprintf(error, error_len, "cannot listen for the sink");
		goto out;
	}
	node = start_node(dir, workers, pinned ? &node_cpus : NULL);
	if (pinned)
		sched_setaffinity(0, sizeof(bench_cpus), &bench_cpus); /* threads created from here inherit it */

	progress(options, "building %llu packets...", (unsigned long long)flood_count);
	if (build_pool(&b, &b.flood, flood_count, false)) {
		snprintf(error, error_len, "cannot build the packets");
		goto out;
	}
	/* The node is up once it accepts connections. */
	int fds[128];
	size_t nconn = 2 * workers;
	for (int tries = 0;; tries++) {
		int fd = connect_to(&node_addr);
		if (fd >= 0) {
			fds[0] = fd;
			break;
		}
		if (tries > 100) {
			snprintf(error, error_len, "the node did not start (see %s/node.log)", dir);
			goto out;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	for (size_t i = 1; i < nconn; i++)
		fds[i] = connect_to(&node_addr);

	/* Phase 1: flood: senders push as fast as TCP lets them, more than the node sustains. */
	uint64_t rss_before, rss_peak, rss_after, unused;
	memory_kib(node, &rss_before, &unused);
	uint64_t cpu0 = cpu_us(node);
	struct bench_host_cpu host0, host1;
	bench_host_cpu_read(&host0);
	atomic_store(&b.phase, 1);
	pthread_t senders[128];
	struct flood_job jobs[128];
	_Atomic int flooding = (int)nconn;
	uint64_t t0 = nym_clock_now_ns();
	for (size_t i = 0; i < nconn; i++) {
		size_t first = flood_count * i / nconn, last = flood_count * (i + 1) / nconn;
		jobs[i] = (struct flood_job){ fds[i], b.flood.frames + first * FRAME_LEN, (last - first) * FRAME_LEN, 0,
					      &flooding };
		pthread_create(&senders[i], NULL, flood, &jobs[i]);
	}
	while (atomic_load(&flooding) > 0)
		mix_sink_poll(&sink, 5 * NYM_NS_PER_MS);
	for (size_t i = 0; i < nconn; i++)
		pthread_join(senders[i], NULL);
	uint64_t delivered = drain(&sink, &b, 1, flood_count);
	memory_kib(node, &rss_after, &rss_peak);
	double flood_cpu_us = delivered ? (double)(cpu_us(node) - cpu0) / (double)delivered : 0;
	double elapsed = (double)(atomic_load(&sink.last_arrival_ns) - t0) / 1e9;
	double delivered_pps = elapsed > 0 ? (double)delivered / elapsed : 0;

	/* Phase 2: paced, fresh packets (the node would drop repeats as replays). */
	double rate = 0.8 * (delivered_pps < ceiling ? delivered_pps : ceiling);
	size_t warmup = (size_t)(rate * LATENCY_WARMUP_SECONDS), paced = warmup + (size_t)(rate * LATENCY_SECONDS);
	if (paced < warmup + 100)
		paced = warmup + 100;
	progress(options, "throughput phase done; building %llu packets for the latency phase...",
		 (unsigned long long)paced);
	b.slots = paced * 4;
	b.slot_tag = calloc(b.slots, sizeof(uint64_t));
	b.slot_index = calloc(b.slots, sizeof(uint32_t));
	b.arrival_ns = calloc(paced, sizeof(uint64_t));
	b.sent_ns = calloc(paced, sizeof(uint64_t));
	if (!b.slot_tag || !b.slot_index || !b.arrival_ns || !b.sent_ns || build_pool(&b, &b.paced, paced, true)) {
		snprintf(error, error_len, "cannot build the latency packets");
		goto out;
	}
	for (size_t i = 0; i < paced; i++)
		index_put(&b, b.paced.tag[i], (uint32_t)i);
	atomic_store(&b.phase, 2);
	uint64_t cpu1 = cpu_us(node);
	uint64_t gap = (uint64_t)(1e9 / rate), next = nym_clock_now_ns() + gap;
	for (size_t i = 0; i < paced;) {
		uint64_t now = nym_clock_now_ns();
		if (now < next) {
			/* With a core of its own the load generator never sleeps; sharing the
			 * node's cores it must, or it would take their time. */
			mix_sink_poll(&sink, pinned ? 0 : next - now);
			continue;
		}
		/* A sender that fell behind (its thread was preempted) starts the schedule afresh
		 * rather than sending a burst: the phase measures the node at a steady rate. */
		next = (now - next > gap ? now : next) + gap;
		b.sent_ns[i] = now;
		if (nym_file_write_all(fds[i % nconn], b.paced.frames + i * FRAME_LEN, FRAME_LEN))
			break;
		i++;
	}
	uint64_t paced_delivered = drain(&sink, &b, 2, paced);
	bench_host_cpu_read(&host1);
	double paced_cpu_us = paced_delivered ? (double)(cpu_us(node) - cpu1) / (double)paced_delivered : 0;
	uint64_t *lat = malloc(paced * sizeof(uint64_t));
	size_t nlat = 0;
	for (size_t i = warmup; lat && i < paced; i++)
		if (b.arrival_ns[i] && b.sent_ns[i])
			lat[nlat++] = b.arrival_ns[i] - b.sent_ns[i];
	if (!nlat) {
		snprintf(error, error_len, "no packet came through in the latency phase (see %s/node.log)", dir);
		free(lat);
		goto out;
	}
	qsort(lat, nlat, sizeof(uint64_t), cmp_u64);
	*result = (struct bench_mixnet_result){
		.process_forward_us = forward_us,
		.ceiling_pps = ceiling,
		.sent = flood_count,
		.delivered = delivered,
		.delivered_pps = delivered_pps,
		.node_cpu_us_per_packet_flood = flood_cpu_us,
		.node_rss_before_kib = rss_before,
		.node_rss_peak_kib = rss_peak,
		.node_rss_after_kib = rss_after,
		.latency_rate_pps = rate,
		.latency_packets = nlat,
		.p50_us = (double)lat[nlat / 2] / 1e3,
		.p99_us = (double)lat[nlat * 99 / 100] / 1e3,
		.node_cpu_us_per_packet_paced = paced_cpu_us,
		.host_steal_pct = bench_host_steal_pct(&host0, &host1),
		.host_speed_spread_pct = speed_spread,
	};
	free(lat);
	for (size_t i = 0; i < nconn; i++)
		close(fds[i]);
	status = 0;
out:
	if (node > 0) {
		kill(node, SIGTERM);
		waitpid(node, NULL, 0);
	}
	mix_sink_close(&sink);
	free(b.flood.frames);
	free(b.paced.frames);
	free(b.paced.tag);
	free(b.slot_tag);
	free(b.slot_index);
	free(b.arrival_ns);
	free(b.sent_ns);
	/* Remove the run's directory; keep it on failure for its log. */
	if (status == 0 && bench_host_scratch_remove(dir) != 0)
		log_warn("cannot remove %s", dir);
	return status;
}
