/* nym-node debug mix-send: packets along one client route, paced, over one plain connection
 * to the route's first mix layer, as a Nym client sends them. */
#ifndef NYM_NODECTL_MIX_SEND_H
#define NYM_NODECTL_MIX_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "client/client_route.h"

#define MIX_SEND_ERROR_MAX 256

struct mix_send_options {
	uint64_t count;         /* packets to send */
	uint64_t rate;          /* packets per second */
	uint64_t mean_delay_ns; /* mean of each mix hop's exponential delay, sampled per packet */
};

/* Sends options->count packets ("nym-c mix-send packet N") along `route`, resampling the
 * delays for each. Returns 0, or a negative errno with a sentence in `error`. */
int mix_send_run(struct client_route *route, const struct mix_send_options *options, char *error, size_t error_len);

#endif
