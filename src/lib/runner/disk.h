/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk limit of a run (--limit disk; plan/overlay.h, docs/design/disk.md): the disk tmpfs
 * received from the sandbox's first process, and at the end the upper layers written back and the
 * limit's event.
 */
#pragma once

#include "omnibase/omnibase.h"

#include "plan/types.h"

typedef struct Run Run;

/* The host directories of RUN's overlaid binds opened (run->disk_hosts), before the program
 * starts: the write-back goes to the directory that was bound, whatever is renamed on the
 * host meanwhile.  -errno (RETERR filled) when one cannot be opened. */
int disk_open_hosts(Run *run, ob_error *reterr);
/* RUN's disk fds closed (idempotent). */
void disk_done(Run *run);
/* Waits up to TIMEOUT_MS for the disk tmpfs the child sends over SOCK, into *RET_FD.
 * -EPIPE when the child ended first (its setup failed: it says why), -ETIMEDOUT. */
int disk_receive(int sock, int timeout_ms, int *ret_fd);
/* True when the file system of FD has no byte or no inode left for the program. */
bool disk_is_full(int fd);
/* Natively: the disk tmpfs from the child over SOCK (disk_receive, the run's timeout), then
 * disk_check_overlays(); nothing without overlays. */
void disk_receive_native(Run *run, int sock);
/* An overlay the child could not mount (--allow-degraded kept its plain bind): said in
 * run->disk_degraded, for SandboxDegraded "disk". */
void disk_check_overlays(Run *run);
/* While RUN's overlays hold the program's writes, SIGINT, SIGTERM and SIGHUP (Ctrl-C, a
 * closed terminal, kill) are blocked in the calling thread and read from a signalfd: one of
 * them ends the sandbox (disk_watch), the write-back is done, and disk_signals_end() restores
 * the mask and raises it again, so the caller ends as it would have, its writes kept.  Call
 * after the sandbox was started (its processes must not inherit the mask). */
void disk_signals_begin(Run *run);
void disk_signals_end(Run *run);
/* Notes in RUN when the disk tmpfs is full, and acts on a signal of disk_signals_begin():
 * called at each turn of the run loop (at least every 100 ms), so a limit reached and freed
 * again in between may go unrecorded (the bound itself holds: the kernel's). */
void disk_watch(Run *run);
/* At the end of RUN: the upper layers written back to the host, ResourceLimitExceeded
 * (disk) when the tmpfs was full, and what went wrong in run->disk_error. */
void run_finish_disk(Run *run);
