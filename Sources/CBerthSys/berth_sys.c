#define _GNU_SOURCE
#include "berth_sys.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/xattr.h>

const int berth_CLONE_NEWNS = CLONE_NEWNS;
const int berth_CLONE_NEWUTS = CLONE_NEWUTS;
const int berth_CLONE_NEWIPC = CLONE_NEWIPC;
const int berth_CLONE_NEWPID = CLONE_NEWPID;
const int berth_CLONE_NEWNET = CLONE_NEWNET;
const int berth_CLONE_NEWUSER = CLONE_NEWUSER;
const int berth_CLONE_NEWCGROUP = CLONE_NEWCGROUP;

int berth_unshare(int flags) { return unshare(flags); }
int berth_setns(int fd, int nstype) { return setns(fd, nstype); }
int berth_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

pid_t berth_clone_fork(int ns_flags) {
    // A raw clone without CLONE_VM behaves like fork(): the child gets a copy of the address
    // space and returns 0. glibc's fork handlers do not run, so only async-signal-safe work
    // (and single-threaded code) may follow in the child.
    return (pid_t)syscall(SYS_clone, (unsigned long)(ns_flags | SIGCHLD), NULL, NULL, NULL, NULL);
}

int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags;
    how.mode = mode;
    if (resolve & BERTH_RESOLVE_NO_XDEV) how.resolve |= RESOLVE_NO_XDEV;
    if (resolve & BERTH_RESOLVE_NO_MAGICLINKS) how.resolve |= RESOLVE_NO_MAGICLINKS;
    if (resolve & BERTH_RESOLVE_NO_SYMLINKS) how.resolve |= RESOLVE_NO_SYMLINKS;
    if (resolve & BERTH_RESOLVE_BENEATH) how.resolve |= RESOLVE_BENEATH;
    if (resolve & BERTH_RESOLVE_IN_ROOT) how.resolve |= RESOLVE_IN_ROOT;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int berth_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}
int berth_ioctl_int(int fd, unsigned long request, int value) { return ioctl(fd, request, value); }
int berth_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int berth_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = rows;
    ws.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}
int berth_set_ctty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }

int berth_capget(int pid, uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, pid };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) != 0) return -1;
    *effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = (uint64_t)data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}

int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;
    data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = (uint32_t)inheritable;
    data[1].inheritable = (uint32_t)(inheritable >> 32);
    return (int)syscall(SYS_capset, &hdr, data);
}

unsigned long berth_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }
unsigned int berth_major(unsigned long dev) { return major(dev); }
unsigned int berth_minor(unsigned long dev) { return minor(dev); }

int berth_send_fd(int sock, int fd) {
    char byte = 0;
    struct iovec iov = { &byte, 1 };
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

int berth_recv_fd(int sock) {
    char byte = 0;
    struct iovec iov = { &byte, 1 };
    char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS) { errno = EBADMSG; return -1; }
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

// ---- Engine: spawning helper processes ----

pid_t berth_spawn_session(const char *path, char *const argv[], char *const envp[],
                  int stdin_fd, int stdout_fd, int stderr_fd, int fd3, int new_session) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    int fds[3] = { stdin_fd, stdout_fd, stderr_fd };
    for (int i = 0; i < 3; i++) {
        if (fds[i] >= 0) posix_spawn_file_actions_adddup2(&actions, fds[i], i);
        else posix_spawn_file_actions_addopen(&actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    if (fd3 >= 0) {
        posix_spawn_file_actions_adddup2(&actions, fd3, 3);
        posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    } else {
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    }
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_session) flags |= POSIX_SPAWN_SETSID;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, flags);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? pid : -rc;
}

int berth_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int berth_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
const int berth_O_PATH = O_PATH;

int berth_setxattr(const char *path, const char *name, const void *value, size_t size, int flags) { return setxattr(path, name, value, size, flags); }
int berth_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags) { return lsetxattr(path, name, value, size, flags); }
int berth_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) { return fsetxattr(fd, name, value, size, flags); }
ssize_t berth_getxattr(const char *path, const char *name, void *value, size_t size) { return getxattr(path, name, value, size); }
ssize_t berth_lgetxattr(const char *path, const char *name, void *value, size_t size) { return lgetxattr(path, name, value, size); }
ssize_t berth_fgetxattr(int fd, const char *name, void *value, size_t size) { return fgetxattr(fd, name, value, size); }
ssize_t berth_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }
ssize_t berth_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }
int berth_lremovexattr(const char *path, const char *name) { return lremovexattr(path, name); }

