#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc

/// The engine's networks: the predefined `bridge`, `host` and `none`, and user-defined bridge
/// networks with their address pools, kept in `<root>/networks/networks.json` (replaced
/// atomically, so a crash leaves the old table or the new one).
///
/// Guarantees: names are unique; the subnets of bridge networks never overlap each other; a
/// subnet the daemon picks overlaps no route of the host either; the predefined networks
/// cannot be removed, nor a network a container names.
public actor NetworkService: NetworkAttachments {
    private let file: String
    private var networks: [String: Network] = [:]
    private let events: EventBus?
    private let hostRoutes: @Sendable () -> [IPv4Subnet]
    /// Where containers' network namespaces are pinned; nil: no data plane (tests of the table).
    private let sandboxRoot: String?
    /// Addresses in use, by network ID.
    private var allocated: [String: Set<UInt32>] = [:]
    /// Bridges made or found since the daemon started.
    private var readyBridges: Set<String> = []
    /// Endpoints of running containers, by endpoint ID.
    private var endpoints: [String: NetworkEndpoint] = [:]
    /// The daemon's nftables table; nil without a data plane.
    private let firewall: Firewall?
    /// The embedded DNS server of user-defined networks.
    private let resolver = EmbeddedResolver()

    /// Pools the daemon picks subnets from, in order (docker's defaults): 172.17–31.0.0/16,
    /// then the /20s of 192.168.0.0/16.
    static let defaultPools: [IPv4Subnet] = (17...31).map { IPv4Subnet(address: IPv4Address(0xAC00_0000 | UInt32($0) << 16), prefixLength: 16) }
        + (0..<16).map { IPv4Subnet(address: IPv4Address(0xC0A8_0000 | UInt32($0) << 12), prefixLength: 20) }

    /// Opens (creating if needed) the table in `root`, adding the predefined networks a new
    /// table lacks (the default bridge's Linux bridge named `defaultBridge`). `hostRoutes` says
    /// which IPv4 destinations the host already routes; containers' namespaces are pinned under
    /// `sandboxRoot`.
    public init(root: String, sandboxRoot: String? = nil, defaultBridge: String = "berth0", events: EventBus? = nil,
                hostRoutes: @escaping @Sendable () -> [IPv4Subnet] = { HostRoutes.ipv4Destinations() }) throws {
        try FileSystem.makeDirectories(root, mode: 0o700)
        if let sandboxRoot { try FileSystem.makeDirectories(sandboxRoot, mode: 0o700) }
        self.file = root + "/networks.json"
        self.sandboxRoot = sandboxRoot
        self.firewall = sandboxRoot == nil ? nil : Firewall(table: "berth_" + String(defaultBridge.map { $0.isLetter || $0.isNumber ? $0 : "_" }))
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
            let options = driver == .bridge ? [Network.bridgeNameOption: defaultBridge] : [:]
            let network = Network(id: ContainerService.newID(), name: name, driver: driver, created: .now(), pools: pools,
                                  isInternal: false, isAttachable: false, options: options, labels: [:])
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
        if let bridge = request.options[Network.bridgeNameOption] {
            guard (1...15).contains(bridge.utf8.count), bridge.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 0x2f && $0 != 0x3a }) else {
                throw EngineError.invalidParameter("invalid bridge name \"\(bridge)\": 1 to 15 printable characters without '/' or ':'")
            }
        }
        if request.enableIPv6 {
            throw EngineError.invalidParameter("IPv6 networks are not supported by Berth yet")
        }
        let pools = try addressPools(for: request.pools)
        let network = Network(id: ContainerService.newID(), name: request.name, driver: .bridge, created: .now(), pools: pools,
                              isInternal: request.isInternal, isAttachable: request.isAttachable, options: request.options, labels: request.labels)
        if networks.values.contains(where: { $0.bridgeName == network.bridgeName }) {
            throw EngineError.conflict("bridge \(network.bridgeName ?? "") is already used by another network")
        }
        if sandboxRoot != nil { try prepareBridge(network) }
        var updated = networks
        updated[network.id] = network
        do {
            try Self.save(updated, to: file)
        } catch {
            removeBridge(network)
            throw error
        }
        networks = updated
        try? applyFirewall()
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
        removeBridge(network)
        try? applyFirewall()
        publish("destroy", network)
    }

    /// `network prune`: removes the user-defined networks `include` accepts and no container
    /// names (`inUse`). Returns their names.
    public func prune(inUse: Set<String>, where include: (Network) -> Bool) throws -> [String] {
        let doomed = networks.values.filter { !$0.isPredefined && !inUse.contains($0.id) && include($0) }.sorted { $0.name < $1.name }
        for network in doomed { try remove(network.id, users: []) }
        return doomed.map(\.name)
    }

    // MARK: Containers

    public func joinableNetworkName(_ reference: String) throws -> String {
        let network = try resolve(reference)
        guard network.driver == .bridge else { throw EngineError.invalidParameter("network \(network.name) is not a bridge network") }
        guard sandboxRoot != nil else { throw EngineError.invalidParameter("network \(network.name): this daemon has no bridge networking") }
        return network.name
    }

    public func attach(container id: String, to reference: String, ports: [PortBinding], names: [String]) throws -> NetworkEndpoint {
        let network = try resolve(reference)
        guard let sandboxRoot, network.driver == .bridge, let bridge = network.bridgeName, let pool = network.pools.first else {
            throw EngineError.invalidParameter("network \(network.name) cannot be joined")
        }
        let bridgeIndex = try prepareBridge(network)
        let address = try allocate(in: network.id, pool: pool)
        let sandbox = sandboxRoot + "/" + id
        let hostInterface = "veth" + String(UInt32.random(in: 0x1000000...0xfffffff), radix: 16)
        let gateway = pool.gateway
        let prefixLength = pool.subnet.prefixLength
        let routed = !network.isInternal
        let mtu = network.options["com.docker.network.driver.mtu"].flatMap(UInt32.init)
        var resolverSocket: Int32 = -1
        do {
            NetworkNamespace.remove(at: sandbox)
            try NetworkNamespace.create(at: sandbox)
            let namespace = open(sandbox, O_RDONLY | O_CLOEXEC)
            guard namespace >= 0 else { throw NetlinkError(operation: "open \(sandbox)", errno: errno) }
            defer { close(namespace) }
            let link = try Netlink()
            try link.createVethPair(host: hostInterface, master: bridgeIndex, peer: "eth0", peerMAC: address.containerMAC, namespaceFD: namespace, mtu: mtu)
            guard let hostIndex = try link.index(of: hostInterface) else { throw NetlinkError(operation: "find \(hostInterface)", errno: ENODEV) }
            try link.setUp(index: hostIndex, name: hostInterface)
            let wantsResolver = network.name != "bridge"
            resolverSocket = try NetworkNamespace.run(in: sandbox) { () -> Int32 in
                let inner = try Netlink()
                guard let eth0 = try inner.index(of: "eth0") else { throw NetlinkError(operation: "find eth0", errno: ENODEV) }
                try inner.addAddress(address, prefixLength: prefixLength, index: eth0, name: "eth0")
                try inner.setUp(index: eth0, name: "eth0")
                if routed { try inner.addDefaultRoute(via: gateway) }
                return wantsResolver ? try EmbeddedResolver.openSocket() : -1
            }
        } catch {
            NetworkNamespace.remove(at: sandbox)
            deleteLink(hostInterface)
            allocated[network.id]?.remove(address.value)
            throw EngineError.failure("cannot connect container \(id) to network \(network.name) (bridge \(bridge)): \(error)")
        }
        let mac = address.containerMAC.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
        var endpoint = NetworkEndpoint(networkID: network.id, networkName: network.name, endpointID: ContainerService.newID(), address: address,
                                       prefixLength: prefixLength, gateway: gateway, macAddress: mac, sandbox: sandbox, hostInterface: hostInterface)
        endpoint.names = endpoint.usesEmbeddedResolver ? names : []
        endpoints[endpoint.endpointID] = endpoint
        if resolverSocket >= 0 {
            resolver.serve(socket: resolverSocket, network: network.id, endpoint: endpoint.endpointID)
            publishNames(of: network.id)
        }
        do {
            let taken = Set(endpoints.values.flatMap { $0.ports.map { "\($0.proto)/\($0.hostPort)" } })
            endpoint.ports = try HostPorts.resolve(ports, taken: taken)
            endpoints[endpoint.endpointID] = endpoint
            if !endpoint.ports.isEmpty { try applyFirewall() }
        } catch {
            detach(endpoint)
            // Never used: gone now rather than when the kernel gets to it.
            deleteLink(hostInterface)
            throw error
        }
        return endpoint
    }

    /// Takes an endpoint down once (a second call, or one for an endpoint this daemon does not
    /// know, does nothing, so an address given out again is never freed by mistake). The
    /// namespace is unpinned; the kernel removes the veth pair with it, off the caller's path
    /// (deleting a link waits for an RCU grace period).
    public func detach(_ endpoint: NetworkEndpoint) {
        guard endpoints.removeValue(forKey: endpoint.endpointID) != nil else { return }
        resolver.stop(endpoint: endpoint.endpointID)
        if endpoint.usesEmbeddedResolver { publishNames(of: endpoint.networkID) }
        NetworkNamespace.remove(at: endpoint.sandbox)
        allocated[endpoint.networkID]?.remove(endpoint.address.value)
        if !endpoint.ports.isEmpty { try? applyFirewall() }
    }

    public func register(_ endpoint: NetworkEndpoint) {
        allocated[endpoint.networkID, default: []].insert(endpoint.address.value)
        endpoints[endpoint.endpointID] = endpoint
        // The previous daemon's resolver sockets ended with it: a new one in the same namespace.
        if endpoint.usesEmbeddedResolver, sandboxRoot != nil, let fd = try? NetworkNamespace.run(in: endpoint.sandbox, { try EmbeddedResolver.openSocket() }) {
            resolver.serve(socket: fd, network: endpoint.networkID, endpoint: endpoint.endpointID)
            publishNames(of: endpoint.networkID)
        }
    }

    /// Hands the resolver the names of `network`'s running containers.
    private func publishNames(of network: String) {
        var table: [String: [IPv4Address]] = [:]
        for endpoint in endpoints.values where endpoint.networkID == network {
            for name in endpoint.names { table[name.lowercased(), default: []].append(endpoint.address) }
        }
        resolver.setNames(table, network: network)
    }

    /// Makes (or finds) the Linux bridges of every bridge network and writes the firewall
    /// table from what is known now; called once the daemon has registered the endpoints of
    /// running containers (and taken down those of stopped ones).
    public func prepareBridges() throws {
        guard sandboxRoot != nil else { return }
        for network in networks.values where network.driver == .bridge { try prepareBridge(network) }
        try applyFirewall()
    }

    /// Renders the whole table from the networks and the published ports of running
    /// containers, and replaces it in one transaction.
    private func applyFirewall() throws {
        guard let firewall else { return }
        let bridges = networks.values.filter { $0.driver == .bridge }.sorted { $0.name < $1.name }
        let segments = bridges.compactMap { network -> Firewall.Segment? in
            guard let bridge = network.bridgeName, let pool = network.pools.first else { return nil }
            return Firewall.Segment(bridge: bridge, subnet: pool.subnet, isInternal: network.isInternal)
        }
        var forwards: [Firewall.Forward] = []
        for endpoint in endpoints.values.sorted(by: { $0.endpointID < $1.endpointID }) {
            guard let bridge = networks[endpoint.networkID]?.bridgeName else { continue }
            forwards += endpoint.ports.map { Firewall.Forward(port: $0, address: endpoint.address, bridge: bridge) }
        }
        try firewall.apply(segments: segments, forwards: forwards)
    }


    /// The network's bridge, made with the pool's gateway as its address and up; returns its
    /// index.
    @discardableResult
    private func prepareBridge(_ network: Network) throws -> Int32 {
        guard let name = network.bridgeName, let pool = network.pools.first else {
            throw EngineError.failure("network \(network.name) has no bridge or address pool")
        }
        do {
            let link = try Netlink()
            if readyBridges.contains(name), let index = try link.index(of: name) { return index }
            if try link.index(of: name) == nil { try link.createBridge(name) }
            guard let index = try link.index(of: name) else { throw NetlinkError(operation: "find \(name)", errno: ENODEV) }
            try link.addAddress(pool.gateway, prefixLength: pool.subnet.prefixLength, index: index, name: name)
            try link.setUp(index: index, name: name)
            // The host's own 127.0.0.1 may reach published ports (DNAT to this bridge): a setting
            // of Berth's bridge only, not of the host.
            let setting = open("/proc/sys/net/ipv4/conf/\(name)/route_localnet", O_WRONLY | O_CLOEXEC)
            guard setting >= 0 else { throw NetlinkError(operation: "open route_localnet of \(name)", errno: errno) }
            defer { close(setting) }
            try FileSystem.writeAll(setting, Array("1".utf8))
            readyBridges.insert(name)
            return index
        } catch {
            throw EngineError.failure("cannot prepare bridge \(name) of network \(network.name): \(error)")
        }
    }

    private func removeBridge(_ network: Network) {
        guard sandboxRoot != nil, let name = network.bridgeName else { return }
        deleteLink(name)
        readyBridges.remove(name)
    }

    private func deleteLink(_ name: String) {
        guard let link = try? Netlink(), let index = try? link.index(of: name) else { return }
        try? link.deleteLink(index: index, name: name)
    }

    /// The first free address of the pool's range (the network address, the gateway and the
    /// broadcast address are never given out).
    private func allocate(in networkID: String, pool: Network.AddressPool) throws -> IPv4Address {
        let range = pool.ipRange ?? pool.subnet
        let taken = allocated[networkID] ?? []
        var candidate = range.network.value
        while candidate <= range.last.value {
            let address = IPv4Address(candidate)
            if address != pool.subnet.network, address != pool.subnet.last, address != pool.gateway, !taken.contains(candidate) {
                allocated[networkID, default: []].insert(candidate)
                return address
            }
            if candidate == UInt32.max { break }
            candidate += 1
        }
        throw EngineError.failure("no available IPv4 addresses on this network's address pools: \(pool.subnet)")
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
