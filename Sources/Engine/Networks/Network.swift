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

    /// The IPv6 address pool of a dual-stack network (`--ipv6`).
    public struct IPv6Pool: Codable, Sendable, Equatable {
        public var subnet: IPv6Subnet
        public var gateway: IPv6Address

        public init(subnet: IPv6Subnet, gateway: IPv6Address) {
            self.subnet = subnet
            self.gateway = gateway
        }
    }

    /// 64 hex digits.
    public var id: String
    public var name: String
    public var driver: Driver
    public var created: Timestamp
    /// Address pools (bridge networks only).
    public var pools: [AddressPool]
    /// The IPv6 pool of a dual-stack network; nil: IPv4 only.
    public var ipv6Pool: IPv6Pool? = nil
    /// No route out: members reach only each other.
    public var isInternal: Bool
    public var isAttachable: Bool
    /// Driver options as given (`com.docker.network.bridge.name`, …).
    public var options: [String: String]
    public var labels: [String: String]

    /// The three networks every daemon has and no one may remove.
    public static let predefinedNames: Set<String> = ["bridge", "host", "none"]

    public var isPredefined: Bool { Self.predefinedNames.contains(name) }

    /// Whether its containers reach each other (`com.docker.network.bridge.enable_icc`, on
    /// unless `false`).
    public var allowsInterContainer: Bool { options["com.docker.network.bridge.enable_icc"] != "false" }

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
    /// Dual stack: an IPv6 pool besides the IPv4 one (the given IPv6 subnet, else one the
    /// daemon picks).
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
    public var containerID: String
    public var networkID: String
    public var networkName: String
    /// 64 hex digits, as docker's.
    public var endpointID: String
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address
    /// `02:42:` and the address's four bytes, as docker makes it.
    public var macAddress: String
    /// The pinned network namespace of the container's run (shared by all its endpoints).
    public var sandbox: String
    /// The container's end of the veth pair: `eth0`, `eth1`, … in the order it joined.
    public var interface: String
    /// The host end of the veth pair, on the network's bridge.
    public var hostInterface: String
    /// Whether the container's default route goes through this endpoint's gateway.
    public var routesDefault: Bool
    /// The endpoint's IPv6 side on a dual-stack network.
    public var ipv6: IPv6Endpoint? = nil
    /// Ports published to the container's address.
    public var ports: [PublishedPort] = []
    /// The names the network's embedded resolver answers with this address (container name,
    /// short ID, aliases); empty on the default bridge, which has no resolver (as docker's).
    public var names: [String] = []

    /// Whether the container asks the embedded resolver (127.0.0.11) for names.
    public var usesEmbeddedResolver: Bool { networkName != "bridge" }
}

/// A container's IPv6 address on a dual-stack network.
public struct IPv6Endpoint: Codable, Sendable, Equatable {
    public var address: IPv6Address
    public var prefixLength: Int
    public var gateway: IPv6Address

    public init(address: IPv6Address, prefixLength: Int, gateway: IPv6Address) {
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
    }
}

/// What a container asks of one network when it joins it.
public struct EndpointRequest: Sendable, Equatable {
    /// The network's name or ID.
    public var network: String
    /// Host ports to publish to the endpoint's address.
    public var ports: [PortBinding] = []
    /// Names to resolve to the endpoint on a user-defined network.
    public var names: [String] = []
    /// A static address (`--ip`); nil: the first free one.
    public var address: IPv4Address?
    /// A static IPv6 address (`--ip6`) on a dual-stack network; nil: the first free one.
    public var address6: IPv6Address?

    public init(network: String, ports: [PortBinding] = [], names: [String] = [], address: IPv4Address? = nil, address6: IPv6Address? = nil) {
        self.network = network
        self.ports = ports
        self.names = names
        self.address = address
        self.address6 = address6
    }
}

/// What the container service asks of networking: a network a container may join, the
/// namespace made for one run of it, and the endpoints wired into that namespace at start (or
/// at connect) and taken down at disconnect or with the namespace when it stops.
/// `NetworkService` is the real one.
public protocol NetworkAttachments: Sendable {
    /// The name of the bridge network `reference` names, if a container may join it; 404 when
    /// there is none.
    func joinableNetworkName(_ reference: String) async throws -> String
    /// A new network namespace (with `lo` up and `sysctls`, names under `net.`, set in it) for
    /// one run of container `id`, pinned at the returned path (unique to this run) until
    /// `release`.
    func makeSandbox(for id: String, sysctls: [String: String]) async throws -> String
    /// Wires the container to `request.network` in `sandbox`: a veth pair with the next
    /// `ethN`, an address, a default route when the namespace has none, the requested ports
    /// published (host ports picked where left open) and, on a user-defined network, the
    /// names resolving to it. Nothing is left when it fails.
    func attach(container id: String, in sandbox: String, _ request: EndpointRequest) async throws -> NetworkEndpoint
    /// Takes one endpoint out of a namespace that stays (`network disconnect`) and frees its
    /// address; what is already gone is no error.
    func detach(_ endpoint: NetworkEndpoint) async
    /// The run is over: frees the addresses, names and ports of every endpoint in `sandbox`
    /// and unpins it (the kernel removes its veth pairs with it).
    func release(sandbox: String) async
    /// Marks the address of a container found running at daemon start as taken.
    func register(_ endpoint: NetworkEndpoint) async
    /// Unpins every namespace a crash left behind: all but those of `running` containers.
    func sweepSandboxes(keeping running: Set<String>) async
}

/// Whether the default bridge network is dual stack (`berthd --ipv6`), and on which subnet.
public enum DefaultBridgeIPv6: Sendable, Equatable {
    /// IPv4 only.
    case off
    /// A unique local /64 of the daemon's choosing, kept across restarts.
    case automatic
    /// `--fixed-cidr-v6`.
    case subnet(IPv6Subnet)
}