// ---- berth-monitor additions (signalfd, spawning the runtime) ----
#include <fcntl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

int berth_signalfd_sigchld(void) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) return -1;
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

// The kernel's struct sigaction for rt_sigaction(2); glibc's sigaction refuses signals 32/33.
struct berth_kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static void berth_child_stdio(int from, int to) {
    if (from == to) {
        fcntl(to, F_SETFD, 0);
    } else {
        dup2(from, to);
    }
}

// In a freshly forked child: every signal back to its default disposition, an empty mask,
// and in/out/err on descriptors 0..2.
static void berth_child_reset(int in, int out, int err) {
    struct berth_kernel_sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // Move fds that sit on 0..2 out of the way before dup2 onto 0..2.
    if (in <= 2 && in != 0) in = fcntl(in, F_DUPFD_CLOEXEC, 3);
    if (out <= 2 && out != 1) out = fcntl(out, F_DUPFD_CLOEXEC, 3);
    if (err <= 2 && err != 2) err = fcntl(err, F_DUPFD_CLOEXEC, 3);
    berth_child_stdio(in, 0);
    berth_child_stdio(out, 1);
    berth_child_stdio(err, 2);
}

pid_t berth_spawn(const char *path, char *const argv[], char *const envp[], int in, int out, int err) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        berth_child_reset(in, out, err);
        execve(path, argv, envp);
        int code = errno;
        ssize_t ignored = write(report[1], &code, sizeof code);
        (void)ignored;
        _exit(127);
    }
    close(report[1]);
    int code = 0;
    ssize_t n;
    do {
        n = read(report[0], &code, sizeof code);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof code) {
        waitpid(pid, NULL, 0);
        errno = code;
        return -1;
    }
    return pid;
}

pid_t berth_fork_stdio(int in, int out, int err) {
    pid_t pid = fork();
    if (pid == 0) {
        berth_child_reset(in, out, err);
        // What an exec would have dropped (every other descriptor is close-on-exec).
        syscall(SYS_close_range, 3U, ~0U, 0U);
    }
    return pid;
}

// ---- berth CLI: signal delivery through a file descriptor -------------------------------
#include <sys/signalfd.h>

static int berth_fill_sigset(sigset_t *set, const int *signals, int count) {
    if (sigemptyset(set) != 0) return -1;
    for (int i = 0; i < count; i++) {
        if (sigaddset(set, signals[i]) != 0) return -1;
    }
    return 0;
}

int berth_signalfd_open(const int *signals, int count) {
    sigset_t set;
    if (berth_fill_sigset(&set, signals, count) != 0) return -1;
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int berth_signalfd_next(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n != (ssize_t)sizeof info) return -1;
    return (int)info.ssi_signo;
}

int berth_signalfd_close(int fd, const int *signals, int count) {
    sigset_t set;
    int rc = close(fd);
    if (berth_fill_sigset(&set, signals, count) != 0) return -1;
    if (sigprocmask(SIG_UNBLOCK, &set, NULL) != 0) return -1;
    return rc;
}
// ---- end berth CLI -----------------------------------------------------------------------

// ---- Runtime additions (berth-runtime) ---------------------------------------------------
#include <linux/close_range.h>

int berth_close_range(unsigned int first, unsigned int last, int cloexec) {
    return (int)syscall(SYS_close_range, first, last, cloexec ? CLOSE_RANGE_CLOEXEC : 0);
}

int berth_pty_unlock(int master) {
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) != 0) return -1;
    int number = -1;
    if (ioctl(master, TIOCGPTN, &number) != 0) return -1;
    return number;
}

#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>

int berth_seccomp_install(const void *instructions, unsigned short count) {
    struct sock_fprog program = { .len = count, .filter = (struct sock_filter *)instructions };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
}

int berth_bpf_load_device_program(const void *instructions, unsigned int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)instructions;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache";
    if (log != NULL && log_size > 0) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int berth_bpf_attach_device_program(int cgroup_fd, int program_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)program_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
}

