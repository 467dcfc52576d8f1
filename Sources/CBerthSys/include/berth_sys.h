// System calls and constants that Swift's Glibc module does not expose (GNU extensions,
// variadic functions, raw syscalls). Each wrapper returns what the syscall returns and
// leaves errno set; none of them allocates or keeps state.
#ifndef BERTH_SYS_H
#define BERTH_SYS_H

#include <stdint.h>
#include <sys/types.h>

// Namespace flags (CLONE_NEW*) for unshare/setns/clone.
extern const int berth_CLONE_NEWNS;
extern const int berth_CLONE_NEWUTS;
extern const int berth_CLONE_NEWIPC;
extern const int berth_CLONE_NEWPID;
extern const int berth_CLONE_NEWNET;
extern const int berth_CLONE_NEWUSER;
extern const int berth_CLONE_NEWCGROUP;

int berth_unshare(int flags);
int berth_setns(int fd, int nstype);
int berth_pivot_root(const char *new_root, const char *put_old);

// Forks a child with the given CLONE_NEW* flags (like fork(), with SIGCHLD as exit signal).
// Returns 0 in the child, the child's pid in the parent, -1 on error.
pid_t berth_clone_fork(int ns_flags);

// openat2(2) with RESOLVE_* flags; resolve is a bitmask of the BERTH_RESOLVE_* values.
#define BERTH_RESOLVE_NO_XDEV       0x01
#define BERTH_RESOLVE_NO_MAGICLINKS 0x02
#define BERTH_RESOLVE_NO_SYMLINKS   0x04
#define BERTH_RESOLVE_BENEATH       0x08
#define BERTH_RESOLVE_IN_ROOT       0x10
int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

// prctl(2) and ioctl(2) are variadic in C; these take fixed arguments.
int berth_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int berth_ioctl_int(int fd, unsigned long request, int value);
int berth_ioctl_ptr(int fd, unsigned long request, void *arg);
int berth_set_winsize(int fd, unsigned short rows, unsigned short cols);
int berth_set_ctty(int fd);

// Capabilities through the raw capget/capset syscalls (version 3, 64-bit sets).
int berth_capget(int pid, uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);
int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);

// Overlay and device helpers.
unsigned long berth_makedev(unsigned int major, unsigned int minor);
unsigned int berth_major(unsigned long dev);
unsigned int berth_minor(unsigned long dev);

// Sends or receives one file descriptor over a Unix socket (SCM_RIGHTS).
int berth_send_fd(int sock, int fd);
int berth_recv_fd(int sock);

#endif

// ---- Runtime additions (berth-runtime) ---------------------------------------------------
#ifndef BERTH_SYS_RUNTIME_H
#define BERTH_SYS_RUNTIME_H
// close_range(2): marks (cloexec != 0) or closes every descriptor in [first, last].
int berth_close_range(unsigned int first, unsigned int last, int cloexec);
// Unlocks a pty master and returns the number of its slave (/dev/pts/N), or -1.
int berth_pty_unlock(int master);
#endif
