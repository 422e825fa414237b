/* Slow control requests in a thread of their own (credentials obtain, gateway list): the
 * control loop stays responsive while they wait on the network. One obtain runs at a time
 * (two must not pick the same ticketbook name); each job owns copies of what it reads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "util/base58.h"
#include "util/log.h"
#include "vpnd/vpnd.h"

struct vpnd_job {
	struct vpnd_job *next;
	struct vpnd_jobs *owner;
	uint64_t client;
	long long id;
	enum vpn_ctl_cmd cmd;
	struct vpn_ctl_args args;
	char tickets_dir[PATH_MAX];
	const char *const *urls; /* the daemon's, constant for its life */
	size_t n_urls;
	struct nym_dir_client_trust trust;
	bool have_trust;
	/* outcome */
	bool ok;
	json_t *result;
	struct vpn_ctl_error err;
};

struct vpnd_jobs {
	pthread_mutex_t mu;
	pthread_cond_t idle;
	pthread_mutex_t run; /* one obtain at a time (each picks a fresh file name) */
	int event_fd;
	size_t running;
	struct vpnd_job *done, **done_tail;
};

struct vpnd_jobs *vpnd_jobs_new(int event_fd)
{
	struct vpnd_jobs *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	pthread_mutex_init(&j->mu, NULL);
	pthread_mutex_init(&j->run, NULL);
	pthread_cond_init(&j->idle, NULL);
	j->event_fd = event_fd;
	j->done_tail = &j->done;
	return j;
}

static int gateway_list(struct vpnd_job *job)
{
	if (job->n_urls == 0)
		return vpn_ctl_error_set(&job->err, VPN_CTL_UNAVAILABLE,
					 "no directory authority configured: set network.authorities or give --authority");
	struct nym_dir_client_topology topo;
	char msg[NYM_DIR_ERR_MAX];
	memset(&topo, 0, sizeof(topo));
	int rc = nym_dir_client_fetch_topology(job->urls, job->n_urls, job->have_trust ? &job->trust : NULL, 0,
					       VPND_HTTP_TIMEOUT_MS, &topo, msg, sizeof(msg));
	if (rc)
		return vpn_ctl_error_set(&job->err, VPN_CTL_UNAVAILABLE, "cannot fetch the topology: %.200s", msg);
	enum vpn_ctl_gateway_type type = job->args.gateway_type;
	unsigned want = type == VPN_CTL_GW_MIXNET_ENTRY ? NYM_ROLE_ENTRY
			: type == VPN_CTL_GW_MIXNET_EXIT ? NYM_ROLE_EXIT
							  : NYM_ROLE_WIREGUARD;
	json_t *list = json_array();
	for (size_t i = 0; i < topo.doc.gateway_count; i++) {
		const struct nym_descriptor *g = &topo.doc.gateways[i].d;
		if (!(g->roles & want))
			continue;
		char id[NYM_BASE58_ENCODED_MAX(32)];
		nym_base58_encode(id, sizeof(id), g->identity, 32);
		json_t *addrs = json_array(), *roles = json_array();
		for (size_t k = 0; k < g->address_count; k++)
			json_array_append_new(addrs, json_string(g->addresses[k]));
		if (g->roles & NYM_ROLE_ENTRY)
			json_array_append_new(roles, json_string("entry"));
		if (g->roles & NYM_ROLE_EXIT)
			json_array_append_new(roles, json_string("exit"));
		if (g->roles & NYM_ROLE_WIREGUARD)
			json_array_append_new(roles, json_string("wireguard"));
		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o}", "id", id, "country", g->country, "addresses",
						      addrs, "roles", roles));
	}
	nym_dir_client_topology_free(&topo);
	job->result = json_pack("{s:o}", "gateways", list);
	return job->result ? 0 : vpn_ctl_error_set(&job->err, VPN_CTL_INTERNAL, "out of memory");
}

static void *run(void *arg)
{
	struct vpnd_job *job = arg;
	struct vpnd_jobs *j = job->owner;
	int rc;
	if (job->cmd == VPN_CTL_CREDENTIALS_OBTAIN) {
		pthread_mutex_lock(&j->run);
		rc = vpnd_creds_obtain(job->tickets_dir, &job->args, job->have_trust ? &job->trust : NULL, &job->result,
				       &job->err);
		pthread_mutex_unlock(&j->run);
	} else {
		rc = gateway_list(job);
	}
	job->ok = rc == 0;
	vpn_ctl_args_clear(&job->args); /* the vouchers */
	pthread_mutex_lock(&j->mu);
	*j->done_tail = job;
	j->done_tail = &job->next;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->mu);
	uint64_t one = 1;
	if (write(j->event_fd, &one, sizeof(one)) < 0) {
		/* the loop collects finished jobs at its next wake-up anyway */
	}
	return NULL;
}

int vpnd_jobs_start(struct vpnd_jobs *j, uint64_t client, const struct vpn_ctl_request *req, const char *tickets_dir,
		    const char *const *urls, size_t n_urls, const struct nym_dir_client_trust *trust)
{
	struct vpnd_job *job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->owner = j;
	job->client = client;
	job->id = req->id;
	job->cmd = req->command->cmd;
	job->args = req->args;
	snprintf(job->tickets_dir, sizeof(job->tickets_dir), "%s", tickets_dir);
	job->urls = urls;
	job->n_urls = n_urls;
	if (trust && trust->count) {
		job->trust = *trust;
		job->have_trust = true;
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&j->mu);
	j->running++;
	pthread_mutex_unlock(&j->mu);
	pthread_t t;
	int rc = pthread_create(&t, &attr, run, job);
	pthread_attr_destroy(&attr);
	if (rc) {
		pthread_mutex_lock(&j->mu);
		j->running--;
		pthread_mutex_unlock(&j->mu);
		vpn_ctl_args_clear(&job->args);
		free(job);
		return -rc;
	}
	return 0;
}

int vpnd_jobs_next(struct vpnd_jobs *j, uint64_t *client, long long *id, json_t **result, struct vpn_ctl_error *err,
		   bool *ok, bool *obtained)
{
	pthread_mutex_lock(&j->mu);
	struct vpnd_job *job = j->done;
	if (job) {
		j->done = job->next;
		if (!j->done)
			j->done_tail = &j->done;
		j->running--;
	}
	pthread_mutex_unlock(&j->mu);
	if (!job)
		return 0;
	*client = job->client;
	*id = job->id;
	*result = job->result;
	*err = job->err;
	*ok = job->ok;
	*obtained = job->cmd == VPN_CTL_CREDENTIALS_OBTAIN;
	nym_memzero(job, sizeof(*job));
	free(job);
	return 1;
}

void vpnd_jobs_drain(struct vpnd_jobs *j, long timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (j->done) { /* finished but not collected: nobody will reply any more */
			struct vpnd_job *job = j->done;
			j->done = job->next;
			j->running--;
			json_decref(job->result);
			nym_memzero(job, sizeof(*job));
			free(job);
		}
		j->done_tail = &j->done;
		if (j->running == 0 || pthread_cond_timedwait(&j->idle, &j->mu, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&j->mu);
}
