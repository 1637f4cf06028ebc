/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/evloop.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"

static struct timespec us_to_timespec(uint64_t us)
{
	return (struct timespec){.tv_sec = (time_t)(us / 1000000),
	                         .tv_nsec = (long)(us % 1000000 * 1000)};
}

void evloop_arm(const EvLoop *l, uint64_t first_us, uint64_t every_us)
{
	struct itimerspec it = {.it_value = us_to_timespec(first_us),
	                        .it_interval = us_to_timespec(every_us)};
	(void)timerfd_settime(l->timer, 0, &it, NULL);
}

void evloop_timer_ack(const EvLoop *l)
{
	uint64_t ticks;
	(void)!read(l->timer, &ticks, sizeof(ticks));
}

int evloop_add(const EvLoop *l, int fd, uint32_t events, epoll_data_t data)
{
	struct epoll_event ev = {.events = events, .data = data};
	return RET_NERRNO(epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev));
}

int evloop_init(EvLoop *l, epoll_data_t timer_data, uint64_t tick_us)
{
	*l = EVLOOP_NULL;
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	_cleanup_close_ int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer < 0)
		return -errno;
	int r = evloop_add(&(EvLoop){.ep = ep, .timer = timer}, timer, EPOLLIN, timer_data);
	if (r < 0)
		return r;
	*l = (EvLoop){.ep = TAKE_FD(ep), .timer = TAKE_FD(timer)};
	if (tick_us)
		evloop_arm(l, tick_us, tick_us);
	return 0;
}

void evloop_done(EvLoop *l)
{
	int fds[] = {l->ep, l->timer};
	close_many(fds, ELEMENTSOF(fds));
	*l = EVLOOP_NULL;
}
