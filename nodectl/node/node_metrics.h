/* Packet and connection counters. Each worker owns one block (cache-line aligned) and is its
 * only writer, so counting costs a plain add; readers (the HTTP thread) sum the blocks with
 * relaxed atomic loads. Names follow nym-node's Prometheus metrics where one exists. */
#ifndef NYM_NODECTL_NODE_METRICS_H
#define NYM_NODECTL_NODE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* X(field, prometheus name, kind, help) */
#define NODE_METRICS(X)                                                                                        \
	X(ingress_forward_received, "nym_node_mixnet_ingress_forward_hop_packets_received", counter,          \
	  "forward-hop Sphinx packets received")                                                              \
	X(ingress_final_received, "nym_node_mixnet_ingress_final_hop_packets_received", counter,              \
	  "final-hop Sphinx packets received")                                                                \
	X(ingress_malformed, "nym_node_mixnet_ingress_malformed_packets_received", counter,                   \
	  "packets or frames that failed to parse, decrypt or authenticate")                                  \
	X(ingress_excessive_delay, "nym_node_mixnet_ingress_excessive_delay_packets", counter,                \
	  "packets whose requested delay exceeded the maximum and was clamped")                               \
	X(ingress_forward_dropped, "nym_node_mixnet_ingress_forward_hop_packets_dropped", counter,            \
	  "forward-hop packets dropped on ingress (replays, full delay queue, unreachable next hop)")          \
	X(ingress_final_dropped, "nym_node_mixnet_ingress_final_hop_packets_dropped", counter,                \
	  "final-hop packets dropped (a mixnode delivers none)")                                              \
	X(ingress_replayed, "nym_node_mixnet_ingress_replayed_packets", counter,                              \
	  "packets dropped because their replay tag was seen")                                                \
	X(egress_forward_sent, "nym_node_mixnet_egress_forward_hop_packets_sent", counter,                    \
	  "forward-hop packets written to the next hop")                                                      \
	X(egress_forward_dropped, "nym_node_mixnet_egress_forward_hop_packets_dropped", counter,              \
	  "forward-hop packets dropped on egress (full buffer, write timeout, connection failure)")            \
	X(egress_write_timeouts, "nym_node_mixnet_egress_write_timeouts", counter,                            \
	  "egress batches cut short by the write timeout")                                                    \
	X(egress_connect_failures, "nym_node_mixnet_egress_connection_failures", counter,                     \
	  "failed connections to next hops")                                                                  \
	X(noise_handshakes, "nym_node_network_noise_handshakes", counter,                                     \
	  "Noise XKpsk3 handshakes completed (either side)")                                                  \
	X(noise_failures, "nym_node_network_noise_failures", counter,                                         \
	  "Noise connections dropped for a failed handshake or authentication")                               \
	X(ingress_connections, "nym_node_network_active_ingress_mixnet_connections", gauge,                   \
	  "open connections from other nodes")                                                                \
	X(egress_connections, "nym_node_network_active_egress_mixnet_connections", gauge,                     \
	  "open connections to next hops")                                                                    \
	X(idle_closed_ingress, "nym_node_network_idle_closed_ingress_mixnet_connections", counter,            \
	  "ingress connections closed for being idle")                                                        \
	X(idle_closed_egress, "nym_node_network_idle_closed_egress_mixnet_connections", counter,              \
	  "egress connections closed for being idle")                                                         \
	X(being_delayed, "nym_node_process_forward_hop_packets_being_delayed", gauge,                         \
	  "packets held in delay queues")                                                                     \
	X(pending_delivery, "nym_node_process_forward_hop_packets_pending_delivery", gauge,                   \
	  "packets queued for next hops")

struct worker_metrics {
#define NODE_METRIC_FIELD(field, name, kind, help) _Atomic uint64_t field;
	NODE_METRICS(NODE_METRIC_FIELD)
#undef NODE_METRIC_FIELD
} __attribute__((aligned(64)));

/* Single-writer updates: no locked instruction on the packet path. */
#define METRIC_ADD(m, field, n)                                                                   \
	atomic_store_explicit(&(m)->field, atomic_load_explicit(&(m)->field, memory_order_relaxed) + (n), \
			      memory_order_relaxed)
#define METRIC_INC(m, field) METRIC_ADD(m, field, 1)
#define METRIC_SET(m, field, v) atomic_store_explicit(&(m)->field, (v), memory_order_relaxed)

struct node_metrics {
	size_t workers;
	struct worker_metrics *per_worker;
	/* Per-second rates over the last sampling interval, refreshed by node_metrics_sample. */
	uint64_t last_sample_ns;
	struct worker_metrics last_totals;
	double rates[32];
};

int node_metrics_init(struct node_metrics *m, size_t workers);
void node_metrics_fini(struct node_metrics *m);
void node_metrics_totals(const struct node_metrics *m, struct worker_metrics *out);
/* Updates the rates (call every few seconds from one thread). */
void node_metrics_sample(struct node_metrics *m, uint64_t now_ns);
/* Prometheus text exposition; the caller frees the string. */
char *node_metrics_prometheus(const struct node_metrics *m);
/* {"name": value, ...} with Nym's short names. */
json_t *node_metrics_json(const struct node_metrics *m);

#endif
