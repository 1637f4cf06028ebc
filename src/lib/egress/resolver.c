/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The asynchronous resolver (see resolver.h): getaddrinfo_a with SIGEV_THREAD. glibc runs
 * each lookup in a thread of its own, then starts one more thread to notify us, which marks
 * the request finished and pokes an eventfd; the owner's thread delivers the results.
 *
 * Who owns a request. A ResolverRequest has two holders, and the last to let go frees it,
 * deciding under r->lock:
 *  - its owner (the caller, through the resolver), from resolver_start() until the result
 *    is delivered (resolver_dispatch) or the request cancelled (resolver_cancel,
 *    resolver_free); then `released` is set, and the callback will never run again.
 *  - glibc, which reads the name and the hints and writes the result, from getaddrinfo_a()
 *    until its notification has run (request_notified sets `notified`). A request still
 *    queued, taken back by gai_cancel() (EAI_CANCELED), is never notified: glibc is done
 *    with it at once.
 * So cancelling a lookup that glibc is working on only marks it released: the notification
 * frees it when the lookup ends, and the caller does not wait (no gai_suspend, ever).
 *
 * The Resolver (its lock, its list of requests, the eventfd that notifications poke) lives
 * while its owner has not called resolver_free() or a request is still in its list; the last
 * of those destroys it, which may be a notification thread after the owner has gone. A late
 * notification therefore never writes into a closed (perhaps reused) fd number.
 *
 * glibc may fail to start a notification thread: then it never comes, and the lookup is
 * found finished by gai_error() from resolver_dispatch() (driven by the owner's timer) and
 * delivered anyway. Such a request, and with it the Resolver, is never freed: a leak, taken
 * over a hang, and only when threads cannot be created.
 */
#include "egress/resolver.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "basic/macro.h"

struct ResolverRequest {
	struct gaicb gai;      /* glibc's while the lookup runs */
	struct addrinfo hints; /* copied: glibc reads them from its thread */
	Resolver *r;
	ResolverRequest *prev, *next; /* r->requests, under r->lock */
	ResolverCallback cb;
	void *userdata;
	bool notified; /* glibc is done with it; under r->lock */
	bool released; /* its owner is done with it; under r->lock */
	char name[];   /* copied: the owner's buffer may be gone before the lookup ends */
};

struct Resolver {
	pthread_mutex_t lock;
	int wake;                  /* an eventfd, poked by notifications */
	ResolverRequest *requests; /* every request not yet freed; under lock */
	bool owned;                /* resolver_free() not called yet; under lock */
	unsigned pending;          /* started, not released; the owner's thread only */
};

typedef struct Finished {
	ResolverCallback cb;
	void *userdata;
	int error;
	struct addrinfo *ai;
} Finished;

static void request_free(ResolverRequest *q)
{
	if (q->gai.ar_result)
		freeaddrinfo(q->gai.ar_result);
	free(q);
}

/* Under r->lock. */
static void request_link(Resolver *r, ResolverRequest *q)
{
	q->prev = NULL;
	q->next = r->requests;
	if (r->requests)
		r->requests->prev = q;
	r->requests = q;
}

/* Under r->lock. */
static void request_unlink(Resolver *r, ResolverRequest *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		r->requests = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

static void resolver_destroy(Resolver *r)
{
	(void)pthread_mutex_destroy(&r->lock);
	if (r->wake >= 0)
		(void)close(r->wake);
	free(r);
}

/* Runs in the thread glibc starts once the lookup has ended (SIGEV_THREAD): it touches only
 * the request and the resolver, never the owner's data. */
static void request_notified(union sigval v)
{
	ResolverRequest *q = v.sival_ptr;
	Resolver *r = q->r;
	bool drop, destroy = false;

	(void)pthread_mutex_lock(&r->lock);
	q->notified = true;
	drop = q->released;
	if (drop) {
		request_unlink(r, q);
		destroy = !r->owned && !r->requests;
	} else {
		uint64_t one = 1;
		(void)!write(r->wake, &one, sizeof(one));
	}
	(void)pthread_mutex_unlock(&r->lock);
	if (drop)
		request_free(q);
	if (destroy)
		resolver_destroy(r);
}

int resolver_new(Resolver **ret)
{
	_cleanup_free_ Resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake < 0)
		return -errno;
	int e = pthread_mutex_init(&r->lock, NULL);
	if (e != 0) {
		(void)close(r->wake);
		return -e;
	}
	r->owned = true;
	*ret = TAKE_PTR(r);
	return 0;
}

static ResolverRequest *first_unreleased(Resolver *r)
{
	ResolverRequest *q;

	(void)pthread_mutex_lock(&r->lock);
	for (q = r->requests; q && q->released; q = q->next)
		;
	(void)pthread_mutex_unlock(&r->lock);
	return q;
}

Resolver *resolver_free(Resolver *r)
{
	ResolverRequest *q;
	bool destroy;

	if (!r)
		return NULL;
	/* unreleased requests are freed by nobody else: Q stays valid without the lock */
	while ((q = first_unreleased(r)))
		resolver_cancel(q);
	(void)pthread_mutex_lock(&r->lock);
	r->owned = false;
	destroy = !r->requests; /* else the last notification destroys it */
	(void)pthread_mutex_unlock(&r->lock);
	if (destroy)
		resolver_destroy(r);
	return NULL;
}

int resolver_fd(const Resolver *r)
{
	return r ? r->wake : -1;
}

/* getaddrinfo_a() refused Q (an EAI_* code E). Q is no longer its owner's, but glibc may
 * still hold it (glibc's getaddrinfo_a.c):
 *  - EAI_SYSTEM: nothing queued, and glibc notifies at once (perhaps already has). The
 *    notification frees Q, or Q is freed here when it came first.
 *  - EAI_AGAIN: queued, but never to be notified (no memory for that). Taken back, or else
 *    left to glibc and never freed (when memory runs out only). */
static int start_failed(Resolver *r, ResolverRequest *q, int e)
{
	int ret = e == EAI_SYSTEM && errno > 0 ? -errno : e == EAI_MEMORY ? -ENOMEM : -EAGAIN;
	bool dequeued = e == EAI_AGAIN && gai_cancel(&q->gai) == EAI_CANCELED;
	bool free_now;

	(void)pthread_mutex_lock(&r->lock);
	q->released = true;
	free_now = dequeued || q->notified;
	if (free_now || e == EAI_AGAIN)
		request_unlink(r, q);
	(void)pthread_mutex_unlock(&r->lock);
	if (free_now)
		request_free(q);
	return ret;
}

int resolver_start(Resolver *r, const char *name, const struct addrinfo *hints, ResolverCallback cb,
                   void *userdata, ResolverRequest **ret)
{
	size_t len = strlen(name);

	if (len >= NI_MAXHOST)
		return -ENAMETOOLONG;
	ResolverRequest *q = calloc(1, sizeof(*q) + len + 1);
	if (!q)
		return -ENOMEM;
	memcpy(q->name, name, len + 1);
	q->hints = (struct addrinfo){.ai_flags = hints->ai_flags,
	                             .ai_family = hints->ai_family,
	                             .ai_socktype = hints->ai_socktype,
	                             .ai_protocol = hints->ai_protocol};
	q->gai = (struct gaicb){.ar_name = q->name, .ar_request = &q->hints};
	q->r = r;
	q->cb = cb;
	q->userdata = userdata;
	/* in the list before glibc has it: the notification may come before getaddrinfo_a()
	 * returns */
	(void)pthread_mutex_lock(&r->lock);
	request_link(r, q);
	(void)pthread_mutex_unlock(&r->lock);
	struct gaicb *list[] = {&q->gai};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD,
	                       .sigev_notify_function = request_notified,
	                       .sigev_value.sival_ptr = q};
	int e = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (e != 0)
		return start_failed(r, q, e);
	r->pending++;
	if (ret)
		*ret = q;
	return 0;
}

