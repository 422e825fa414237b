/* The gateway's WireGuard service (wireguard.enabled on entry and exit gateways), around the
 * engine lib/gateway/gateway_wg:
 *
 *   - the key data/x25519_wireguard (node_wireguard_key: made by init or at first start, 0600);
 *   - the device wireguard.interface (nymwg) through lib/wg with wireguard.backend, listening
 *     on wireguard.bind_port, with the gateway's .1 / ::1 of the private networks, up;
 *   - the engine over clients.sqlite: stored peers re-added at start, registration frames from
 *     the client links (gateway_wg_service_handle, called from the gateway service thread),
 *     actions applied to the device (add a peer with /32 + /128, remove one);
 *   - a thread of its own: metering every GATEWAY_WG_METER_INTERVAL_S (device counters into the
 *     engine; peers out of bandwidth removed), stale pre-allocations released every
 *     GATEWAY_WG_CLEANUP_INTERVAL_S, wireguard-go restarted (and the peers re-added) if it dies,
 *     and the in-tunnel metadata endpoint (HTTP on the gateway's private IPv4 address,
 *     wireguard.metadata_port; requests from outside the private ranges refused and counted).
 *
 * The engine, the device and the service's database connection are shared by the two threads
 * under one mutex. */
#ifndef NYM_NODECTL_GATEWAY_WG_SERVICE_H
#define NYM_NODECTL_GATEWAY_WG_SERVICE_H

#include "gateway/gateway_wg.h"
#include "nodectl/node/node_config.h"

struct gateway_wg_service;

/* spend: the ticket hook (gateway_wg_hooks.spend, with spend_ctx and the service's own
 * connection to clients.sqlite, db, to spend and credit through). Opens data_dir/clients.sqlite
 * once more (WAL: the gateway service thread has its own connection), creates the device and
 * starts the thread. Returns 0 or -errno (logged). */
int gateway_wg_service_start(struct gateway_wg_service **out, const struct node_config *cfg, enum node_mode mode,
			     const char *data_dir,
			     int (*spend)(void *ctx, struct gateway_clients *db, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
					  const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance),
			     void *spend_ctx);
/* Stops the thread, saves, removes the device. NULL is fine. */
void gateway_wg_service_stop(struct gateway_wg_service *s);

/* The client link's wg hook. */
int gateway_wg_service_handle(struct gateway_wg_service *s, const struct link_msg *req, struct link_msg *resp);

void gateway_wg_service_stats(struct gateway_wg_service *s, struct gateway_wg_stats *st,
			      struct gateway_wg_counters *c);

#endif
