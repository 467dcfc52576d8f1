/// A build stage: a FROM instruction and the instructions after it, up to the next FROM.
public struct Stage: Sendable, Equatable {
    /// The stage's position among the file's stages, from 0.
    public var index: Int
    /// FROM's image word as written, variables unexpanded (`alpine:3.20`, `$BASE`, `scratch`,
    /// or the name of an earlier stage).
    public var base: String
    /// The `AS name`, lower-cased; nil when the stage has none.
    public var name: String?
    /// FROM's `--platform` value as written, variables unexpanded; nil when not given.
    public var platform: String?
    /// The FROM instruction itself.
    public var from: Instruction
    /// The instructions after FROM, up to the next FROM or the end of the file.
    public var instructions: [Instruction]

    /// The stage a validated FROM instruction starts, with no instructions yet.
    init(index: Int, from: Instruction) {
        let words = DockerWords.fields(from.arguments)
        self.index = index
        base = words.first ?? ""
        name = words.count == 3 ? words[2].lowercased() : nil
        platform = from.flag("platform")
        self.from = from
        instructions = []
    }
}
