import CBerthSys
import Glibc

// Swift's Glibc module is built without _GNU_SOURCE and does not include <sys/xattr.h>; these
// names forward to the C shim so the rest of the target reads like plain C.

/// `O_PATH` from <fcntl.h>.
let O_PATH: Int32 = berth_O_PATH

/// setxattr(2): follows a final symbolic link.
func setxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
    berth_setxattr(path, name, value, size, flags)
}

/// lsetxattr(2): acts on a final symbolic link itself.
func lsetxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
    berth_lsetxattr(path, name, value, size, flags)
}

/// fsetxattr(2).
func fsetxattr(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
    berth_fsetxattr(fd, name, value, size, flags)
}

/// lgetxattr(2).
func lgetxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
    berth_lgetxattr(path, name, value, size)
}

/// fgetxattr(2).
func fgetxattr(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
    berth_fgetxattr(fd, name, value, size)
}

/// llistxattr(2).
func llistxattr(_ path: UnsafePointer<CChar>, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
    berth_llistxattr(path, list, size)
}

/// flistxattr(2).
func flistxattr(_ fd: Int32, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
    berth_flistxattr(fd, list, size)
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