void resolver_cancel(ResolverRequest *q)
{
	if (!q)
		return;
	Resolver *r = q->r;
	/* still queued (all of glibc's lookup threads busy): glibc drops it, without a word */
	bool dequeued = gai_cancel(&q->gai) == EAI_CANCELED;
	bool free_now;

	(void)pthread_mutex_lock(&r->lock);
	q->released = true;
	free_now = dequeued || q->notified; /* else handed off: the notification frees it */
	if (free_now)
		request_unlink(r, q);
	(void)pthread_mutex_unlock(&r->lock);
	r->pending--;
	if (free_now)
		request_free(q);
}

/* Takes the result of a lookup that has ended and that its owner still waits for; false
 * when there is none. The result is taken under the lock: once released, Q may be freed by
 * its notification at any moment. */
static bool take_finished(Resolver *r, Finished *ret)
{
	ResolverRequest *q;
	bool mine = false;

	(void)pthread_mutex_lock(&r->lock);
	/* the notification, or (when it is lost) gai_error(), says that the lookup ended */
	for (q = r->requests; q; q = q->next)
		if (!q->released && (q->notified || gai_error(&q->gai) != EAI_INPROGRESS))
			break;
	if (q) {
		*ret = (Finished){.cb = q->cb,
		                  .userdata = q->userdata,
		                  .error = gai_error(&q->gai),
		                  .ai = TAKE_PTR(q->gai.ar_result)};
		q->released = true;
		mine = q->notified;
		if (mine)
			request_unlink(r, q);
	}
	(void)pthread_mutex_unlock(&r->lock);
	if (mine)
		request_free(q);
	return q != NULL;
}

void resolver_dispatch(Resolver *r)
{
	Finished f;
	uint64_t v;

	(void)!read(r->wake, &v, sizeof(v));
	/* one at a time, from the start: a callback may cancel other requests */
	while (take_finished(r, &f)) {
		r->pending--;
		if (f.error != 0 && f.ai) {
			freeaddrinfo(f.ai);
			f.ai = NULL;
		}
		f.cb(f.userdata, f.error, f.ai);
	}
}

unsigned resolver_pending(const Resolver *r)
{
	return r ? r->pending : 0;
}

unsigned resolver_handed_off(Resolver *r)
{
	unsigned n = 0;

	(void)pthread_mutex_lock(&r->lock);
	for (ResolverRequest *q = r->requests; q; q = q->next)
		n += q->released;
	(void)pthread_mutex_unlock(&r->lock);
	return n;
}
