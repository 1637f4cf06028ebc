/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One asynchronous resolver for the egress parts (the proxy and the DNS stub): host lookups
 * (getaddrinfo_a) whose results are delivered in the thread that runs the resolver, which
 * polls one fd. Nothing here blocks that thread: not a lookup, not a cancel, not the end of
 * the resolver, whatever the lookups in flight are doing (see resolver.c for who frees what).
 */
#pragma once

#include <netdb.h>

typedef struct Resolver Resolver;
typedef struct ResolverRequest ResolverRequest;

/* A finished lookup, called from resolver_dispatch(): ERROR is 0 or an EAI_* code, AI the
 * addresses (NULL on error), which the callee owns and frees with freeaddrinfo(). The
 * request's handle is gone once this runs. The callback may start and cancel lookups. */
typedef void (*ResolverCallback)(void *userdata, int error, struct addrinfo *ai);

int resolver_new(Resolver **ret);
/* Ends the resolver without waiting: lookups in flight are cancelled as resolver_cancel()
 * does (their callbacks never run). Returns NULL. */
Resolver *resolver_free(Resolver *r);
/* An fd to poll for input (an eventfd): readable when a lookup has finished. */
int resolver_fd(const Resolver *r);

/* Starts looking NAME up (copied, as are HINTS); CB gets the result from resolver_dispatch().
 * *RET (when RET is not NULL) is a handle for resolver_cancel(), valid until CB runs.
 * -ENAMETOOLONG, -ENOMEM, -EAGAIN (glibc could not queue it). */
int resolver_start(Resolver *r, const char *name, const struct addrinfo *hints, ResolverCallback cb,
                   void *userdata, ResolverRequest **ret);
/* Forgets Q (NULL is fine): its callback will not run. Never waits for the lookup: one that
 * glibc is working on is handed off, and freed when it ends. */
void resolver_cancel(ResolverRequest *q);
/* Runs the callbacks of the lookups that finished (never blocks). Call it when the fd is
 * readable, and from a timer while lookups are pending (a fallback: glibc's notification
 * needs a thread, whose creation can fail). */
void resolver_dispatch(Resolver *r);
/* Lookups started and neither delivered nor cancelled. */
unsigned resolver_pending(const Resolver *r);
/* Lookups cancelled while glibc worked on them, not yet ended (they need no one's help). */
unsigned resolver_handed_off(Resolver *r);