long berth_join_session_keyring(const char *name) {
    return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
}

#include <sys/mman.h>

int berth_memfd(const char *name, int sealable) {
    return memfd_create(name, MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0));
}

#include <linux/mount.h>

int berth_mount_setattr_recursive(int fd, uint64_t attr_set, uint64_t attr_clr) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = attr_set;
    attr.attr_clr = attr_clr;
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
}

int berth_syncfs(int fd) {
    return syncfs(fd);
}

#include <sys/wait.h>

pid_t berth_clone_fork_in_userns(int userns_fd, int ns_flags) {
    int channel[2];
    if (pipe2(channel, O_CLOEXEC) != 0) return -1;
    pid_t intermediate = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
    if (intermediate < 0) {
        close(channel[0]);
        close(channel[1]);
        return -1;
    }
    if (intermediate == 0) {
        close(channel[0]);
        int result[2] = {-1, 0};
        if (setns(userns_fd, CLONE_NEWUSER) != 0) {
            result[1] = errno;
        } else {
            pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)(ns_flags | CLONE_PARENT), NULL, NULL, NULL, NULL);
            if (child == 0) {
                close(channel[1]);
                return 0;
            }
            result[0] = child;
            result[1] = child < 0 ? errno : 0;
        }
        ssize_t written = write(channel[1], result, sizeof result);
        _exit(written == (ssize_t)sizeof result ? 0 : 1);
    }
    close(channel[1]);
    int result[2] = {-1, EIO};
    ssize_t got;
    do { got = read(channel[0], result, sizeof result); } while (got < 0 && errno == EINTR);
    close(channel[0]);
    int status;
    while (waitpid(intermediate, &status, 0) < 0 && errno == EINTR) {}
    if (got != (ssize_t)sizeof result || result[0] < 0) {
        errno = got == (ssize_t)sizeof result ? result[1] : EIO;
        return -1;
    }
    return result[0];
}

#include <sys/sendfile.h>

long berth_copy_file_range(int in, int out, size_t length) {
    ssize_t copied = copy_file_range(in, NULL, out, NULL, length, 0);
    // Between different file systems (or where the call is missing) sendfile(2) still copies
    // inside the kernel.
    if (copied < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        copied = sendfile(out, in, NULL, length);
    }
    return (long)copied;
}

#include <sys/mount.h>

static char *detach_path;

static void detach_and_die(int sig) {
    if (detach_path != NULL) umount2(detach_path, MNT_DETACH);
    signal(sig, SIG_DFL);
    raise(sig);
}

int berth_detach_on_termination(const char *path) {
    char *copy = strdup(path);
    if (copy == NULL) return -1;
    detach_path = copy;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = detach_and_die;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, NULL) != 0 || sigaction(SIGINT, &action, NULL) != 0) return -1;
    return 0;
}

#include <stdio.h>

static int berth_write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    int saved = errno;
    close(fd);
    if (written != (ssize_t)length) {
        errno = written < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

int berth_userns_with_maps(const char *uid_map, const char *gid_map) {
    int channel[2];
    if (pipe2(channel, O_CLOEXEC) != 0) return -1;
    pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, NULL);
    if (child < 0) {
        int saved = errno;
        close(channel[0]);
        close(channel[1]);
        errno = saved;
        return -1;
    }
    if (child == 0) {
        char byte;
        close(channel[1]);
        while (read(channel[0], &byte, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    close(channel[0]);
    char path[64];
    int fd = -1;
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
    if (berth_write_file(path, uid_map) == 0) {
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
        if (berth_write_file(path, gid_map) == 0) {
            snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
            fd = open(path, O_RDONLY | O_CLOEXEC);
        }
    }
    int saved = errno;
    close(channel[1]);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    errno = saved;
    return fd;
}

int berth_idmapped_tree(const char *path, int userns_fd) {
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) return -1;
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)userns_fd;
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
        int saved = errno;
        close(tree);
        errno = saved;
        return -1;
    }
    return tree;
}

int berth_is_mount_root(const char *path) {
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) return -1;
    if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) { errno = ENOTSUP; return -1; }
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) ? 1 : 0;
}
