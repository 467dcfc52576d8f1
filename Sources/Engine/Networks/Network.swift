import BerthSystem

/// A network as the engine keeps it: the predefined `bridge`, `host` and `none`, and
/// user-defined bridge networks. Persisted in `<root>/networks/networks.json`.
public struct Network: Codable, Sendable, Equatable {
    /// `bridge`, `host` or `null` (the `none` network), as docker names its drivers.
    public enum Driver: String, Codable, Sendable {
        case bridge, host, null
    }

    /// One IPv4 address pool of the network.
    public struct AddressPool: Codable, Sendable, Equatable {
        public var subnet: IPv4Subnet
        public var gateway: IPv4Address
        /// The part of the subnet containers get addresses from; nil: all of it.
        public var ipRange: IPv4Subnet?

        public init(subnet: IPv4Subnet, gateway: IPv4Address, ipRange: IPv4Subnet? = nil) {
            self.subnet = subnet
            self.gateway = gateway
            self.ipRange = ipRange
        }
    }

    /// 64 hex digits.
    public var id: String
    public var name: String
    public var driver: Driver
    public var created: Timestamp
    /// Address pools (bridge networks only).
    public var pools: [AddressPool]
    /// No route out: members reach only each other.
    public var isInternal: Bool
    public var isAttachable: Bool
    /// Driver options as given (`com.docker.network.bridge.name`, …).
    public var options: [String: String]
    public var labels: [String: String]

    /// The three networks every daemon has and no one may remove.
    public static let predefinedNames: Set<String> = ["bridge", "host", "none"]

    public var isPredefined: Bool { Self.predefinedNames.contains(name) }

    /// The option that names a network's Linux bridge.
    public static let bridgeNameOption = "com.docker.network.bridge.name"

    /// The network's Linux bridge: as `com.docker.network.bridge.name` says (the default
    /// network's is set when the table is made: `berth0` unless `berthd --bridge` names
    /// another), else `br-<id prefix>` as docker names them.
    public var bridgeName: String? {
        guard driver == .bridge else { return nil }
        if let name = options[Self.bridgeNameOption], !name.isEmpty { return name }
        return "br-" + id.prefix(12)
    }

    /// Checks a network name as docker does: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
    public static func validate(name: String) throws {
        let bytes = Array(name.utf8)
        func alphanumeric(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
        guard let first = bytes.first, alphanumeric(first), bytes.allSatisfy({ alphanumeric($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }) else {
            throw EngineError.invalidParameter("invalid network name \"\(name)\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
    }
}

/// What `network create` asks for, in Berth's terms (the API translates docker's body).
public struct NetworkRequest: Sendable, Equatable {
    /// An address pool as asked: any part may be left to the daemon.
    public struct Pool: Sendable, Equatable {
        public var subnet: String?
        public var gateway: String?
        public var ipRange: String?

        public init(subnet: String? = nil, gateway: String? = nil, ipRange: String? = nil) {
            self.subnet = subnet
            self.gateway = gateway
            self.ipRange = ipRange
        }
    }

    public var name: String
    /// Empty: `bridge`.
    public var driver = ""
    public var pools: [Pool] = []
    public var isInternal = false
    public var isAttachable = false
    public var enableIPv6 = false
    public var options: [String: String] = [:]
    public var labels: [String: String] = [:]

    public init(name: String) {
        self.name = name
    }
}

/// A container's place on a bridge network while it runs: its address, the namespace the
/// engine made and wired for it, and the host end of its veth pair. Kept in the container's
/// record, so a restarted daemon knows which addresses are taken and what to take down.
public struct NetworkEndpoint: Codable, Sendable, Equatable {
    public var networkID: String
    public var networkName: String
    /// 64 hex digits, as docker's.
    public var endpointID: String
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address
    /// `02:42:` and the address's four bytes, as docker makes it.
    public var macAddress: String
    /// The pinned network namespace the container joins.
    public var sandbox: String
    /// The host end of the veth pair, on the network's bridge.
    public var hostInterface: String
    /// Ports published to the container's address.
    public var ports: [PublishedPort] = []
    /// The names the network's embedded resolver answers with this address (container name,
    /// short ID, aliases); empty on the default bridge, which has no resolver (as docker's).
    public var names: [String] = []

    /// Whether the container asks the embedded resolver (127.0.0.11) for names.
    public var usesEmbeddedResolver: Bool { networkName != "bridge" }
}

/// What the container service asks of networking: a network a container may join, and the
/// endpoint wired for it at start and taken down when it stops. `NetworkService` is the real
/// one.
public protocol NetworkAttachments: Sendable {
    /// The name of the bridge network `reference` names, if a container may join it; 404 when
    /// there is none.
    func joinableNetworkName(_ reference: String) async throws -> String
    /// Makes the container's namespace, veth pair and address on `network`, publishes `ports`
    /// (host ports picked where left open) to it and, on a user-defined network, makes `names`
    /// resolve to it.
    func attach(container id: String, to network: String, ports: [PortBinding], names: [String]) async throws -> NetworkEndpoint
    /// Takes an endpoint down and frees its address; what is already gone is no error.
    func detach(_ endpoint: NetworkEndpoint) async
    /// Marks the address of a container found running at daemon start as taken.
    func register(_ endpoint: NetworkEndpoint) async
}
