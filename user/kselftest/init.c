/*
 * kselftest-init: /init of the Linux 6.1 side of `make kselftest-linux`
 * (scripts/kselftest-linux.sh). It prepares the machine as a distribution's
 * init does for Linux's selftests (/proc, /dev/shm and /tmp mounted), runs
 * each program listed in /kselftest/list ("suite/name", one a line; the
 * binary is /kselftest/suite/name) as its child, in its own process group,
 * from its own directory (as kselftest's runner does: cd, then ./name), and
 * prints around each program's own output (stdout and stderr are the
 * console):
 *
 *   kselftest-init: run abi/hwcap
 *   ...the program's TAP lines...
 *   kselftest-init: done abi/hwcap: exit 0
 *
 * The outcome is worded as this kernel's runner words it ("exit N",
 * "killed by SIGSEGV", "stopped by the N ms time limit", "not started: ..."),
 * so that one parser (scripts/kselftest-results) reads both logs. Then it
 * powers the machine off (QEMU exits).
 *
 * Usage (kernel command line after "--"): init [TIMEOUT_SECONDS], default 300.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIST "/kselftest/list"

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

/* mount_one: mkdir -p DIR (one level below an existing one), then mount. */
static void mount_one(const char *src, const char *dir, const char *type, unsigned long flags, const char *data)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		printf("kselftest-init: mkdir %s: %s\n", dir, strerror(errno));
	if (mount(src, dir, type, flags, data) != 0)
		printf("kselftest-init: mount %s on %s: %s\n", type, dir, strerror(errno));
	else
		printf("kselftest-init: mounted %s on %s\n", type, dir);
}

static void run(const char *prog, unsigned timeout)
{
	char path[512], dir[512];
	snprintf(path, sizeof path, "/kselftest/%s", prog);
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	const char *base = slash + 1;

	printf("kselftest-init: run %s\n", prog);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		printf("kselftest-init: done %s: not started: fork: %s\n", prog, strerror(errno));
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGALRM, SIG_DFL);
		if (chdir(dir) != 0) {
			printf("kselftest-init: chdir %s: %s\n", dir, strerror(errno));
			_exit(127);
		}
		char *argv[] = { (char *)base, NULL };
		char *envp[] = { "PATH=/bin:/usr/bin", "HOME=/", "TERM=linux", NULL };
		char rel[512];
		snprintf(rel, sizeof rel, "./%s", base);
		execve(rel, argv, envp);
		printf("kselftest-init: done %s: not started: execve: %s\n", prog, strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	setpgid(pid, pid);
	alarm_fired = 0;
	alarm(timeout);
	int status = 0;
	for (;;) {
		pid_t got = waitpid(-1, &status, 0);
		if (got == pid)
			break;
		if (got < 0 && errno == EINTR && alarm_fired) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			printf("kselftest-init: done %s: stopped by the %u ms time limit\n", prog, timeout * 1000);
			return;
		}
		if (got < 0 && errno != EINTR) {
			printf("kselftest-init: done %s: not started: waitpid: %s\n", prog, strerror(errno));
			return;
		}
		/* got > 0: an orphan reparented to init, reaped. */
	}
	alarm(0);
	/* Whatever the program left behind in its group goes with it. */
	kill(-pid, SIGKILL);
	if (WIFEXITED(status))
		printf("kselftest-init: done %s: exit %d\n", prog, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("kselftest-init: done %s: killed by SIG%s\n", prog, sigabbrev_np(WTERMSIG(status)));
	else
		printf("kselftest-init: done %s: status %#x\n", prog, status);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned timeout = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 300;
	setvbuf(stdout, NULL, _IONBF, 0);

	struct utsname u;
	if (uname(&u) == 0)
		printf("kselftest-init: %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (mkdir("/dev", 0755) != 0 && errno != EEXIST)
		printf("kselftest-init: mkdir /dev: %s\n", strerror(errno));
	mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: waitpid returns EINTR */
	sigaction(SIGALRM, &sa, NULL);

	FILE *list = fopen(LIST, "r");
	if (!list) {
		printf("kselftest-init: %s: %s\n", LIST, strerror(errno));
	} else {
		char line[256];
		while (fgets(line, sizeof line, list)) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] && line[0] != '#' && strchr(line, '/'))
				run(line, timeout);
		}
		fclose(list);
	}
	printf("kselftest-init: all done\n");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
