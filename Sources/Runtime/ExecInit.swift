import CBerthSys
import Glibc
import OCI

/// A process started by `exec` between `fork` and `execve`: it joins the container's
/// namespaces (its pid namespace was entered by the parent before forking), sets itself up
/// like init and execs. Success is the sync channel closing on exec.
struct ExecInit {
    let process: RuntimeSpec.Process
    let namespaces: [(kind: NamespaceKind, fd: Int32)]
    /// The container's root to chroot into when it has no mount namespace to join.
    let inheritedRoot: Int32?
    let channel: SyncChannel
    let consoleSocket: Int32?
    /// Descriptors 3… passed on to the process (`--preserve-fds`).
    let preservedDescriptors: Int
    /// The container's seccomp profile, which exec'd processes get too.
    let seccomp: SeccompFilter?

    func run() -> Never {
        let setup = ProcessSetup(process: process, preservedDescriptors: preservedDescriptors, seccomp: seccomp)
        do {
            _ = berth_prctl(ContainerInit.prSetDumpable, 0, 0, 0, 0)
            _ = berth_prctl(ContainerInit.prSetParentDeathSignal, UInt(SIGKILL), 0, 0, 0)
            guard channel.receive() == .go else { _exit(1) }
            try NamespacePlan.join(namespaces)
            if let inheritedRoot { try RootFilesystem.enter(root: inheritedRoot) }
            if process.terminal == true, let socket = consoleSocket {
                try Console.attach(socket: socket, size: process.consoleSize, bindDevConsole: false)
            }
            try setup.applyRlimits()
            try setup.closeInheritedDescriptors()
            try setup.becomeUser()
            let command = setup.command(at: try setup.resolveExecutable())
            // `exec -d` returns once we run; the process must outlive it.
            _ = berth_prctl(ContainerInit.prSetParentDeathSignal, 0, 0, 0, 0)
            try setup.lockDown()
            let failure = command.exec()
            channel.send(.error("\(failure)"))
        } catch {
            channel.send(.error("\(error)"))
        }
        _exit(1)
    }
}
