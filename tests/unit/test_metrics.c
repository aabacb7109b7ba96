// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text made from a record description: names, units, grouping, escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "metrics.h"
#include "runtime.h"

struct rec {
	uint64_t null_mask;
	char name[16];
	uint32_t node;
	uint64_t events, scanned_pages, wait_ns, free_bytes, gone_bytes;
	int64_t delta_bytes;
	uint32_t nr;
	uint64_t blocks[4];
};

static const struct field fields[] = {
	FLD(struct rec, name, "name", NULL, FT_STR, FU_NONE, FK_LABEL, 0, "a name"),
	FLD(struct rec, node, "node", NULL, FT_U32, FU_NONE, FK_LABEL, 0, "node id"),
	FLD(struct rec, events, "events", NULL, FT_U64, FU_NONE, FK_COUNTER, 0, "events seen"),
	FLD(struct rec, scanned_pages, "scanned_pages", NULL, FT_U64, FU_PAGES, FK_COUNTER, 0,
	    "pages scanned"),
	FLD(struct rec, wait_ns, "wait_ns", NULL, FT_U64, FU_NS, FK_COUNTER, 0, "time waited"),
	FLD(struct rec, free_bytes, "free_bytes", NULL, FT_U64, FU_BYTES, FK_GAUGE, 0,
	    "free, with a \\ and a\nnewline"),
	FLD(struct rec, gone_bytes, "gone_bytes", NULL, FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	    "unknown here"),
	FLD(struct rec, delta_bytes, "delta_bytes", NULL, FT_S64, FU_BYTES, FK_GAUGE, FF_DELTA,
	    "a change: no metric"),
	FLD_ARR(struct rec, blocks, nr, "order", "blocks", NULL, FT_U64S, FU_NONE, FK_GAUGE, 0,
		"per order"),
};
static const struct record_desc desc = RECORD_DESC("t", "test", fields, struct rec);
static const char *const labels[] = { "name", "node", NULL };
static const char *const help[] = { "wait_ns", "time waited since start", NULL };
static const struct metrics_view view = { "x_", &desc, labels, NULL, help };

static void test_record_families_grouped_named_and_escaped(void **state)
{
	struct rec a = { .name = "a\"b\\c\n", .node = 0, .events = 18446744073709551615ULL,
			 .scanned_pages = 3, .wait_ns = 1500000000, .free_bytes = 4096, .nr = 2,
			 .blocks = { 7, 8 } };
	struct rec b = { .name = "\xff", .node = 1, .events = 2, .scanned_pages = 2, .wait_ns = 1,
			 .free_bytes = 0, .nr = 1, .blocks = { 9 } };
	char want[256];
	struct metrics *m = metrics_new();
	size_t len;
	char *text;
	(void)state;

	record_null(&desc, &a, "gone_bytes");
	record_null(&desc, &b, "gone_bytes");
	metrics_record(m, &view, &a, NULL);
	metrics_record(m, &view, &b, "extra=\"1\"");
	text = metrics_render(m, &len);
	assert_int_equal(strlen(text), len);
	/* one HELP/TYPE per family, samples of both records under it; counters exact */
	assert_non_null(strstr(text,
		"# HELP x_events_total events seen\n# TYPE x_events_total counter\n"
		"x_events_total{name=\"a\\\"b\\\\c?\",node=\"0\"} 18446744073709551615\n"
		"x_events_total{name=\"?\",node=\"1\",extra=\"1\"} 2\n"));
	/* pages served as bytes, and said so */
	snprintf(want, sizeof(want), "# HELP x_scanned_bytes_total pages scanned (counted in "
		 "pages, served in bytes)\n# TYPE x_scanned_bytes_total counter\n"
		 "x_scanned_bytes_total{name=\"a\\\"b\\\\c?\",node=\"0\"} %lu\n",
		 3 * ms_page_size());
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "_pages"));
	/* _ns in seconds, as a counter; the view's own HELP */
	assert_non_null(strstr(text, "# HELP x_wait_seconds_total time waited since start\n"
				     "# TYPE x_wait_seconds_total counter\n"
				     "x_wait_seconds_total{name=\"a\\\"b\\\\c?\",node=\"0\"} 1.5\n"));
	assert_non_null(strstr(text, "# HELP x_free_bytes free, with a \\\\ and a\\nnewline\n"));
	assert_non_null(strstr(text, "x_blocks{name=\"?\",node=\"1\",extra=\"1\","
				     "order=\"0\"} 9\n"));
	assert_non_null(strstr(text, "order=\"1\"} 8\n"));
	assert_null(strstr(text, "order=\"2\""));
	/* null: no sample at all; a delta: no family */
	assert_null(strstr(text, "x_gone_bytes"));
	assert_null(strstr(text, "delta"));
	free(text);
	metrics_free(m);
}

