import Glibc

// Swift's Glibc module is built without _GNU_SOURCE and does not include <sys/xattr.h>, so
// O_PATH and the xattr calls are not visible. The constant is Linux's generic value; the
// functions are looked up in the C library itself, whose ABI they follow exactly.

/// `O_PATH` from <fcntl.h> (Linux, all architectures Berth supports).
let O_PATH: Int32 = 0o10000000

private typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
private typealias FSetXattr = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
private typealias GetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
private typealias FGetXattr = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
private typealias ListXattr = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
private typealias FListXattr = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int

private func libc<T>(_ name: String, as type: T.Type) -> T? {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
    return unsafeBitCast(symbol, to: type)
}

private let setxattrFunction = libc("setxattr", as: SetXattr.self)
private let lsetxattrFunction = libc("lsetxattr", as: SetXattr.self)
private let fsetxattrFunction = libc("fsetxattr", as: FSetXattr.self)
private let lgetxattrFunction = libc("lgetxattr", as: GetXattr.self)
private let fgetxattrFunction = libc("fgetxattr", as: FGetXattr.self)
private let llistxattrFunction = libc("llistxattr", as: ListXattr.self)
private let flistxattrFunction = libc("flistxattr", as: FListXattr.self)

/// setxattr(2): follows a final symbolic link.
func setxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
    guard let f = setxattrFunction else { errno = ENOSYS; return -1 }
    return f(path, name, value, size, flags)
}

/// lsetxattr(2): acts on a final symbolic link itself.
func lsetxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
    guard let f = lsetxattrFunction else { errno = ENOSYS; return -1 }
    return f(path, name, value, size, flags)
}

/// fsetxattr(2).
func fsetxattr(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
    guard let f = fsetxattrFunction else { errno = ENOSYS; return -1 }
    return f(fd, name, value, size, flags)
}

/// lgetxattr(2).
func lgetxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
    guard let f = lgetxattrFunction else { errno = ENOSYS; return -1 }
    return f(path, name, value, size)
}

/// fgetxattr(2).
func fgetxattr(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
    guard let f = fgetxattrFunction else { errno = ENOSYS; return -1 }
    return f(fd, name, value, size)
}

/// llistxattr(2).
func llistxattr(_ path: UnsafePointer<CChar>, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
    guard let f = llistxattrFunction else { errno = ENOSYS; return -1 }
    return f(path, list, size)
}

/// flistxattr(2).
func flistxattr(_ fd: Int32, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
    guard let f = flistxattrFunction else { errno = ENOSYS; return -1 }
    return f(fd, list, size)
}

/// Writes all of `bytes` to `fd` (with `pwrite` at `offset` when given), retrying short
/// writes and EINTR. Returns 0, or the errno of the failure.
func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil) -> Int32 {
    guard let base = bytes.baseAddress else { return 0 }
    var done = 0
    while done < bytes.count {
        let n: Int
        if let offset {
            n = pwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
        } else {
            n = write(fd, base + done, bytes.count - done)
        }
        if n < 0 {
            if errno == EINTR { continue }
            return errno
        }
        done += n
    }
    return 0
}
