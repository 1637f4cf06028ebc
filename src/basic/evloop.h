/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The setup an event-driven part shares: an epoll set, whose fd is the one the caller polls
 * (readable when the part has work), with a timerfd in it for clocks and polling fallbacks.
 * Nothing here blocks; the part reads its events with epoll_wait(l->ep, ..., 0).
 */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>

typedef struct EvLoop {
	int ep;    /* the epoll set, -1 when none */
	int timer; /* a CLOCK_MONOTONIC timerfd in it, -1 when none */
} EvLoop;

#define EVLOOP_NULL ((EvLoop){.ep = -1, .timer = -1})

/* Creates the epoll set and the timer, registers the timer with TIMER_DATA (what epoll_wait
 * reports for it) and arms it to tick every TICK_US microseconds (0: not armed). On failure
 * returns -errno and leaves L as EVLOOP_NULL. */
int evloop_init(EvLoop *l, epoll_data_t timer_data, uint64_t tick_us);
/* Adds FD (borrowed: it must be removed or closed before L is done) for EVENTS with DATA. */
int evloop_add(const EvLoop *l, int fd, uint32_t events, epoll_data_t data);
/* Fires the timer in FIRST_US microseconds, then every EVERY_US (0: once). FIRST_US 0
 * disarms it. */
void evloop_arm(const EvLoop *l, uint64_t first_us, uint64_t every_us);
/* Consumes the timer's expirations, so that a level-triggered epoll stops reporting it. */
void evloop_timer_ack(const EvLoop *l);
/* Closes what evloop_init made; L becomes EVLOOP_NULL. */
void evloop_done(EvLoop *l);
