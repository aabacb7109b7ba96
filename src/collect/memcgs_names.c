// SPDX-License-Identifier: GPL-2.0
/*
 * What a memory cgroup's path says it is. The shapes (as the managers make them):
 *   systemd:     /system.slice/nginx.service, /user.slice/user-0.slice/session-1.scope
 *   Docker:      /docker/<64 hex> (cgroupfs driver), /system.slice/docker-<64 hex>.scope
 *   containerd:  .../cri-containerd-<64 hex>.scope;  CRI-O: .../crio-<64 hex>.scope
 *   Kubernetes:  /kubepods/burstable/pod<uid>/<64 hex> (cgroupfs driver),
 *                /kubepods.slice/kubepods-besteffort.slice/
 *                kubepods-besteffort-pod<uid, '-' as '_'>.slice/cri-containerd-<id>.scope
 *                (systemd driver); Guaranteed pods sit right below kubepods.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "memcgs.h"

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

static bool ends_with(const char *s, size_t n, const char *tail)
{
	size_t t = strlen(tail);

	return n >= t && !strncmp(s + n - t, tail, t);
}

/* A container id in component c (n bytes): "<64 hex>", "docker-<hex>.scope", ... */
static const char *container_of(const char *c, size_t n, char id[13])
{
	static const struct {
		const char *prefix, *runtime;
	} shapes[] = { { "docker-", "docker" }, { "cri-containerd-", "containerd" },
		       { "crio-", "cri-o" }, { "", NULL } };

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		size_t p = strlen(shapes[i].prefix), end = n;

		if (strncmp(c, shapes[i].prefix, p))
			continue;
		if (ends_with(c, n, ".scope"))
			end -= 6;
		if (end - p != 64 || !all_hex(c + p, 64) || (!p && end != n))
			continue;
		snprintf(id, 13, "%.12s", c + p);
		return shapes[i].runtime ? shapes[i].runtime : "container";
	}
	return NULL;
}

/* "pod<uid>" or "kubepods-<qos>-pod<uid>.slice": the pod's UID, '_' back to '-'. */
static bool pod_of(const char *c, size_t n, struct memcg_row *row)
{
	const char *p = NULL;
	size_t len;

	for (size_t i = 0; i + 3 <= n; i++)
		if (!strncmp(c + i, "pod", 3) && (i == 0 || c[i - 1] == '-'))
			p = c + i + 3;
	if (!p || (strncmp(c, "pod", 3) && strncmp(c, "kubepods", 8)))
		return false;
	len = (size_t)(c + n - p) - (ends_with(c, n, ".slice") ? 6 : 0);
	if (len < 8 || len >= sizeof(row->pod_uid))
		return false;
	for (size_t i = 0; i < len; i++)
		row->pod_uid[i] = p[i] == '_' ? '-' : p[i];
	row->pod_uid[len] = 0;
	return true;
}

static void set_container(struct memcg_row *row, const char *runtime, const char *id)
{
	char pod[64] = "";

	if (row->pod_uid[0])
		snprintf(pod, sizeof(pod), "k8s pod %s", row->pod_uid);
	if (runtime)
		snprintf(row->container, sizeof(row->container), "%s%s%s %s", pod,
			 pod[0] ? ", " : "", runtime, id);
	else
		snprintf(row->container, sizeof(row->container), "%s", pod);
}

void memcg_names(const char *path, struct memcg_row *row)
{
	const char *runtime = NULL, *c = path, *last = path;
	bool kube = false, docker = false;
	char id[13] = "";
	size_t n = 0;

	row->container[0] = row->pod_uid[0] = row->qos_class[0] = 0;
	for (; *c; c += n) {
		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if (!n)
			break;
		last = c;
		kube |= !strncmp(c, "kubepods", 8);
		if (kube && memmem(c, n, "besteffort", 10))
			snprintf(row->qos_class, sizeof(row->qos_class), "besteffort");
		else if (kube && memmem(c, n, "burstable", 9))
			snprintf(row->qos_class, sizeof(row->qos_class), "burstable");
		if (kube && !row->pod_uid[0])
			pod_of(c, n, row);
		if (container_of(c, n, id))
			runtime = container_of(c, n, id);
		/* a bare id is Docker's under /docker (cgroupfs driver), the CRI's in a pod */
		if (runtime && !strcmp(runtime, "container") && docker)
			runtime = "docker";
		docker = n == 6 && !strncmp(c, "docker", 6);
	}
	if (kube && row->pod_uid[0] && !row->qos_class[0])
		snprintf(row->qos_class, sizeof(row->qos_class), "guaranteed");
	if (runtime || row->pod_uid[0]) {
		set_container(row, runtime, id);
		return;
	}
	n = strlen(last);
	if (ends_with(last, n, ".service") || ends_with(last, n, ".scope") ||
	    ends_with(last, n, ".slice") || ends_with(last, n, ".socket") ||
	    ends_with(last, n, ".mount"))
		snprintf(row->container, sizeof(row->container), "%s", last);
}
