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
/// 1 when `path` (its final link not followed) is the root of a mount, 0 when not, -1 with
/// errno when it cannot be examined (statx STATX_ATTR_MOUNT_ROOT, Linux 5.8).
int berth_is_mount_root(const char *path);

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


// ---- Engine: spawning helper processes ----

// posix_spawn of `path` with the given stdio (-1 = /dev/null) and, when `fd3` >= 0, that
// descriptor as fd 3; every other descriptor is closed in the child. With `new_session` the
// child starts its own session (setsid), so it survives its parent. Returns the pid or -errno.
pid_t berth_spawn_session(const char *path, char *const argv[], char *const envp[],
                  int stdin_fd, int stdout_fd, int stderr_fd, int fd3, int new_session);

// pidfd_open(2): a descriptor that becomes readable when `pid` exits. -1 and errno on error.
int berth_pidfd_open(pid_t pid);

// pipe2(2) and O_PATH, which Swift's Glibc module hides behind _GNU_SOURCE.
int berth_pipe2(int fds[2], int flags);
extern const int berth_O_PATH;

// Extended attributes (<sys/xattr.h> is not part of Swift's Glibc module).
int berth_setxattr(const char *path, const char *name, const void *value, size_t size, int flags);
int berth_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags);
int berth_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
ssize_t berth_getxattr(const char *path, const char *name, void *value, size_t size);
ssize_t berth_lgetxattr(const char *path, const char *name, void *value, size_t size);
ssize_t berth_fgetxattr(int fd, const char *name, void *value, size_t size);
ssize_t berth_llistxattr(const char *path, char *list, size_t size);
ssize_t berth_flistxattr(int fd, char *list, size_t size);
int berth_lremovexattr(const char *path, const char *name);

// ---- berth-monitor additions (signalfd, spawning the runtime) ----

// Blocks SIGCHLD for the calling thread and returns a non-blocking, close-on-exec signalfd
// that becomes readable when SIGCHLD is pending; -1 with errno set on failure. Children
// started afterwards must unblock SIGCHLD again (berth_spawn does).
int berth_signalfd_sigchld(void);

// Starts `path` with `argv` and `envp` in a forked child whose fds 0, 1, 2 are `in`, `out`,
// `err`, whose signal mask is empty and in which every signal, glibc's internal ones
// included, has its default disposition (posix_spawn leaves glibc's internal signals 32 and 33
// ignored, and an ignored signal stays ignored across execve, so containers would inherit it).
// Returns the child's pid; -1 with errno set if fork failed or execve failed (the child's
// errno is passed back through a close-on-exec pipe, and the child has then been reaped).
pid_t berth_spawn(const char *path, char *const argv[], char *const envp[], int in, int out, int err);
// fork(2) with berth_spawn's child set-up but no exec: the child (return 0) has default signal
// dispositions, an empty mask, in/out/err as 0..2 and no other descriptor. For running code of
// a single-threaded process in a child as if it were a separate program.
pid_t berth_fork_stdio(int in, int out, int err);

// ---- berth CLI: signal delivery through a file descriptor -------------------------------
// The CLI's attach loop is a single-threaded poll(2) over the socket, stdin and these signals,
// so SIGWINCH (resize) and SIGINT/SIGTERM (proxied to the container) arrive as readable events.

// Blocks the given signals and returns a non-blocking, close-on-exec signalfd for them.
int berth_signalfd_open(const int *signals, int count);
// Reads one pending signal from the signalfd; returns its number, or -1 (errno set) if none.
int berth_signalfd_next(int fd);
// Closes the signalfd and unblocks the given signals again.
int berth_signalfd_close(int fd, const int *signals, int count);
// ---- end berth CLI -----------------------------------------------------------------------

#endif

// ---- Runtime additions (berth-runtime) ---------------------------------------------------
#ifndef BERTH_SYS_RUNTIME_H
#define BERTH_SYS_RUNTIME_H
// close_range(2): marks (cloexec != 0) or closes every descriptor in [first, last].
int berth_close_range(unsigned int first, unsigned int last, int cloexec);
// Unlocks a pty master and returns the number of its slave (/dev/pts/N), or -1.
int berth_pty_unlock(int master);
#endif

