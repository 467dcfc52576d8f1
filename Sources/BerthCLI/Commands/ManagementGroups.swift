import ArgumentParser

/// `berth container …`: docker's management-command spelling of the container commands
/// (`container ls`, `container rm`, `container inspect`, …).
struct ContainerGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container", abstract: "Manage containers",
        subcommands: [
            Run.self, Create.self, Start.self, Stop.self, Kill.self, Restart.self, Wait.self,
            ContainerList.self, ContainerRemove.self, ContainerInspectCommand.self, Logs.self, Exec.self,
            Diff.self, Top.self, Commit.self, Pause.self, Unpause.self, Rename.self, Update.self, Stats.self, ContainerPrune.self, Cp.self, Export.self,
        ])
}

/// `berth container ls` (also `ps`, `list`): `berth ps`.
struct ContainerList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List containers", aliases: ["ps", "list"])

    @OptionGroup var list: Ps

    func run() throws { try list.run() }
}

/// `berth container rm` (also `remove`): `berth rm`.
struct ContainerRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more containers", aliases: ["remove"])

    @OptionGroup var remove: Rm

    func run() throws { try remove.run() }
}

/// `berth container inspect`: `berth inspect --type container`.
struct ContainerInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more containers")

    @Option(name: .shortAndLong, help: "Format output using a template: {{.Field.Sub}} or {{json .Field}}")
    var format: String?

    @Argument(help: "Names or IDs of containers")
    var objects: [String]

    func run() throws { try Inspect(kind: "container", format: format, objects: objects).run() }
}

/// `berth image …`: docker's management-command spelling of the image commands.
struct ImageGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images",
        subcommands: [
            ImageList.self, ImageRemove.self, ImageInspectCommand.self, History.self, Pull.self, Push.self, Tag.self,
            Import.self, Load.self, Save.self, ImageReferrersCommand.self, ImageAttach.self, ImagePrune.self, Build.self,
        ])
}

/// `berth image ls` (also `list`): `berth images`.
struct ImageList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images", aliases: ["list"])

    @OptionGroup var list: Images

    func run() throws { try list.run() }
}

/// `berth image rm` (also `remove`): `berth rmi`.
struct ImageRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more images", aliases: ["remove"])

    @OptionGroup var remove: Rmi

    func run() throws { try remove.run() }
}

/// `berth image inspect`: `berth inspect --type image`.
struct ImageInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more images")

    @Option(name: .shortAndLong, help: "Format output using a template: {{.Field.Sub}} or {{json .Field}}")
    var format: String?

    @Argument(help: "Names or IDs of images")
    var objects: [String]

    func run() throws { try Inspect(kind: "image", format: format, objects: objects).run() }
}
