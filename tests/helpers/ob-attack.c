/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob-attack MODE: tries one escape technique that needs raw machine access, from inside the
 * sandbox, and prints "MODE <result>" (0 or an errno name) — tests/security/test_escape.py
 * runs it as the sandboxed program.
 *   int80         getpid through the i386 entry (int $0x80)
 *   int80-open    open("/etc/hostname") through the i386 entry
 *   x32           getpid through the x32 ABI (syscall number | 0x40000000)
 *   int80-connect PORT  socketcall(SYS_CONNECT) through the i386 entry, to 127.0.0.1:PORT
 *   x32-connect PORT    connect through the x32 ABI to 127.0.0.1:PORT
 *   tiocsti       push a character into a real pty's input with TIOCSTI
 *   tiocsti-high  the same, with the command's upper 32 bits set
 *   tioclinux     TIOCLINUX on the pty
 *   clone-newuser clone(CLONE_NEWUSER): a nested user namespace
 *   clone3        clone3 (answered ENOSYS: callers fall back to clone)
 *   setuid-exec PATH  exec PATH (a set-user-ID copy): prints the euid it ran with
 *   euid          prints the effective uid (what setuid-exec runs)
 *   exec-race LOADER TARGET N  N times, in a new process: one thread execs the path in a
 *                 buffer, as `LOADER TARGET`, while another swaps the buffer between this
 *                 program (allowed) and LOADER; prints how the N processes ended
 *   flood PATH THREADS SECONDS  THREADS threads open PATH (refused) in a loop for SECONDS;
 *                 prints "flood N", N the attempts (test_flood.py); a PATH ending in "/":
 *                 its files 0 … 999 in turn
 *   flood-call THREADS SECONDS  the same with a refused system call (syslog's buffer size,
 *                 not on the allow-list): a SandboxViolation flood
 *   sends HOST PORT  sendmsg and sendmmsg with a destination (HOST:PORT, IPv4): over UDP,
 *                 over an unconnected TCP socket, to a receiver of its own on the sandbox's
 *                 loopback, and without one over a unix socket pair; prints "NAME RESULT"
 *                 lines (RESULT: OK, the count sendmmsg sent, or an errno name)
 *   send-race GOOD BAD SECONDS  with a grant of the host's 127.0.0.1:GOOD (the transparent
 *                 path): a TCP socket connected there (handed in) and a UDP socket connected
 *                 to the DNS stub send in a loop with sendmsg and sendmmsg, while a thread flips
 *                 their msg_name between NULL and 127.0.0.1:BAD; prints "send-race ok=N
 *                 refused=N other=N"
 *   proxy-hangup HOST:PORT  forever: connect to $HTTP_PROXY, ask CONNECT HOST:PORT, hang up
 *                 before the answer (the name's lookup still under way)
 *   open-race A B SECONDS [TARGET]  A and B differ in one byte: a thread flips that byte of
 *                 a buffer between A's and B's while this one opens the buffer in a loop for
 *                 SECONDS; prints "open-race N FAILED LEAKED": attempts, opens that failed,
 *                 opens whose file began with another byte than A's (B's content: a leak).
 *                 With TARGET, A is first made a symlink to TARGET (its directory too)
 *   connect-race GOOD BAD SECONDS  a thread flips the port of a sockaddr between GOOD and BAD
 *                 (127.0.0.1), the other connects new TCP sockets to it for SECONDS; prints
 *                 "connect-race N CONNECTED REFUSED CAUGHT" (EACCES; EPERM: the supervisor saw
 *                 the swap).
 *   mkdir-race A B SECONDS  the same flip, the buffer given to mkdir in a loop (A exists
 *                 already: EEXIST; B is in a read-only place); prints "mkdir-race N EEXIST
 *                 REFUSED MADE": attempts, each answer counted (REFUSED: EROFS or EACCES)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *flood_path;