// ---- Runtime: seccomp, eBPF device filters, keyrings --------------------------------------
#ifndef BERTH_SYS_SECURITY_H
#define BERTH_SYS_SECURITY_H
// seccomp(SECCOMP_SET_MODE_FILTER) of `count` classic-BPF instructions (struct sock_filter,
// 8 bytes each). Needs no_new_privs or CAP_SYS_ADMIN. 0, or -1 with errno.
int berth_seccomp_install(const void *instructions, unsigned short count);
// BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program of `count` eBPF instructions (8 bytes
// each) with license "Apache"; the verifier's log goes to `log` (may be NULL). The program's
// fd, or -1 with errno (ENOSPC when the log does not fit).
int berth_bpf_load_device_program(const void *instructions, unsigned int count, char *log, unsigned int log_size);
// BPF_PROG_ATTACH of a device program to a cgroup2 directory (BPF_F_ALLOW_MULTI). 0 or -1.
int berth_bpf_attach_device_program(int cgroup_fd, int program_fd);
// KEYCTL_JOIN_SESSION_KEYRING: joins a new anonymous session keyring (name NULL) or the
// named one. The keyring's serial, or -1 with errno.
long berth_join_session_keyring(const char *name);
#endif
#ifndef BERTH_SYS_MEMFD_H
#define BERTH_SYS_MEMFD_H
// memfd_create(2) with MFD_CLOEXEC (and MFD_ALLOW_SEALING when `sealable`). fd or -1.
int berth_memfd(const char *name, int sealable);
#endif
#ifndef BERTH_SYS_MOUNT_SETATTR_H
#define BERTH_SYS_MOUNT_SETATTR_H
// mount_setattr(2) on the mount `fd` refers to and every mount below it (AT_RECURSIVE):
// sets `attr_set` and clears `attr_clr` (MOUNT_ATTR_RDONLY 0x1, NOSUID 0x2, NODEV 0x4,
// NOEXEC 0x8). 0, or -1 with errno (ENOSYS before Linux 5.12).
int berth_mount_setattr_recursive(int fd, uint64_t attr_set, uint64_t attr_clr);
#endif
#ifndef BERTH_SYS_SYNCFS_H
#define BERTH_SYS_SYNCFS_H
// syncfs(2): writes the whole file system holding `fd` to disk. 0 or -1 with errno.
int berth_syncfs(int fd);
#endif
#ifndef BERTH_SYS_CLONE_IN_USERNS_H
#define BERTH_SYS_CLONE_IN_USERNS_H
// berth_clone_fork, with the child's new namespaces owned by the existing user namespace
// `userns_fd`: an intermediate process joins it and clones the child with CLONE_PARENT, so the
// child is the caller's own (waitable) child, and then exits. Returns 0 in the child, its pid
// in the caller, -1 with errno on failure.
pid_t berth_clone_fork_in_userns(int userns_fd, int ns_flags);
#endif
#ifndef BERTH_SYS_COPY_FILE_RANGE_H
#define BERTH_SYS_COPY_FILE_RANGE_H
// copy_file_range(2) from `in` to `out` at their current offsets, at most `length` bytes,
// falling back to sendfile(2) between file systems. The number copied (0 at end of file), or
// -1 with errno.
long berth_copy_file_range(int in, int out, size_t length);
#endif
#ifndef BERTH_SYS_DETACH_ON_TERMINATION_H
#define BERTH_SYS_DETACH_ON_TERMINATION_H
// Installs SIGTERM and SIGINT handlers that detach the mount at `path` (umount2 MNT_DETACH;
// processes using files under it keep them) and then die of the signal as before. 0 or -1.
int berth_detach_on_termination(const char *path);
#endif
#ifndef BERTH_SYS_IDMAP_H
#define BERTH_SYS_IDMAP_H
// A descriptor of a new user namespace with the given uid_map and gid_map contents (lines
// "container host size"), owned by no process once returned: a child is cloned into it, its
// maps written, the namespace opened, and the child ended. -1 with errno on failure.
int berth_userns_with_maps(const char *uid_map, const char *gid_map);
// A detached copy of the mount tree at `path` (open_tree OPEN_TREE_CLONE), idmapped through
// the user namespace `userns_fd` (mount_setattr MOUNT_ATTR_IDMAP): through it, a file owned
// by ID `i` reads as owned by the host ID that `i` maps to. The mount's descriptor (close-on-exec), or -1 with errno (EINVAL
// when the file system cannot be idmapped, ENOSYS before Linux 5.12).
int berth_idmapped_tree(const char *path, int userns_fd);
#endif
