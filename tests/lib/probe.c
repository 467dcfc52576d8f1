/* A static probe run inside test containers: each argument names one attempt, and the probe
 * prints "<attempt>: ok" or "<attempt>: <errno name>" per line. Built by the tests with
 * `gcc -static`, bind-mounted into busybox containers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

/* For `seconds`, looks for processes whose executable is one of Berth's (or runc) and tries to
 * open that executable for writing through the process's /proc/PID/exe, as CVE-2019-5736 did.
 * Nothing is written. Prints how many such executables were seen and how many opened. */
static void exe_attack(int seconds) {
    long seen = 0, writable = 0;
    time_t end = time(NULL) + seconds;
    while (time(NULL) < end) {
        DIR *proc = opendir("/proc");
        struct dirent *e;
        while (proc && (e = readdir(proc)) != NULL) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == getpid()) continue;
            char link[64], target[4096];
            snprintf(link, sizeof link, "/proc/%s/exe", e->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n <= 0) continue;
            target[n] = 0;
            if (!strstr(target, "berth") && !strstr(target, "runc")) continue;
            seen++;
            int fd = open(link, O_WRONLY | O_CLOEXEC);
            if (fd >= 0) { writable++; close(fd); }
            fd = open(link, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                char again[64];
                snprintf(again, sizeof again, "/proc/self/fd/%d", fd);
                /* Once the process exits the text is no longer busy: retry for a moment. */
                for (int i = 0; i < 2000; i++) {
                    int w = open(again, O_WRONLY | O_CLOEXEC);
                    if (w >= 0) { writable++; close(w); break; }
                    if (errno != ETXTBSY) break;
                    usleep(500);
                }
                close(fd);
            }
        }
        if (proc) closedir(proc);
    }
    printf("exe-seen: ok %ld\nexe-writable: ok %ld\n", seen, writable);
}

static void report(const char *name, long result) {
    if (result >= 0) printf("%s: ok %ld\n", name, result);
    else printf("%s: %s\n", name, strerrorname_np(errno));
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long r;
        if (!strcmp(a, "unshare-user")) {
            r = unshare(CLONE_NEWUSER);
        } else if (!strcmp(a, "clone-user")) {
            r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
            if (r == 0) _exit(0);
            if (r > 0) waitpid((pid_t)r, NULL, 0);
        } else if (!strcmp(a, "clone3")) {
            r = syscall(SYS_clone3, NULL, 0);
        } else if (!strcmp(a, "session-keyring")) {
            r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
        } else if (!strcmp(a, "add-key")) {
            r = syscall(SYS_add_key, "user", "berth-probe", "x", 1, KEY_SPEC_SESSION_KEYRING);
        } else if (!strcmp(a, "bpf")) {
            union bpf_attr attr;
            memset(&attr, 0, sizeof(attr));
            r = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
        } else if (!strcmp(a, "perf_event_open")) {
            r = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
        } else if (!strcmp(a, "userfaultfd")) {
            r = syscall(SYS_userfaultfd, 0);
        } else if (!strcmp(a, "io_uring_setup")) {
            r = syscall(SYS_io_uring_setup, 1, NULL);
        } else if (!strcmp(a, "kexec_load")) {
            r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
        } else if (!strcmp(a, "mount")) {
            r = mount("none", "/mnt", "tmpfs", 0, NULL);
        } else if (!strncmp(a, "exe-attack=", 11)) {
            exe_attack(atoi(a + 11));
            continue;
        } else if (!strncmp(a, "open=", 5)) {
            r = open(a + 5, O_RDONLY | O_NONBLOCK);
        } else if (!strncmp(a, "read=", 5)) {
            int fd = open(a + 5, O_RDONLY | O_NONBLOCK);
            char byte;
            r = fd < 0 ? -1 : read(fd, &byte, 1);
        } else {
            fprintf(stderr, "probe: unknown attempt %s\n", a);
            return 2;
        }
        report(a, r);
    }
    return 0;
}