static long flood_ms;
static long flood_count;

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *flood_thread(void *arg)
{
	long end = now_ms() + flood_ms;
	(void)arg;
	char path[PATH_MAX];
	while (now_ms() < end) {
		long n = __atomic_add_fetch(&flood_count, 1, __ATOMIC_RELAXED);
		if (!flood_path) { /* flood-call: refused, a violation each time */
			(void)syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
			continue;
		}
		/* PATH a directory ("…/"): its files 0 … 999 in turn, nothing to fold */
		if (flood_path[strlen(flood_path) - 1] == '/')
			snprintf(path, sizeof(path), "%s%ld", flood_path, n % 1000);
		else
			snprintf(path, sizeof(path), "%s", flood_path);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* THREADS threads refused the same open as fast as they can: the record must stay bounded. */
static void flood(const char *path, int threads, double seconds)
{
	pthread_t t[64];
	flood_path = path;
	flood_ms = (long)(seconds * 1000);
	if (threads > 64)
		threads = 64;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, flood_thread, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("flood %ld\n", flood_count);
}

static struct sockaddr_in ipv4(const char *host, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	(void)inet_pton(AF_INET, host, &sa.sin_addr);
	return sa;
}

static void say(const char *name, long r, int err)
{
	if (r < 0)
		printf("%s %s\n", name, strerrorname_np(err) ? strerrorname_np(err) : "?");
	else
		printf("%s OK\n", name);
	fflush(stdout);
}

/* sendmmsg of N copies of MSG: the count sent, or -1. */
static int send_many(int fd, const struct msghdr *msg, unsigned n)
{
	struct mmsghdr m[4] = {0};
	for (unsigned i = 0; i < n && i < 4; i++)
		m[i].msg_hdr = *msg;
	return sendmmsg(fd, m, n, MSG_NOSIGNAL);
}

/* sends: destinations of sendmsg and sendmmsg (SPEC §5: every refusal on the record). */
static void sends(const char *host, int port)
{
	struct sockaddr_in dest = ipv4(host, port), own;
	socklen_t olen = sizeof(own);
	char byte = 'x', got;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
	    .msg_name = &dest, .msg_namelen = sizeof(dest), .msg_iov = &iov, .msg_iovlen = 1};
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rcv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int sv[2];
	struct timeval tv = {.tv_sec = 2};

	own = ipv4("127.0.0.1", 0);
	if (bind(rcv, (struct sockaddr *)&own, sizeof(own)) < 0 ||
	    getsockname(rcv, (struct sockaddr *)&own, &olen) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		say("setup", -1, errno);
		return;
	}
	(void)setsockopt(rcv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	long r = sendmsg(udp, &msg, MSG_NOSIGNAL);
	say("sendmsg-udp", r, errno);
	r = send_many(udp, &msg, 2);
	say("sendmmsg-udp", r, errno);
	r = sendmsg(tcp, &msg, MSG_NOSIGNAL);
	say("sendmsg-tcp", r, errno);
	/* the sandbox's own receiver: delivered (both of sendmmsg's) */
	msg.msg_name = &own;
	r = sendmsg(udp, &msg, 0);
	r = r < 0 ? r : recv(rcv, &got, 1, 0);
	say("sendmsg-own", r, errno);
	r = send_many(udp, &msg, 2);
	r = r < 0 ? r : r != 2 ? (errno = EMSGSIZE, -1) : recv(rcv, &got, 1, 0);
	r = r < 0 ? r : recv(rcv, &got, 1, 0);
	say("sendmmsg-own", r, errno);
	/* no destination: unix IPC */
	msg.msg_name = NULL;
	msg.msg_namelen = 0;
	r = sendmsg(sv[0], &msg, 0);
	r = r < 0 ? r : recv(sv[1], &got, 1, 0);
	say("sendmsg-unix", r, errno);
	r = send_many(sv[0], &msg, 2);
	r = r < 0 ? r : r != 2 ? (errno = EMSGSIZE, -1) : recv(sv[1], &got, 1, 0);
	r = r < 0 ? r : recv(sv[1], &got, 1, 0);
	say("sendmmsg-unix", r, errno);
	fflush(stdout);
}

/* send-race: msg_name swapped between NULL and a refused destination while sends go on. */
static struct msghdr race_msg;
static struct sockaddr_in race_bad;
static volatile int race_stop;

static void *send_flip(void *arg)
{
	(void)arg;
	while (!race_stop) {
		__atomic_store_n(&race_msg.msg_name, &race_bad, __ATOMIC_RELAXED);
		__atomic_store_n(&race_msg.msg_name, NULL, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void send_race(int good, int bad, double seconds)
{
	struct sockaddr_in g = ipv4("127.0.0.1", good), stub = ipv4("127.0.0.1", 53);
	char byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	long ok = 0, refused = 0, other = 0;
	pthread_t t;

	race_bad = ipv4("127.0.0.1", bad);
	race_msg =
	    (struct msghdr){.msg_namelen = sizeof(race_bad), .msg_iov = &iov, .msg_iovlen = 1};
	if (connect(tcp, (struct sockaddr *)&g, sizeof(g)) < 0 ||
	    connect(udp, (struct sockaddr *)&stub, sizeof(stub)) < 0 ||
	    pthread_create(&t, NULL, send_flip, NULL) != 0) {
		say("send-race", -1, errno);
		return;
	}
	long end = now_ms() + (long)(seconds * 1000);
	for (unsigned i = 0; now_ms() < end; i++) {
		int fd = i & 2 ? udp : tcp;
		long r = i & 1 ? send_many(fd, &race_msg, 1) : sendmsg(fd, &race_msg, MSG_NOSIGNAL);
		if (r >= 0)
			ok++;
		else if (errno == EACCES)
			refused++;
		else
			other++; /* e.g. ECONNREFUSED: a datagram that reached the sandbox's own
			            port */
	}
	race_stop = 1;
	pthread_join(t, NULL);
	printf("send-race ok=%ld refused=%ld other=%ld\n", ok, refused, other);
}

/* Proxy lookups started and abandoned, forever: the supervisor must still end the run on
 * time (--timeout), whatever the resolver is doing. */
static void proxy_hangup(const char *target)
{
	const char *proxy = getenv("HTTP_PROXY");
	const char *colon = proxy ? strrchr(proxy, ':') : NULL;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char req[512];

	if (!colon) {
		printf("proxy-hangup no-proxy\n");
		return;
	}
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	int n =
	    snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (fd >= 0)
				close(fd);
			usleep(1000);
			continue;
		}
		(void)write(fd, req, (size_t)n);
		usleep(2000); /* the lookup starts */
		close(fd);
	}
}

static void report(const char *mode, long r, int err)
{
	if (r < 0)
		printf("%s %s\n", mode, strerrorname_np(err) ? strerrorname_np(err) : "?");
	else
		printf("%s 0\n", mode);
	fflush(stdout);
}

/* A raw i386 system call: int $0x80 with eax = number, ebx, ecx = arguments. */
static long int80(long nr, long a, long b)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory");
	return r;
}

static int pty_slave(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return -1;
	return open(ptsname(m), O_RDWR | O_NOCTTY);
}

/* exec-race: the path execve reads, swapped by a thread between an allowed program and the
 * loader, so that the supervisor may look at one and the kernel run the other. */
static char race_path[PATH_MAX];
static const char *race_paths[2];

static void *race_swap(void *arg)
{
	(void)arg;
	for (unsigned i = 0;; i++) {
		const char *p = race_paths[i & 1];
		memcpy(race_path, p, strlen(p) + 1);
	}
	return NULL;
}

static void exec_race(const char *self, const char *loader, const char *target, int n)
{
	int ran = 0, killed = 0, other = 0;

	race_paths[0] = self;
	race_paths[1] = loader;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			pthread_t t;
			strcpy(race_path, self);
			if (pthread_create(&t, NULL, race_swap, NULL) != 0)
				_exit(4);
			for (int k = 0; k < 1000; k++)
				execl(race_path, "exec-race-child", target, (char *)NULL);
			_exit(3);
		}
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			other++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ran++; /* this program won the race: it ran with TARGET as its mode */
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++; /* the loader won, and was stopped */
		else
			other++;
	}
	printf("exec-race ran=%d killed=%d other=%d\n", ran, killed, other);
}

