import BerthSystem
import CBerthSys
import Glibc
import OCI

/// A pseudo-terminal for a process with `process.terminal`: the master goes to whoever listens
/// on the console socket (SCM_RIGHTS), the slave becomes the process's controlling terminal
/// and its stdin, stdout and stderr.
enum Console {
    /// Connects to the `--console-socket` Unix socket; done by the runtime before forking.
    static func connect(to path: String) throws -> Int32 {
        do {
            return try UnixSocketAddress.connect(path)
        } catch UnixSocketAddress.Failure.pathTooLong {
            throw RuntimeError.invalidConfig("console socket path \(path) is too long")
        } catch UnixSocketAddress.Failure.system(_, let code) {
            throw RuntimeError.system(operation: "connect to console socket \(path)", errno: code)
        }
    }

    /// Opens a pty in the container's devpts (`/dev/pts/ptmx`, so after the root is entered),
    /// optionally binds the slave on `/dev/console`, sends the master over `socket`, and makes
    /// the slave the controlling terminal and stdio of a new session.
    static func attach(socket: Int32, size: RuntimeSpec.ConsoleSize?, bindDevConsole: Bool) throws {
        let master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw RuntimeError.errno("open /dev/pts/ptmx") }
        defer { close(master) }
        let number = berth_pty_unlock(master)
        guard number >= 0 else { throw RuntimeError.errno("unlock the pseudo-terminal") }
        let slavePath = "/dev/pts/\(number)"
        if let size {
            _ = berth_set_winsize(master, UInt16(truncatingIfNeeded: size.height), UInt16(truncatingIfNeeded: size.width))
        }
        if bindDevConsole {
            let file = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if file >= 0 { close(file) }
            if Glibc.mount(slavePath, "/dev/console", nil, MountFlag.bind, nil) != 0 {
                throw RuntimeError.errno("bind \(slavePath) on /dev/console")
            }
        }
        try check(berth_send_fd(socket, master), "send the terminal over the console socket")
        close(socket)
        try check(setsid(), "start a new session")
        let slave = open(slavePath, O_RDWR)
        guard slave >= 0 else { throw RuntimeError.errno("open \(slavePath)") }
        try check(berth_set_ctty(slave), "make \(slavePath) the controlling terminal")
        for target: Int32 in 0...2 {
            try check(dup2(slave, target), "use \(slavePath) as stdio")
        }
        if slave > 2 { close(slave) }
    }
}
