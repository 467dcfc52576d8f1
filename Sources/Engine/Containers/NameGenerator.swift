/// Docker-style random container names (`eager_turing`), and the rule for names users choose.
enum ContainerNames {
    private static let adjectives = [
        "admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave", "busy", "charming",
        "clever", "cool", "compassionate", "confident", "cranky", "dazzling", "determined", "distracted", "dreamy",
        "eager", "ecstatic", "elastic", "elated", "elegant", "epic", "fervent", "festive", "flamboyant", "focused",
        "friendly", "frosty", "gallant", "gifted", "goofy", "gracious", "happy", "hardcore", "heuristic", "hopeful",
        "hungry", "infallible", "inspiring", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid",
        "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic", "objective",
        "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "relaxed",
        "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange", "stupefied",
        "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant", "vigilant",
        "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
    ]
    private static let surnames = [
        "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bell", "bhabha", "bohr", "booth",
        "borg", "bose", "brahmagupta", "brown", "carson", "cerf", "chandrasekhar", "cohen", "curie", "darwin",
        "davinci", "dijkstra", "easley", "einstein", "elion", "engelbart", "euclid", "euler", "faraday", "fermat",
        "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "hamilton", "hawking", "heisenberg",
        "hermann", "hodgkin", "hopper", "hugle", "hypatia", "jackson", "jang", "johnson", "kalam", "kapitsa",
        "keller", "kepler", "khorana", "knuth", "kowalevski", "lamarr", "lamport", "leakey", "leavitt", "lovelace",
        "lumiere", "mahavira", "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "merkle", "montalcini",
        "morse", "newton", "nightingale", "nobel", "noether", "pare", "pascal", "pasteur", "perlman", "pike",
        "poincare", "ptolemy", "raman", "ramanujan", "ride", "ritchie", "rosalind", "saha", "sammet", "shannon",
        "shockley", "sinoussi", "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing", "varahamihira",
        "villani", "wescoff", "wiles", "williams", "wilson", "wing", "wozniak", "wright", "yalow", "yonath",
    ]

    static func random() -> String {
        "\(adjectives.randomElement() ?? "eager")_\(surnames.randomElement() ?? "turing")"
    }

    /// docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, with an optional leading `/`.
    static func validate(_ name: String) throws -> String {
        let bare = name.hasPrefix("/") ? String(name.dropFirst()) : name
        let bytes = Array(bare.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
        guard bytes.count >= 2, alnum(bytes[0]), bytes.dropFirst().allSatisfy({ alnum($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }) else {
            throw EngineError.invalidParameter("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        return bare
    }
}