/* open-race: the path an open reads, one byte of it flipped by another thread, so that the
 * supervisor may look at A and the kernel open B (or the other way round). */
static char open_race_buf[PATH_MAX];
static size_t open_race_at;
static char open_race_bytes[2];
static int open_race_stop;

static void *open_race_flip(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !__atomic_load_n(&open_race_stop, __ATOMIC_RELAXED); i++)
		__atomic_store_n(&open_race_buf[open_race_at], open_race_bytes[i & 1],
		                 __ATOMIC_RELAXED);
	return NULL;
}

/* A and B, of one length, differing in one byte: its place in OPEN_RACE_AT, A in the buffer,
 * the two bytes to flip between. False (said as NAME's "bad-paths") otherwise. */
static bool flip_paths(const char *name, const char *a, const char *b)
{
	size_t n = strlen(a);

	for (open_race_at = 0; open_race_at < n && a[open_race_at] == b[open_race_at];)
		open_race_at++;
	if (n != strlen(b) || n >= sizeof(open_race_buf) || open_race_at == n ||
	    strcmp(a + open_race_at + 1, b + open_race_at + 1) != 0) {
		printf("%s bad-paths\n", name);
		return false;
	}
	memcpy(open_race_buf, a, n + 1);
	open_race_bytes[0] = a[open_race_at];
	open_race_bytes[1] = b[open_race_at];
	return true;
}