static void test_histogram_is_cumulative_with_inf(void **state)
{
	double le[] = { 0.001, 0.002, 0.004 };
	uint64_t in[] = { 3, 0, 2, 4 }; /* the last: above 0.004 */
	struct metrics *m = metrics_new();
	size_t len;
	char *text;
	(void)state;

	metrics_histogram(m, "h_seconds", "help", "k=\"v\"", le, in, 3, 0.25);
	metrics_add(m, "a_first", "gauge", "sorts first", NULL, 1);
	text = metrics_render(m, &len);
	assert_string_equal(text,
		"# HELP a_first sorts first\n# TYPE a_first gauge\na_first 1\n"
		"# HELP h_seconds help\n# TYPE h_seconds histogram\n"
		"h_seconds_bucket{k=\"v\",le=\"0.001\"} 3\n"
		"h_seconds_bucket{k=\"v\",le=\"0.002\"} 3\n"
		"h_seconds_bucket{k=\"v\",le=\"0.004\"} 5\n"
		"h_seconds_bucket{k=\"v\",le=\"+Inf\"} 9\n"
		"h_seconds_sum{k=\"v\"} 0.25\n"
		"h_seconds_count{k=\"v\"} 9\n");
	free(text);
	metrics_free(m);
}

/* A label value of any length stays whole and closed; what a terminal acts on is '?'. */
static void test_long_hostile_label_is_whole(void **state)
{
	/* a cgroup path: "/" and a 255-byte name, then deeper, with bytes to escape or replace */
	static const char unit[] = "\"\\\x1b\t\r\x08\x07\x7f\xc2\x9b\xff";
	char path[4096], *lab, *text, *p;
	struct metrics *m = metrics_new();
	size_t len, n = 1;
	(void)state;

	path[0] = '/';
	while (n + sizeof(unit) - 1 < sizeof(path) - 1) {
		memcpy(path + n, unit, sizeof(unit) - 1);
		n += sizeof(unit) - 1;
	}
	path[n] = 0;
	lab = metrics_labels("constraint", "memcg", "memcg", path, NULL);
	metrics_add_u64(m, "k_total", "counter", "kills", lab, 1);
	free(lab);
	text = metrics_render(m, &len);
	p = strstr(text, "k_total{constraint=\"memcg\",memcg=\"/");
	assert_non_null(p);
	p += strlen("k_total{constraint=\"memcg\",memcg=\"/");
	/* every unit whole: two escapes, then ? for each control, C1 and invalid byte */
	for (size_t i = 1; i < n; i += sizeof(unit) - 1) {
		assert_memory_equal(p, "\\\"\\\\????????", 12);
		p += 12;
	}
	assert_string_equal(p, "\"} 1\n");
	for (p = text; *p; p++)
		assert_true(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f));
	free(text);
	metrics_free(m);
}

/* A label without a value is left out; the others keep their order. */
static void test_labels_without_value_are_left_out(void **state)
{
	char *l = metrics_labels("cgroup", "/a", "container", NULL, "pod_uid", "u", NULL);
	(void)state;

	assert_string_equal(l, "cgroup=\"/a\",pod_uid=\"u\"");
	free(l);
	l = metrics_labels("container", NULL, NULL);
	assert_string_equal(l, "");
	free(l);
}

/* Many families and samples added in any order: each family once, sorted, in order. */
static void test_many_families_grouped(void **state)
{
	struct metrics *m = metrics_new();
	char name[32], lab[32], *text, *p;
	size_t len;
	(void)state;

	for (int round = 0; round < 3; round++)
		for (int f = 999; f >= 0; f--) {
			snprintf(name, sizeof(name), "f%04d", f);
			snprintf(lab, sizeof(lab), "r=\"%d\"", round);
			metrics_add_u64(m, name, "gauge", "h", lab, f);
		}
	text = metrics_render(m, &len);
	p = text;
	for (int f = 0; f < 1000; f++) {
		char block[160];

		snprintf(block, sizeof(block), "# HELP f%04d h\n# TYPE f%04d gauge\nf%04d{r=\"0\"} %d\n"
			 "f%04d{r=\"1\"} %d\nf%04d{r=\"2\"} %d\n", f, f, f, f, f, f, f, f);
		assert_memory_equal(p, block, strlen(block));
		p += strlen(block);
	}
	assert_int_equal(*p, 0);
	free(text);
	/* samples after a render go to a family the index finds again */
	metrics_add_u64(m, "f0500", "gauge", "h", NULL, 1);
	text = metrics_render(m, &len);
	assert_non_null(strstr(text, "f0500{r=\"2\"} 500\nf0500 1\n# HELP f0501"));
	free(text);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_families_grouped_named_and_escaped),
		cmocka_unit_test(test_histogram_is_cumulative_with_inf),
		cmocka_unit_test(test_long_hostile_label_is_whole),
		cmocka_unit_test(test_labels_without_value_are_left_out),
		cmocka_unit_test(test_many_families_grouped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
