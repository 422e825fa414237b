#include "nodectl/node/node_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int node_metrics_init(struct node_metrics *m, size_t workers)
{
	memset(m, 0, sizeof(*m));
	m->workers = workers;
	m->per_worker = aligned_alloc(64, sizeof(struct worker_metrics) * workers);
	if (!m->per_worker)
		return -ENOMEM;
	memset(m->per_worker, 0, sizeof(struct worker_metrics) * workers);
	return 0;
}

void node_metrics_fini(struct node_metrics *m)
{
	free(m->per_worker);
	m->per_worker = NULL;
}

void node_metrics_totals(const struct node_metrics *m, struct worker_metrics *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < m->workers; i++) {
#define SUM(field, name, kind, help) \
	atomic_store_explicit(&out->field, atomic_load_explicit(&out->field, memory_order_relaxed) + \
		atomic_load_explicit(&m->per_worker[i].field, memory_order_relaxed), memory_order_relaxed);
		NODE_METRICS(SUM)
#undef SUM
	}
}

void node_metrics_sample(struct node_metrics *m, uint64_t now_ns)
{
	struct worker_metrics t;
	node_metrics_totals(m, &t);
	if (m->last_sample_ns && now_ns > m->last_sample_ns) {
		double dt = (double)(now_ns - m->last_sample_ns) / 1e9;
		size_t i = 0;
#define RATE(field, name, kind, help) \
	m->rates[i++] = (double)(atomic_load(&t.field) - atomic_load(&m->last_totals.field)) / dt;
		NODE_METRICS(RATE)
#undef RATE
	}
	memcpy(&m->last_totals, &t, sizeof(t));
	m->last_sample_ns = now_ns;
}

char *node_metrics_prometheus(const struct node_metrics *m)
{
	struct worker_metrics t;
	char *text = NULL;
	size_t len = 0, i = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	node_metrics_totals(m, &t);
#define PROM(field, name, kind, help)                                                              \
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, #kind, name,         \
		(unsigned long long)atomic_load(&t.field));                                        \
	if (strcmp(#kind, "counter") == 0)                                                         \
		fprintf(f, "# HELP %s_rate %s, per second\n# TYPE %s_rate gauge\n%s_rate %.3f\n", name, \
			help, name, name, m->rates[i]);                                            \
	i++;
	NODE_METRICS(PROM)
#undef PROM
	fclose(f);
	return text;
}

json_t *node_metrics_json(const struct node_metrics *m)
{
	struct worker_metrics t;
	json_t *o = json_object();
	node_metrics_totals(m, &t);
#define JS(field, name, kind, help) json_object_set_new(o, #field, json_integer((json_int_t)atomic_load(&t.field)));
	NODE_METRICS(JS)
#undef JS
	return o;
}
