import CBerthSys
import Glibc

/// The local terminal: raw mode for `-it` and its window size for resize requests.
struct Terminal {
    private let fd: Int32
    private let saved: termios

    /// Puts `fd` into raw mode (like docker's `term.MakeRaw`) and remembers how it was.
    static func makeRaw(_ fd: Int32) throws -> Terminal {
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { throw CLIError.system(operation: "tcgetattr", errno: errno) }
        var raw = original
        cfmakeraw(&raw)
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else { throw CLIError.system(operation: "tcsetattr", errno: errno) }
        return Terminal(fd: fd, saved: original)
    }

    /// Restores the settings saved by `makeRaw`.
    func restore() {
        var settings = saved
        tcsetattr(fd, TCSANOW, &settings)
    }

    /// The window size of the terminal on `fd`, or `nil` if it is not a terminal.
    static func size(of fd: Int32) -> (rows: Int, columns: Int)? {
        var size = winsize()
        guard berth_ioctl_ptr(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 || size.ws_col > 0 else { return nil }
        return (Int(size.ws_row), Int(size.ws_col))
    }
}
