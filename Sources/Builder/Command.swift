/// The form a RUN, CMD or ENTRYPOINT command is written in.
public enum Command: Sendable, Equatable {
    /// The exec form, a JSON array of strings: run as given, without a shell.
    case exec([String])
    /// The shell form: text for the image's shell (`/bin/sh -c` unless SHELL changed it).
    case shell(String)
}
