import ArgumentParser

/// The `berth` command: docker's commands, flags, output and exit codes, spoken to berthd over
/// the Engine API.
struct Berth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "A self-sufficient runtime for containers",
        discussion: "Global options (before the command): -H, --host unix:///path (default \(DaemonHost.defaultAddress), or $\(DaemonHost.environmentVariable))",
        version: "Berth version \(BerthVersion.client)",
        subcommands: [
            Run.self, Create.self, Start.self, Stop.self, Kill.self, Restart.self, Wait.self, Rm.self,
            Ps.self, Logs.self, Exec.self, Inspect.self, Diff.self, Top.self, Commit.self, Pause.self, Unpause.self, Rename.self,
            Images.self, History.self, Pull.self, Push.self, Login.self, Logout.self, Tag.self, Rmi.self, Import.self, Load.self, Save.self,
            Update.self, Stats.self, Events.self, Cp.self, Export.self, Build.self, BuilderGroup.self,
            Version.self, Info.self, ContainerGroup.self, ImageGroup.self, VolumeGroup.self, NetworkGroup.self, SystemGroup.self, RegistryGroup.self, Replicate.self,
        ]
    )

    /// Parses `arguments`, runs the command and returns the exit status: the command's own,
    /// 125 for a command line docker would reject, 1 for other failures.
    static func dispatch(_ arguments: [String]) -> Int32 {
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                try? Console.out(fullMessage(for: error) + "\n")
                return 0
            }
            let subcommand = arguments.first { !$0.hasPrefix("-") } ?? ""
            Console.err("berth: \(message(for: error))\nSee 'berth \(subcommand.isEmpty ? "" : subcommand + " ")--help'.\n")
            return 125
        }
        do {
            try command.run()
            return 0
        } catch let error as CLIError {
            Console.err(error.description + "\n")
            return error.exitStatus
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            if exitCode(for: error) == .success {
                try? Console.out(fullMessage(for: error) + "\n")
                return 0
            }
            Console.err(message(for: error) + "\n")
            return 1
        }
    }

    /// A client for the daemon named by `-H`, `BERTH_HOST` or the default.
    static func client() throws -> DaemonClient {
        DaemonClient(host: try DaemonHost.fromEnvironment())
    }
}
