import BerthSystem
import CBerthSys
import Glibc

/// Makes the monitor independent of whoever started it.
enum ProcessSetup {
    /// PR_SET_CHILD_SUBREAPER from <linux/prctl.h>.
    private static let setChildSubreaper: Int32 = 36

    /// After this, the monitor: reads /dev/null on stdin and appends its own diagnostics to
    /// `D/monitor.log`; works in `/`; leads its own session (no controlling terminal,
    /// untouched by signals to the starter's process group); ignores SIGPIPE (a vanished
    /// client is an EPIPE, not a death) and SIGHUP; and is a child subreaper, so the
    /// container's init and exec'd processes become its children when the runtime exits.
    static func detach(directory: String) throws {
        try FileSystem.makeDirectories(directory, mode: 0o711)
        let null = open("/dev/null", O_RDONLY)
        guard null >= 0 else { throw MonitorError.system(operation: "open /dev/null", errno: errno) }
        dup2(null, 0)
        if null > 2 { close(null) }
        let logPath = directory + "/monitor.log"
        let log = open(logPath, O_WRONLY | O_APPEND | O_CREAT, 0o640)
        guard log >= 0 else { throw MonitorError.system(operation: "open \(logPath)", errno: errno) }
        dup2(log, 1)
        dup2(log, 2)
        if log > 2 { close(log) }

        // Hold no directory busy (an unmount of the daemon's working directory must not fail).
        chdir("/")
        if getsid(0) != getpid() && setsid() < 0 {
            // Only a process-group leader cannot start a session; it is still detached enough
            // if the daemon made it one, so carry on.
            Sys.writeBestEffort(2, "berth-monitor: setsid: \(Sys.errorString(errno))\n")
        }
        signal(SIGPIPE, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        guard berth_prctl(setChildSubreaper, 1, 0, 0, 0) == 0 else {
            throw MonitorError.system(operation: "become a child subreaper", errno: errno)
        }
    }
}