static void open_race(const char *a, const char *b, double seconds, const char *target)
{
	long attempts = 0, failed = 0, leaked = 0;
	char first = 0, c;
	pthread_t t;

	if (!flip_paths("open-race", a, b))
		return;
	if (target) {
		char dir[PATH_MAX];
		(void)snprintf(dir, sizeof(dir), "%s", a);
		for (char *s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
			*s = '\0';
			(void)mkdir(dir, 0755);
			*s = '/';
		}
		if (symlink(target, a) < 0) {
			printf("open-race no-link\n");
			return;
		}
	}
	int fd = open(a, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &first, 1) != 1) {
		printf("open-race no-a\n");
		return;
	}
	close(fd);
	if (pthread_create(&t, NULL, open_race_flip, NULL) != 0) {
		printf("open-race no-thread\n");
		return;
	}
	long end = now_ms() + (long)(seconds * 1000);
	while (now_ms() < end) {
		attempts++;
		fd = open(open_race_buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			failed++;
			continue;
		}
		if (read(fd, &c, 1) == 1 && c != first)
			leaked++;
		close(fd);
	}
	__atomic_store_n(&open_race_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	printf("open-race %ld %ld %ld\n", attempts, failed, leaked);
}

/* mkdir-race: the flip of open-race under mkdir, a call that writes by path. */
static void mkdir_race(const char *a, const char *b, double seconds)
{
	long attempts = 0, exists = 0, refused = 0, made = 0;
	pthread_t t;

	if (!flip_paths("mkdir-race", a, b))
		return;
	if (pthread_create(&t, NULL, open_race_flip, NULL) != 0) {
		printf("mkdir-race no-thread\n");
		return;
	}
	long end = now_ms() + (long)(seconds * 1000);
	while (now_ms() < end) {
		attempts++;
		if (mkdir(open_race_buf, 0755) == 0)
			made++;
		else if (errno == EEXIST)
			exists++;
		else if (errno == EROFS || errno == EACCES)
			refused++;
	}
	__atomic_store_n(&open_race_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	printf("mkdir-race %ld %ld %ld %ld\n", attempts, exists, refused, made);
}

/* connect-race: the flip of open-race on a sockaddr's port, under connect. */
static struct sockaddr_in connect_race_addr;
static in_port_t connect_race_ports[2];

static void *connect_race_flip(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !__atomic_load_n(&open_race_stop, __ATOMIC_RELAXED); i++)
		__atomic_store_n(&connect_race_addr.sin_port, connect_race_ports[i & 1],
		                 __ATOMIC_RELAXED);
	return NULL;
}

