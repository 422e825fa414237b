/* What the node-to-node transport costs apart from Sphinx (nym-node bench transport),
 * measured single-threaded in the calling process. */
#ifndef NYM_NODECTL_BENCH_TRANSPORT_H
#define NYM_NODECTL_BENCH_TRANSPORT_H

struct bench_transport_options {
	double seconds; /* time per measurement */
};

struct bench_transport_result {
	double frame_decode_ns, frame_decode_gbps; /* v8 regular frames from 64 KiB reads */
	double x25519_us;                          /* one scalar multiplication, for scale */
	double noise_handshake_us;                 /* one XKpsk3 handshake, both sides */
	double noise_frame_us;                     /* seal + open of one regular mix frame */
	double noise_bulk_gbps;                    /* seal + open of full Noise frames */
	double reassembly_mbps;                    /* fragmenting and reassembling 1 MiB, shuffled */
};

/* Returns 0 or a negative errno when a measurement failed. */
int bench_transport_run(const struct bench_transport_options *options, struct bench_transport_result *result);

#endif
