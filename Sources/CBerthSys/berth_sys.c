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