static void connect_race(int good, int bad, double seconds)
{
	long attempts = 0, connected = 0, refused = 0, caught = 0;
	pthread_t t;

	connect_race_addr = ipv4("127.0.0.1", good);
	connect_race_ports[0] = htons((uint16_t)good);
	connect_race_ports[1] = htons((uint16_t)bad);
	if (pthread_create(&t, NULL, connect_race_flip, NULL) != 0) {
		printf("connect-race no-thread\n");
		return;
	}
	long end = now_ms() + (long)(seconds * 1000);
	while (now_ms() < end) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			break;
		attempts++;
		if (connect(s, (struct sockaddr *)&connect_race_addr, sizeof(connect_race_addr)) ==
		    0)
			connected++;
		else if (errno == EACCES)
			refused++;
		else if (errno == EPERM)
			caught++;
		close(s);
	}
	__atomic_store_n(&open_race_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	printf("connect-race %ld %ld %ld %ld\n", attempts, connected, refused, caught);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long r;

	if (!strcmp(mode, "int80")) {
		r = int80(20 /* i386 getpid */, 0, 0);
		report(mode, r < 0 && r > -4096 ? -1 : r, (int)-r);
	} else if (!strcmp(mode, "int80-open")) {
		static char path[] = "/etc/hostname"; /* low address: a static in a non-PIE? */
		r = int80(5 /* i386 open */, (long)(uintptr_t)path, O_RDONLY);
		report(mode, r < 0 && r > -4096 ? -1 : r, (int)-r);
	} else if (!strcmp(mode, "x32")) {
		r = syscall(0x40000000 | 39 /* x32 getpid */);
		report(mode, r, errno);
	} else if ((!strcmp(mode, "int80-connect") || !strcmp(mode, "x32-connect")) && argc > 2) {
		/* around the trap on connect: the other ABIs' entry points to the same call */
		static struct sockaddr_in sin = {.sin_family = AF_INET};
		static long args[3];
		int s = socket(AF_INET, SOCK_STREAM, 0);
		sin.sin_port = htons((uint16_t)atoi(argv[2]));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		args[0] = s;
		args[1] = (long)(uintptr_t)&sin;
		args[2] = sizeof(sin);
		if (mode[0] == 'i')
			r = int80(102 /* i386 socketcall */, 3 /* SYS_CONNECT */,
			          (long)(uintptr_t)args);
		else
			r = syscall(0x40000000 | 42 /* x32 connect */, s, &sin, sizeof(sin));
		report(mode, mode[0] == 'i' && r < 0 && r > -4096 ? -1 : r,
		       mode[0] == 'i' ? (int)-r : errno);
	} else if (!strcmp(mode, "tiocsti") || !strcmp(mode, "tiocsti-high") ||
	           !strcmp(mode, "tioclinux")) {
		int s = pty_slave();
		char c = 'x', sub = 3;
		if (s < 0) {
			report(mode, -1, errno);
			return 0;
		}
		if (!strcmp(mode, "tioclinux"))
			r = ioctl(s, TIOCLINUX, &sub);
		else
			r = syscall(SYS_ioctl, s,
			            (unsigned long)TIOCSTI |
			                (!strcmp(mode, "tiocsti-high") ? 1UL << 32 : 0),
			            &c);
		report(mode, r, errno);
	} else if (!strcmp(mode, "clone-newuser")) {
		r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (r == 0)
			_exit(0);
		if (r > 0)
			(void)waitpid((pid_t)r, NULL, 0);
		report(mode, r, errno);
	} else if (!strcmp(mode, "clone3")) {
		struct clone_args ca = {.exit_signal = SIGCHLD};
		r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r == 0)
			_exit(0);
		if (r > 0)
			(void)waitpid((pid_t)r, NULL, 0);
		report(mode, r, errno);
	} else if (!strcmp(mode, "setuid-exec") && argc > 2) {
		execl(argv[2], argv[2], "euid", (char *)NULL);
		report(mode, -1, errno);
	} else if (!strcmp(mode, "euid")) {
		printf("euid %d\n", (int)geteuid());
	} else if (!strcmp(mode, "exec-race") && argc > 4) {
		exec_race(argv[0], argv[2], argv[3], atoi(argv[4]));
	} else if (!strcmp(mode, "flood") && argc > 4) {
		flood(argv[2], atoi(argv[3]), atof(argv[4]));
	} else if (!strcmp(mode, "connect-race") && argc > 4) {
		connect_race(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	} else if (!strcmp(mode, "mkdir-race") && argc > 4) {
		mkdir_race(argv[2], argv[3], atof(argv[4]));
	} else if (!strcmp(mode, "open-race") && argc > 4) {
		open_race(argv[2], argv[3], atof(argv[4]), argc > 5 ? argv[5] : NULL);
	} else if (!strcmp(mode, "flood-call") && argc > 3) {
		flood(NULL, atoi(argv[2]), atof(argv[3]));
	} else if (!strcmp(mode, "sends") && argc > 3) {
		sends(argv[2], atoi(argv[3]));
	} else if (!strcmp(mode, "send-race") && argc > 4) {
		send_race(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	} else if (!strcmp(mode, "proxy-hangup") && argc > 2) {
		proxy_hangup(argv[2]);
	} else if (mode[0] == '/') {
		return 0; /* exec-race's allowed half ran, with the target as its mode */
	} else {
		fprintf(stderr, "ob-attack: unknown mode '%s'\n", mode);
		return 2;
	}
	return 0;
}
