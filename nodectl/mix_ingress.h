/* Ingress: connections from other nodes and clients' gateways, and what happens to each
 * packet they carry (see mix_worker.h for the pipeline). Declarations live in mix_worker.h;
 * this header exists for the per-packet decision, which tests and the benchmark reuse. */
#ifndef NYM_NODECTL_MIX_INGRESS_H
#define NYM_NODECTL_MIX_INGRESS_H

#include "mix_worker.h"

/* Processes one frame: Sphinx, replay check, delay; queues it or drops and counts it. */
void mix_ingress_packet(struct mix_worker *w, const struct mix_frame *f);

#endif
