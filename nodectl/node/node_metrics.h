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
	X(ingress_secondary_key, "nym_node_mixnet_ingress_secondary_key_packets", counter,                    \
	  "packets with rotation byte 0 that authenticated only with the previous rotation's key")          \
	X(ingress_forward_dropped, "nym_node_mixnet_ingress_forward_hop_packets_dropped", counter,            \
	  "forward-hop packets dropped on ingress (replays, full delay queue, unreachable next hop)")          \
	X(ingress_final_dropped, "nym_node_mixnet_ingress_final_hop_packets_dropped", counter,                \
	  "final-hop packets dropped (a mixnode delivers none)")                                              \
	X(gateway_final_dropped, "nym_node_gateway_final_hop_queue_dropped", counter,                         \
	  "final-hop packets dropped: the gateway service's queue (gateway.final_queue) was full")            \
	X(gateway_inject_dropped, "nym_node_gateway_inject_dropped", counter,                                 \
	  "packets the gateway (SURB-ACKs, client SEND, IPR) could not queue into the mixnet")                \
	X(gateway_acks_sent, "nym_node_gateway_surb_acks_sent", counter, "SURB-ACKs sent back into the mixnet") \
	X(gateway_final_malformed, "nym_node_gateway_final_hop_malformed", counter,                           \
	  "final-hop messages too short or with a SURB-ACK whose first hop does not decode")                  \
	X(gateway_delivered_client, "nym_node_gateway_delivered_to_clients", counter,                         \
	  "final-hop messages handed to a connected client's link")                                           \
	X(gateway_delivered_ipr, "nym_node_gateway_delivered_to_ipr", counter,                                \
	  "final-hop messages handed to the IP packet router")                                                \
	X(gateway_inbox_stored, "nym_node_gateway_inbox_stored", counter,                                     \
	  "messages stored for clients that were not connected (or had no bandwidth)")                        \
	X(gateway_inbox_dropped, "nym_node_gateway_inbox_dropped", counter,                                   \
	  "messages dropped: the client's inbox was full (gateway.inbox.max_messages) or failed")             \
	X(gateway_inbox_delivered, "nym_node_gateway_inbox_delivered", counter,                               \
	  "stored messages handed to a client that came back")                                                \
	X(gateway_inbox_purged, "nym_node_gateway_inbox_purged", counter,                                     \
	  "stored messages forgotten after gateway.inbox.max_age")                                            \
	X(wireguard_bytes_rx, "nym_node_wireguard_bytes_rx", counter,                                          \
	  "bytes received from WireGuard peers (metered)")                                                     \
	X(wireguard_bytes_tx, "nym_node_wireguard_bytes_tx", counter, "bytes sent to WireGuard peers (metered)") \
	X(wireguard_total_peers, "nym_node_wireguard_total_peers", gauge, "registered WireGuard peers")        \
	X(wireguard_active_peers, "nym_node_wireguard_active_peers", gauge,                                    \
	  "WireGuard peers with traffic or a handshake in the last 3 minutes")                                 \
	X(wireguard_registrations, "nym_node_wireguard_registrations", counter,                                \
	  "WireGuard registrations completed (repeats not counted)")                                           \
	X(wireguard_refused, "nym_node_wireguard_registrations_refused", counter,                              \
	  "WireGuard registration or top-up frames refused (bad MAC, not pending, wrong-type, reused or bad ticket)") \
	X(wireguard_removed_no_bandwidth, "nym_node_wireguard_peers_removed_no_bandwidth", counter,            \
	  "WireGuard peers removed for having used their bandwidth")                                           \
	X(wireguard_removed_stale, "nym_node_wireguard_peers_removed_stale", counter,                          \
	  "WireGuard peers removed for no handshake within wireguard.stale_peer_after (balance kept)")         \
	X(wireguard_meta_outside, "nym_node_wireguard_metadata_refused_outside", counter,                      \
	  "metadata endpoint requests refused for coming from outside the tunnel")                             \
	X(gateway_clients, "nym_node_gateway_client_links", gauge, "open client links")                       \
	X(gateway_clients_refused, "nym_node_gateway_client_links_refused", counter,                          \
	  "client links closed at accept (gateway.max_clients, per-address limit, handshake rate)")           \
	X(gateway_link_first_frame_timeouts, "nym_node_gateway_link_first_frame_timeouts", counter,           \
	  "client links closed without a handshake and first frame in time")                                  \
	X(gateway_link_idle_closed, "nym_node_gateway_link_idle_closed", counter,                             \
	  "client links closed for being idle (gateway.link_idle_timeout)")                                   \
	X(gateway_link_handshakes, "nym_node_gateway_link_handshakes", counter, "client link Noise handshakes") \
	X(gateway_link_noise_failures, "nym_node_gateway_link_noise_failures", counter,                       \
	  "client links dropped for a failed Noise handshake or bad Noise frames (garbage)")                  \
	X(gateway_link_protocol_errors, "nym_node_gateway_link_protocol_errors", counter,                     \
	  "client links closed for a malformed or oversized link frame")                                     \
	X(gateway_link_out_of_order, "nym_node_gateway_link_out_of_order", counter,                           \
	  "client links closed for a frame out of order")                                                     \
	X(gateway_link_unauthenticated, "nym_node_gateway_link_unauthenticated", counter,                     \
	  "client links closed for SEND or SPEND_TICKET before authentication")                               \
	X(gateway_link_version_refused, "nym_node_gateway_link_version_refused", counter,                     \
	  "client links with no version in common")                                                           \
	X(gateway_link_auth_ok, "nym_node_gateway_link_auth_ok", counter, "client links authenticated")       \
	X(gateway_link_auth_failed, "nym_node_gateway_link_auth_failed", counter,                             \
	  "client links refused for a bad AUTH signature")                                                    \
	X(gateway_link_clock_skew, "nym_node_gateway_link_clock_skew", counter,                               \
	  "client links refused for an AUTH timestamp too far off")                                           \
	X(gateway_tickets_accepted, "nym_node_gateway_tickets_accepted", counter, "tickets spent on links")   \
	X(gateway_tickets_malformed, "nym_node_gateway_tickets_malformed", counter,                           \
	  "SPEND_TICKET bodies that are not tickets")                                                         \
	X(gateway_tickets_rejected, "nym_node_gateway_tickets_rejected", counter,                             \
	  "tickets refused: wrong type, expired, unknown issuer key or bad signature (forged)")               \
	X(gateway_tickets_spent, "nym_node_gateway_tickets_reused", counter,                                  \
	  "tickets refused: serial spent before (replayed)")                                                  \
	X(gateway_tickets_failed, "nym_node_gateway_tickets_failed", counter,                                 \
	  "tickets the ticket store could not decide (no issuer keys yet, database failure)")                  \
	X(gateway_tickets_too_many, "nym_node_gateway_tickets_too_many_refused", counter,                     \
	  "client links closed after 16 refused tickets (each costs an RSA verification)")                    \
	X(gateway_send_packets, "nym_node_gateway_send_packets", counter,                                     \
	  "client SEND packets forwarded into the mixnet")                                                    \
	X(gateway_send_no_bandwidth, "nym_node_gateway_send_no_bandwidth", counter,                           \
	  "client SEND packets dropped at balance 0")                                                         \
	X(gateway_send_bad_packet, "nym_node_gateway_send_bad_packet", counter,                               \
	  "client SEND frames refused for a bad entry")                                                       \
	X(gateway_low_balance_sent, "nym_node_gateway_low_balance_sent", counter, "LOW_BALANCE warnings sent") \
	X(gateway_exhausted_sent, "nym_node_gateway_bandwidth_exhausted_sent", counter,                       \
	  "ERROR bandwidth_exhausted sent")                                                                   \
	X(gateway_bytes_metered, "nym_node_gateway_bytes_metered", counter,                                   \
	  "Sphinx bytes charged to client balances, both ways")                                                \
	X(ipr_clients, "nym_node_ipr_clients", gauge, "IP packet router clients holding an address pair")   \
	X(ipr_messages, "nym_node_ipr_messages", counter, "IPR request messages reassembled")                 \
	X(ipr_messages_malformed, "nym_node_ipr_messages_malformed", counter,                                 \
	  "IPR items or messages refused: wrong length, bad padding, not Repliable, undecodable request")     \
	X(ipr_unknown_client, "nym_node_ipr_unknown_client", counter,                                         \
	  "IPR requests other than CONNECT from a client the router does not know")                           \
	X(ipr_bundles_malformed, "nym_node_ipr_bundles_malformed", counter,                                   \
	  "IPR DATA bundles refused (malformed length prefixes)")                                             \
	X(ipr_packets_refused, "nym_node_ipr_packets_refused", counter,                                       \
	  "client IP packets refused: not IP, spoofed source, or the exit policy")                            \
	X(ipr_packets_to_tun, "nym_node_ipr_packets_to_tun", counter, "client IP packets written to nymtun0") \
	X(ipr_tun_packets, "nym_node_ipr_tun_packets", counter, "IP packets read from nymtun0")               \
	X(ipr_responses, "nym_node_ipr_responses", counter, "IPR responses sent through reply SURBs")         \
	X(ipr_data_bundles, "nym_node_ipr_data_bundles", counter,                                             \
	  "IPR DATA responses made of packets from nymtun0 (and refusals)")                                   \
	X(ipr_reply_packets, "nym_node_ipr_reply_packets", counter,                                           \
	  "reply Sphinx packets the IPR sent (one reply SURB each)")                                          \
	X(ipr_responses_dropped, "nym_node_ipr_responses_dropped", counter,                                   \
	  "IPR responses dropped: no SURB in time, queue full or an error")                                   \
	X(ipr_surbs_expired, "nym_node_ipr_surbs_expired", counter,                                           \
	  "reply SURBs dropped unused: the mixnodes' keys they were built with have rotated away")            \
	X(ipr_deliver_dropped, "nym_node_ipr_deliver_dropped", counter,                                       \
	  "final-hop messages for the IPR dropped at its queue")                                              \
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
	  "ingress connections closed for bringing no complete frame within the idle timeout")                                                        \
	X(ingress_refused_address_limit, "nym_node_network_ingress_refused_per_address_limit", counter,         \
	  "ingress connections closed at accept: their address held mixnet.ingress.max_connections_per_address") \
	X(ingress_refused_address_table, "nym_node_network_ingress_refused_address_table_full", counter,       \
	  "ingress connections closed at accept: no room to count their address")                             \
	X(ingress_refused_worker_limit, "nym_node_network_ingress_refused_connection_limit", counter,          \
	  "ingress connections closed: their worker held mixnet.debug.maximum_connections")                   \
	X(ingress_refused_handshake_rate, "nym_node_network_ingress_refused_handshake_rate", counter,          \
	  "Noise connections closed before any X25519 work: their address was over its handshake budget")     \
	X(ingress_first_frame_timeouts, "nym_node_network_ingress_first_frame_timeouts", counter,              \
	  "ingress connections closed without a handshake and first frame within mixnet.ingress.first_frame_timeout") \
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
	double rates[96];
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
