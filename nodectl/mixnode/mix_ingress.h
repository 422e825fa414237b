/* Ingress: connections from other nodes and clients' gateways, and what happens to each
 * packet they carry (see mix_worker.h for the pipeline). Declarations live in mix_worker.h;
 * this header exists for the per-packet decision, which tests and the benchmark reuse. */
#ifndef NYM_NODECTL_MIX_INGRESS_H
#define NYM_NODECTL_MIX_INGRESS_H

#include "nodectl/mixnode/mix_worker.h"

/* Takes one frame: copies it into a packet slot and adds it to the worker's batch, which is
 * decided (Sphinx, replay check, delay) and queued or dropped and counted when it is full or
 * at mix_ingress_flush. */
void mix_ingress_packet(struct mix_worker *w, const struct mix_frame *f);

#endif
