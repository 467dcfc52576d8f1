#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem

/// The engine's networks: the predefined `bridge`, `host` and `none`, and user-defined bridge
/// networks with their address pools, kept in `<root>/networks/networks.json` (replaced
/// atomically, so a crash leaves the old table or the new one).
///
/// Guarantees: names are unique; the subnets of bridge networks never overlap each other; a
/// subnet the daemon picks overlaps no route of the host either; the predefined networks
/// cannot be removed, nor a network a container names.
public actor NetworkService {
    private let file: String
    private var networks: [String: Network] = [:]
    private let events: EventBus?
    private let hostRoutes: @Sendable () -> [IPv4Subnet]

    /// Pools the daemon picks subnets from, in order (docker's defaults): 172.17–31.0.0/16,
    /// then the /20s of 192.168.0.0/16.
    static let defaultPools: [IPv4Subnet] = (17...31).map { IPv4Subnet(address: IPv4Address(0xAC00_0000 | UInt32($0) << 16), prefixLength: 16) }
        + (0..<16).map { IPv4Subnet(address: IPv4Address(0xC0A8_0000 | UInt32($0) << 12), prefixLength: 20) }

    /// Opens (creating if needed) the table in `root`, adding the predefined networks a new
    /// table lacks. `hostRoutes` says which IPv4 destinations the host already routes.
    public init(root: String, events: EventBus? = nil, hostRoutes: @escaping @Sendable () -> [IPv4Subnet] = { HostRoutes.ipv4Destinations() }) throws {
        try FileSystem.makeDirectories(root, mode: 0o700)
        self.file = root + "/networks.json"
        self.events = events
        self.hostRoutes = hostRoutes
        var loaded: [String: Network] = [:]
        if FileSystem.exists(file) {
            do {
                for network in try JSONDecoder().decode([Network].self, from: Data(FileSystem.readFile(file))) { loaded[network.id] = network }
            } catch {
                throw EngineError.failure("cannot read the network table \(file): \(error)")
            }
        }
        var added = false
        for (name, driver) in [("bridge", Network.Driver.bridge), ("host", .host), ("none", .null)] where !loaded.values.contains(where: { $0.name == name }) {
            var pools: [Network.AddressPool] = []
            if driver == .bridge {
                let taken = hostRoutes() + loaded.values.flatMap { $0.pools.map(\.subnet) }
                guard let subnet = Self.defaultPools.first(where: { pool in !taken.contains { $0.overlaps(pool) } }) else {
                    throw EngineError.failure("no free address pool for the default bridge network: every default pool overlaps a route of the host")
                }
                pools = [Network.AddressPool(subnet: subnet, gateway: subnet.firstHost)]
            }
            let network = Network(id: ContainerService.newID(), name: name, driver: driver, created: .now(), pools: pools,
                                  isInternal: false, isAttachable: false, options: [:], labels: [:])
            loaded[network.id] = network
            added = true
        }
        networks = loaded
        if added { try Self.save(loaded, to: file) }
    }

    /// Every network, predefined ones first, then by name.
    public func list() -> [Network] {
        networks.values.sorted { ($0.isPredefined ? 0 : 1, $0.name) < ($1.isPredefined ? 0 : 1, $1.name) }
    }

    /// The network with ID `reference`, else named so, else whose ID starts with it (when
    /// only one does), as docker resolves them.
    public func resolve(_ reference: String) throws -> Network {
        if let network = networks[reference] { return network }
        if let network = networks.values.first(where: { $0.name == reference }) { return network }
        let matches = reference.isEmpty ? [] : networks.values.filter { $0.id.hasPrefix(reference) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw EngineError.invalidParameter("network \(reference) is ambiguous (\(matches.count) matches found based on ID prefix)") }
        throw EngineError.noSuchNetwork(reference)
    }

    /// `network create`: checks `request` with docker's rules and words, picks what it left
    /// open (a free subnet, the first address as gateway) and records the network.
    public func create(_ request: NetworkRequest) throws -> Network {
        try Network.validate(name: request.name)
        if networks.values.contains(where: { $0.name == request.name }) {
            throw EngineError.conflict("network with name \(request.name) already exists")
        }
        switch request.driver {
        case "", "bridge": break
        case "host", "null":
            throw EngineError.forbidden("only one instance of \"\(request.driver)\" network is allowed")
        case let other:
            throw EngineError.invalidParameter("plugin \"\(other)\" not found: Berth has the bridge driver only")
        }
        if request.enableIPv6 {
            throw EngineError.invalidParameter("IPv6 networks are not supported by Berth yet")
        }
        let pools = try addressPools(for: request.pools)
        let network = Network(id: ContainerService.newID(), name: request.name, driver: .bridge, created: .now(), pools: pools,
                              isInternal: request.isInternal, isAttachable: request.isAttachable, options: request.options, labels: request.labels)
        var updated = networks
        updated[network.id] = network
        try Self.save(updated, to: file)
        networks = updated
        publish("create", network)
        return network
    }

    /// `network rm`: refuses a predefined network (403) and one that `users` (the containers
    /// naming it) is not empty for.
    public func remove(_ reference: String, users: [String]) throws {
        let network = try resolve(reference)
        if network.isPredefined {
            throw EngineError.forbidden("\(network.name) is a pre-defined network and cannot be removed")
        }
        if !users.isEmpty {
            throw EngineError.forbidden("error while removing network: network \(network.name) id \(network.id) has active endpoints")
        }
        var updated = networks
        updated[network.id] = nil
        try Self.save(updated, to: file)
        networks = updated
        publish("destroy", network)
    }

    /// `network prune`: removes the user-defined networks `include` accepts and no container
    /// names (`inUse`). Returns their names.
    public func prune(inUse: Set<String>, where include: (Network) -> Bool) throws -> [String] {
        let doomed = networks.values.filter { !$0.isPredefined && !inUse.contains($0.id) && include($0) }.sorted { $0.name < $1.name }
        for network in doomed { try remove(network.id, users: []) }
        return doomed.map(\.name)
    }

    private func addressPools(for requested: [NetworkRequest.Pool]) throws -> [Network.AddressPool] {
        let existing = networks.values.flatMap { $0.pools.map(\.subnet) }
        guard !requested.isEmpty else {
            let taken = existing + hostRoutes()
            guard let subnet = Self.defaultPools.first(where: { pool in !taken.contains { $0.overlaps(pool) } }) else {
                throw EngineError.forbidden("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
            }
            return [Network.AddressPool(subnet: subnet, gateway: subnet.firstHost)]
        }
        var pools: [Network.AddressPool] = []
        for pool in requested {
            guard let text = pool.subnet, !text.isEmpty else {
                throw EngineError.invalidParameter("an address pool needs a subnet (Berth does not pick one for a pool that names only a gateway or range)")
            }
            guard let subnet = IPv4Subnet(text, strict: true) else {
                throw EngineError.invalidParameter("invalid subnet \(text): an IPv4 network address with a prefix length, such as 172.30.0.0/16, is expected")
            }
            guard subnet.prefixLength <= 30 else { throw EngineError.invalidParameter("subnet \(text) is too small: at most /30") }
            if existing.contains(where: { $0.overlaps(subnet) }) || pools.contains(where: { $0.subnet.overlaps(subnet) }) {
                throw EngineError.forbidden("invalid pool request: Pool overlaps with other one on this address space")
            }
            var gateway = subnet.firstHost
            if let text = pool.gateway, !text.isEmpty {
                guard let address = IPv4Address(text) else { throw EngineError.invalidParameter("invalid gateway address \(text)") }
                guard subnet.contains(address), address != subnet.network, address != subnet.last else {
                    throw EngineError.invalidParameter("no matching subnet for gateway \(text)")
                }
                gateway = address
            }
            var range: IPv4Subnet?
            if let text = pool.ipRange, !text.isEmpty {
                guard let parsed = IPv4Subnet(text, strict: true) else { throw EngineError.invalidParameter("invalid IP range \(text)") }
                guard subnet.covers(parsed) else { throw EngineError.invalidParameter("no matching subnet for range \(text)") }
                range = parsed
            }
            pools.append(Network.AddressPool(subnet: subnet, gateway: gateway, ipRange: range))
        }
        return pools
    }

    private static func save(_ networks: [String: Network], to file: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let ordered = networks.values.sorted { $0.id < $1.id }
        try FileSystem.writeAtomically(file, bytes: Array(encoder.encode(ordered)), mode: 0o600)
    }

    private func publish(_ action: String, _ network: Network) {
        events?.publish(EngineEvent(type: .network, action: action, actorID: network.id, attributes: ["name": network.name, "type": network.driver.rawValue]))
    }
}
