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
    /// IPv6 addresses in use, by network ID.
    private var allocated6: [String: Set<IPv6Address>] = [:]
    /// Bridges made or found since the daemon started.
    private var readyBridges: Set<String> = []
    /// Endpoints of running containers, by endpoint ID.
    private var endpoints: [String: NetworkEndpoint] = [:]
    /// The daemon's nftables table; nil without a data plane.
    private let firewall: Firewall?
    /// The embedded DNS server of user-defined networks.
    private let resolver = EmbeddedResolver()

    /// Where subnets the daemon picks come from.
    private let candidatePools: AddressPoolSettings

    /// Opens (creating if needed) the table in `root`, adding the predefined networks a new
    /// table lacks (the default bridge's Linux bridge named `defaultBridge`, its subnet
    /// `bridgeAddress` if given, else the first of `pools` free). `hostRoutes` says which IPv4
    /// destinations the host already routes; containers' namespaces are pinned under
    /// `sandboxRoot`. A `bridgeAddress` different from the table's replaces it.
    public init(root: String, sandboxRoot: String? = nil, defaultBridge: String = "berth0", bridgeAddress: BridgeAddress? = nil,
                bridgeIPv6: DefaultBridgeIPv6 = .off, pools: AddressPoolSettings = .docker, events: EventBus? = nil,
                hostRoutes: @escaping @Sendable () -> [IPv4Subnet] = { HostRoutes.ipv4Destinations() }) throws {
        try FileSystem.makeDirectories(root, mode: 0o700)
        if let sandboxRoot { try FileSystem.makeDirectories(sandboxRoot, mode: 0o700) }
        self.file = root + "/networks.json"
        self.sandboxRoot = sandboxRoot
        self.firewall = sandboxRoot == nil ? nil : Firewall(table: "berth_" + String(defaultBridge.map { $0.isLetter || $0.isNumber ? $0 : "_" }))
        self.events = events
        self.hostRoutes = hostRoutes
        self.candidatePools = pools
        var loaded: [String: Network] = [:]
        if FileSystem.exists(file) {
            do {
                for network in try JSONDecoder().decode([Network].self, from: Data(FileSystem.readFile(file))) { loaded[network.id] = network }
            } catch {
                throw EngineError.failure("cannot read the network table \(file): \(error)")
            }
        }
        var added = false
        if let bridgeAddress, let id = loaded.values.first(where: { $0.name == "bridge" })?.id,
           loaded[id]?.pools != [Network.AddressPool(subnet: bridgeAddress.subnet, gateway: bridgeAddress.gateway)] {
            loaded[id]?.pools = [Network.AddressPool(subnet: bridgeAddress.subnet, gateway: bridgeAddress.gateway)]
            added = true
        }
        for (name, driver) in [("bridge", Network.Driver.bridge), ("host", .host), ("none", .null)] where !loaded.values.contains(where: { $0.name == name }) {
            var pools: [Network.AddressPool] = []
            if driver == .bridge, let bridgeAddress {
                pools = [Network.AddressPool(subnet: bridgeAddress.subnet, gateway: bridgeAddress.gateway)]
            } else if driver == .bridge {
                let taken = hostRoutes() + loaded.values.flatMap { $0.pools.map(\.subnet) }
                guard let subnet = candidatePools.subnets.first(where: { pool in !taken.contains { $0.overlaps(pool) } }) else {
                    throw EngineError.failure("no free address pool for the default bridge network: every default pool overlaps a route of the host (set one with --bip or --default-address-pool)")
                }
                pools = [Network.AddressPool(subnet: subnet, gateway: subnet.firstHost)]
            }
            let options = driver == .bridge ? [Network.bridgeNameOption: defaultBridge] : [:]
            let network = Network(id: ContainerService.newID(), name: name, driver: driver, created: .now(), pools: pools,
                                  isInternal: false, isAttachable: false, options: options, labels: [:])
            loaded[network.id] = network
            added = true
        }
        if let id = loaded.values.first(where: { $0.name == "bridge" })?.id, let current = loaded[id] {
            let wanted = try Self.defaultBridgePool(bridgeIPv6, current: current.ipv6Pool,
                                                    others: loaded.values.filter { $0.id != id }.compactMap { $0.ipv6Pool?.subnet })
            if wanted != current.ipv6Pool {
                loaded[id]?.ipv6Pool = wanted
                added = true
            }
        }
        networks = loaded
        if added { try Self.save(loaded, to: file) }
    }

    /// The default bridge's IPv6 pool for `setting`: the current one while it still fits, else
    /// the given subnet or a new unique local /64 that overlaps none of `others`.
    static func defaultBridgePool(_ setting: DefaultBridgeIPv6, current: Network.IPv6Pool?, others: [IPv6Subnet]) throws -> Network.IPv6Pool? {
        switch setting {
        case .off:
            return nil
        case .subnet(let subnet):
            if current?.subnet == subnet { return current }
            guard !others.contains(where: { $0.overlaps(subnet) }) else {
                throw EngineError.failure("--fixed-cidr-v6 \(subnet) overlaps the IPv6 subnet of another network")
            }
            return Network.IPv6Pool(subnet: subnet, gateway: subnet.firstHost)
        case .automatic:
            if let current { return current }
            guard let subnet = uniqueLocalSubnet(avoiding: others) else {
                throw EngineError.failure("could not find an IPv6 subnet for the default bridge that overlaps no other network's")
            }
            return Network.IPv6Pool(subnet: subnet, gateway: subnet.firstHost)
        }
    }

    /// A random unique local /64 (`fd00::/8`, RFC 4193) overlapping none of `taken`; nil after
    /// 32 tries.
    static func uniqueLocalSubnet(avoiding taken: [IPv6Subnet]) -> IPv6Subnet? {
        for _ in 0..<32 {
            let subnet = IPv6Subnet(address: IPv6Address(high: 0xfd00_0000_0000_0000 | UInt64.random(in: 0...0xff_ffff_ffff) << 16, low: 0), prefixLength: 64)
            if !taken.contains(where: { $0.overlaps(subnet) }) { return subnet }
        }
        return nil
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
        let pools = try addressPools(for: request.pools.filter { $0.subnet?.contains(":") != true })
        let ipv6Pool = try ipv6Pool(for: request)
        let network = Network(id: ContainerService.newID(), name: request.name, driver: .bridge, created: .now(), pools: pools, ipv6Pool: ipv6Pool,
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

    public func makeSandbox(for id: String, sysctls: [String: String]) throws -> String {
        guard let sandboxRoot else { throw EngineError.invalidParameter("this daemon has no bridge networking") }
        let sandbox = sandboxRoot + "/" + id + "." + String(UInt32.random(in: 0x1000_0000...0xffff_ffff), radix: 16)
        do {
            try NetworkNamespace.create(at: sandbox)
        } catch {
            throw EngineError.failure("cannot make a network namespace for container \(id): \(error)")
        }
        guard !sysctls.isEmpty else { return sandbox }
        do {
            try NetworkNamespace.run(in: sandbox) {
                // /proc/sys/net shows the namespace of the thread that opens it.
                for (key, value) in sysctls.sorted(by: { $0.key < $1.key }) {
                    guard key.hasPrefix("net."), !key.contains("/"), !key.contains("..") else {
                        throw EngineError.invalidParameter("sysctl \(key) is not a network namespace's")
                    }
                    let file = open("/proc/sys/" + key.split(separator: ".").joined(separator: "/"), O_WRONLY | O_CLOEXEC)
                    guard file >= 0 else { throw NetlinkError(operation: "open sysctl \(key)", errno: errno) }
                    defer { close(file) }
                    try FileSystem.writeAll(file, Array(value.utf8))
                }
            }
        } catch {
            NetworkNamespace.remove(at: sandbox)
            throw error
        }
        return sandbox
    }

    public func attach(container id: String, in sandbox: String, _ request: EndpointRequest) throws -> NetworkEndpoint {
        let network = try resolve(request.network)
        guard sandboxRoot != nil, network.driver == .bridge, let bridge = network.bridgeName, let pool = network.pools.first else {
            throw EngineError.invalidParameter("network \(network.name) cannot be joined")
        }
        let siblings = endpoints.values.filter { $0.sandbox == sandbox }
        if siblings.contains(where: { $0.networkID == network.id }) {
            throw EngineError.forbidden("container \(id) is already connected to network \(network.name)")
        }
        let interface = (0...).lazy.map { "eth\($0)" }.first { name in !siblings.contains { $0.interface == name } }!
        let routesDefault = !network.isInternal && !siblings.contains(where: \.routesDefault)
        let bridgeIndex = try prepareBridge(network)
        let address = try allocate(in: network.id, pool: pool, requested: request.address)
        let ipv6: IPv6Endpoint?
        do {
            ipv6 = try allocateIPv6(on: network, requested: request.address6)
        } catch {
            allocated[network.id]?.remove(address.value)
            throw error
        }
        let hostInterface = "veth" + String(UInt32.random(in: 0x1000000...0xfffffff), radix: 16)
        let gateway = pool.gateway
        let prefixLength = pool.subnet.prefixLength
        let mtu = network.options["com.docker.network.driver.mtu"].flatMap(UInt32.init)
        do {
            let namespace = open(sandbox, O_RDONLY | O_CLOEXEC)
            guard namespace >= 0 else { throw NetlinkError(operation: "open \(sandbox)", errno: errno) }
            defer { close(namespace) }
            let link = try Netlink()
            try link.createVethPair(host: hostInterface, master: bridgeIndex, peer: interface, peerMAC: address.containerMAC, namespaceFD: namespace, mtu: mtu)
            guard let hostIndex = try link.index(of: hostInterface) else { throw NetlinkError(operation: "find \(hostInterface)", errno: ENODEV) }
            try link.setUp(index: hostIndex, name: hostInterface)
            try NetworkNamespace.run(in: sandbox) {
                let inner = try Netlink()
                guard let index = try inner.index(of: interface) else { throw NetlinkError(operation: "find \(interface)", errno: ENODEV) }
                try inner.addAddress(address, prefixLength: prefixLength, index: index, name: interface)
                try inner.setUp(index: index, name: interface)
                if routesDefault { try inner.addDefaultRoute(via: gateway) }
                if let ipv6 {
                    try inner.addAddress(ipv6.address, prefixLength: ipv6.prefixLength, index: index, name: interface)
                    if routesDefault { try inner.addDefaultRoute(via: ipv6.gateway) }
                }
            }
        } catch {
            deleteLink(hostInterface)
            allocated[network.id]?.remove(address.value)
            if let ipv6 { allocated6[network.id]?.remove(ipv6.address) }
            throw EngineError.failure("cannot connect container \(id) to network \(network.name) (bridge \(bridge)): \(error)")
        }
        let mac = address.containerMAC.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
        var endpoint = NetworkEndpoint(containerID: id, networkID: network.id, networkName: network.name, endpointID: ContainerService.newID(), address: address,
                                       prefixLength: prefixLength, gateway: gateway, macAddress: mac, sandbox: sandbox, interface: interface,
                                       hostInterface: hostInterface, routesDefault: routesDefault)
        endpoint.ipv6 = ipv6
        endpoint.names = endpoint.usesEmbeddedResolver ? request.names : []
        endpoints[endpoint.endpointID] = endpoint
        do {
            if endpoint.usesEmbeddedResolver {
                try refreshResolver(of: sandbox)
                publishNames(of: network.id)
            }
            let taken = Set(endpoints.values.flatMap { $0.ports.map { "\($0.proto)/\($0.hostPort)" } })
            endpoint.ports = try HostPorts.resolve(request.ports, taken: taken)
            endpoints[endpoint.endpointID] = endpoint
            try updateFirewall(for: endpoint, adding: true)
        } catch {
            detach(endpoint)
            throw error
        }
        publish("connect", network, container: id)
        return endpoint
    }

    /// Takes an endpoint down once (a second call, or one for an endpoint this daemon does not
    /// know, does nothing, so an address given out again is never freed by mistake): its veth
    /// pair is deleted, and the default route moves to another routed endpoint of the
    /// namespace if it went through this one.
    public func detach(_ endpoint: NetworkEndpoint) {
        guard endpoints.removeValue(forKey: endpoint.endpointID) != nil else { return }
        deleteLink(endpoint.hostInterface)
        let remaining = endpoints.values.filter { $0.sandbox == endpoint.sandbox }.sorted { Self.order($0, $1) }
        if endpoint.usesEmbeddedResolver { try? refreshResolver(of: endpoint.sandbox) }
        if endpoint.routesDefault, var next = remaining.first(where: { networks[$0.networkID]?.isInternal == false }) {
            let gateway = next.gateway
            if (try? NetworkNamespace.run(in: endpoint.sandbox, { try Netlink().addDefaultRoute(via: gateway) })) != nil {
                next.routesDefault = true
                endpoints[next.endpointID] = next
            }
        }
        forget([endpoint])
    }

    /// Frees what the endpoints of `sandbox` hold and unpins it, once; the kernel removes the
    /// veth pairs with the namespace, off the caller's path (deleting a link waits for an RCU
    /// grace period).
    public func release(sandbox: String) {
        let gone = endpoints.values.filter { $0.sandbox == sandbox }
        for endpoint in gone { endpoints[endpoint.endpointID] = nil }
        resolver.stop(sandbox: sandbox)
        NetworkNamespace.remove(at: sandbox)
        forget(gone)
    }

    public func sweepSandboxes(keeping running: Set<String>) {
        guard let sandboxRoot else { return }
        for name in FileSystem.listDirectory(sandboxRoot) where !running.contains(sandboxRoot + "/" + name) { release(sandbox: sandboxRoot + "/" + name) }
    }

    /// Frees the addresses of endpoints just taken out of the table, and updates the names,
    /// ports and events that depended on them.
    private func forget(_ gone: [NetworkEndpoint]) {
        for endpoint in gone {
            allocated[endpoint.networkID]?.remove(endpoint.address.value)
            if let ipv6 = endpoint.ipv6 { allocated6[endpoint.networkID]?.remove(ipv6.address) }
            if let network = networks[endpoint.networkID] { publish("disconnect", network, container: endpoint.containerID) }
        }
        for network in Set(gone.filter(\.usesEmbeddedResolver).map(\.networkID)) { publishNames(of: network) }
        for endpoint in gone { try? updateFirewall(for: endpoint, adding: false) }
    }

    public func register(_ endpoint: NetworkEndpoint) {
        allocated[endpoint.networkID, default: []].insert(endpoint.address.value)
        if let ipv6 = endpoint.ipv6 { allocated6[endpoint.networkID, default: []].insert(ipv6.address) }
        endpoints[endpoint.endpointID] = endpoint
        // The previous daemon's resolver sockets ended with it: a new one in the same namespace.
        if endpoint.usesEmbeddedResolver, sandboxRoot != nil, (try? refreshResolver(of: endpoint.sandbox)) != nil {
            publishNames(of: endpoint.networkID)
        }
    }

    /// The endpoints of one namespace in the order the container joined them.
    private static func order(_ a: NetworkEndpoint, _ b: NetworkEndpoint) -> Bool {
        (a.interface.count, a.interface) < (b.interface.count, b.interface)
    }

    /// Points the namespace's resolver socket at the user-defined networks its endpoints are
    /// on: opened with the first, closed with the last.
    private func refreshResolver(of sandbox: String) throws {
        let served = endpoints.values.filter { $0.sandbox == sandbox && $0.usesEmbeddedResolver }.sorted { Self.order($0, $1) }.map(\.networkID)
        if served.isEmpty {
            resolver.stop(sandbox: sandbox)
        } else if resolver.isServing(sandbox: sandbox) {
            resolver.setNetworks(served, sandbox: sandbox)
        } else {
            let socket = try NetworkNamespace.run(in: sandbox) { try EmbeddedResolver.openSocket() }
            resolver.serve(socket: socket, sandbox: sandbox, networks: served)
        }
    }

    /// Hands the resolver the names of `network`'s running containers.
    private func publishNames(of network: String) {
        var table: [String: EmbeddedResolver.Addresses] = [:]
        for endpoint in endpoints.values where endpoint.networkID == network {
            for name in endpoint.names {
                table[name.lowercased(), default: .init()].ipv4.append(endpoint.address)
                if let ipv6 = endpoint.ipv6 { table[name.lowercased(), default: .init()].ipv6.append(ipv6.address) }
            }
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
            let ports = network.allowsInterContainer ? nil : endpoints.values.filter { $0.networkID == network.id }.map(\.hostInterface).sorted()
            return Firewall.Segment(bridge: bridge, subnet: pool.subnet, subnet6: network.ipv6Pool?.subnet, isInternal: network.isInternal, isolatedPorts: ports,
                                    masquerades: network.options["com.docker.network.bridge.enable_ip_masquerade"] != "false")
        }
        let forwards = endpoints.values.sorted { $0.endpointID < $1.endpointID }.flatMap(forwards(of:))
        try firewall.apply(segments: segments, forwards: forwards)
    }

    /// What the firewall forwards to an endpoint.
    private func forwards(of endpoint: NetworkEndpoint) -> [Firewall.Forward] {
        endpoint.ports.map { Firewall.Forward(port: $0, address: endpoint.address, address6: endpoint.ipv6?.address) }
    }

    /// Adds or removes an endpoint's ports as map elements; renders the whole table when that
    /// fails (a table someone else changed) or when the network's isolation rules name its
    /// containers' ports.
    private func updateFirewall(for endpoint: NetworkEndpoint, adding: Bool) throws {
        guard let firewall, networks[endpoint.networkID]?.allowsInterContainer != false else { return try applyFirewall() }
        guard !endpoint.ports.isEmpty else { return }
        do {
            if adding { try firewall.publish(forwards(of: endpoint)) } else { try firewall.unpublish(forwards(of: endpoint)) }
        } catch {
            try applyFirewall()
        }
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
            if let pool6 = network.ipv6Pool { try link.addAddress(pool6.gateway, prefixLength: pool6.subnet.prefixLength, index: index, name: name) }
            try link.setUp(index: index, name: name)
            // Settings of Berth's bridge only, not of the host: the host's own 127.0.0.1 may reach
            // published ports (DNAT to this bridge), and a container's packets to a published
            // port through the gateway (hairpin) are forwarded back out of it, also when the
            // host's `ip_forward` is off (with br_netfilter loaded such packets are routed).
            for setting in ["route_localnet", "forwarding"] {
                try enable(setting, of: name)
            }
            readyBridges.insert(name)
            return index
        } catch {
            throw EngineError.failure("cannot prepare bridge \(name) of network \(network.name): \(error)")
        }
    }

    /// Writes 1 to the bridge's `net.ipv4.conf.<bridge>.<setting>`.
    private func enable(_ setting: String, of bridge: String) throws {
        let file = open("/proc/sys/net/ipv4/conf/\(bridge)/\(setting)", O_WRONLY | O_CLOEXEC)
        guard file >= 0 else { throw NetlinkError(operation: "open \(setting) of \(bridge)", errno: errno) }
        defer { close(file) }
        try FileSystem.writeAll(file, Array("1".utf8))
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

    /// `requested` if it is free, else the first free address of the pool's range (the
    /// network address, the gateway and the broadcast address are never given out).
    private func allocate(in networkID: String, pool: Network.AddressPool, requested: IPv4Address? = nil) throws -> IPv4Address {
        let taken = allocated[networkID] ?? []
        func usable(_ address: IPv4Address) -> Bool {
            address != pool.subnet.network && address != pool.subnet.last && address != pool.gateway
        }
        if let requested {
            guard pool.subnet.contains(requested), usable(requested) || requested == pool.gateway else {
                throw EngineError.invalidParameter("invalid address \(requested): it does not belong to any of this network's subnets (\(pool.subnet))")
            }
            guard !taken.contains(requested.value), requested != pool.gateway else {
                throw EngineError.forbidden("address \(requested) is already in use on this network")
            }
            allocated[networkID, default: []].insert(requested.value)
            return requested
        }
        let range = pool.ipRange ?? pool.subnet
        var candidate = range.network.value
        while candidate <= range.last.value {
            let address = IPv4Address(candidate)
            if usable(address), !taken.contains(candidate) {
                allocated[networkID, default: []].insert(candidate)
                return address
            }
            if candidate == UInt32.max { break }
            candidate += 1
        }
        throw EngineError.failure("no available IPv4 addresses on this network's address pools: \(pool.subnet)")
    }

    /// The endpoint's IPv6 side on a dual-stack network (nil on an IPv4-only one, where
    /// asking for an IPv6 address is refused).
    private func allocateIPv6(on network: Network, requested: IPv6Address?) throws -> IPv6Endpoint? {
        guard let pool = network.ipv6Pool else {
            if let requested {
                throw EngineError.invalidParameter("invalid address \(requested): network \(network.name) has no IPv6 subnet (create it with --ipv6)")
            }
            return nil
        }
        let address = try allocate6(in: network.id, pool: pool, requested: requested)
        return IPv6Endpoint(address: address, prefixLength: pool.subnet.prefixLength, gateway: pool.gateway)
    }

    /// `requested` if it is free, else the first free address of the IPv6 pool after its
    /// gateway.
    private func allocate6(in networkID: String, pool: Network.IPv6Pool, requested: IPv6Address?) throws -> IPv6Address {
        let taken = allocated6[networkID] ?? []
        if let requested {
            guard pool.subnet.contains(requested), requested != pool.subnet.network else {
                throw EngineError.invalidParameter("invalid address \(requested): it does not belong to any of this network's subnets (\(pool.subnet))")
            }
            guard requested != pool.gateway, !taken.contains(requested) else {
                throw EngineError.forbidden("address \(requested) is already in use on this network")
            }
            allocated6[networkID, default: []].insert(requested)
            return requested
        }
        var offset: UInt64 = 1
        while offset < pool.subnet.size {
            let candidate = pool.subnet.network.advanced(by: offset)
            if candidate != pool.gateway, !taken.contains(candidate) {
                allocated6[networkID, default: []].insert(candidate)
                return candidate
            }
            offset += 1
        }
        throw EngineError.failure("no available IPv6 addresses on this network's address pool: \(pool.subnet)")
    }

    /// The IPv6 pool of a dual-stack network: the one asked for, else a free unique local /64
    /// (RFC 4193: `fd` and 40 random bits). An IPv6 subnet without `--ipv6` is refused.
    private func ipv6Pool(for request: NetworkRequest) throws -> Network.IPv6Pool? {
        let requested = request.pools.filter { $0.subnet?.contains(":") == true }
        guard request.enableIPv6 else {
            if !requested.isEmpty { throw EngineError.invalidParameter("an IPv6 subnet needs a dual-stack network: add --ipv6") }
            return nil
        }
        guard requested.count <= 1 else { throw EngineError.invalidParameter("a Berth network has one IPv6 subnet, not \(requested.count)") }
        let existing = networks.values.compactMap { $0.ipv6Pool?.subnet }
        guard let pool = requested.first, let text = pool.subnet else {
            guard let subnet = Self.uniqueLocalSubnet(avoiding: existing) else {
                throw EngineError.forbidden("could not find an available, non-overlapping IPv6 address pool")
            }
            return Network.IPv6Pool(subnet: subnet, gateway: subnet.firstHost)
        }
        guard let subnet = IPv6Subnet(text, strict: true) else {
            throw EngineError.invalidParameter("invalid subnet \(text): an IPv6 network address with a prefix length, such as fd00:1::/64, is expected")
        }
        guard subnet.prefixLength <= 126 else { throw EngineError.invalidParameter("subnet \(text) is too small: at most /126") }
        if existing.contains(where: { $0.overlaps(subnet) }) {
            throw EngineError.forbidden("invalid pool request: Pool overlaps with other one on this address space")
        }
        if let range = pool.ipRange, !range.isEmpty {
            throw EngineError.invalidParameter("an IPv6 --ip-range is not supported by Berth: containers get addresses from the whole subnet \(text)")
        }
        var gateway = subnet.firstHost
        if let text = pool.gateway, !text.isEmpty {
            guard let address = IPv6Address(text) else { throw EngineError.invalidParameter("invalid gateway address \(text)") }
            guard subnet.contains(address), address != subnet.network else { throw EngineError.invalidParameter("no matching subnet for gateway \(text)") }
            gateway = address
        }
        return Network.IPv6Pool(subnet: subnet, gateway: gateway)
    }

    private func addressPools(for requested: [NetworkRequest.Pool]) throws -> [Network.AddressPool] {
        let existing = networks.values.flatMap { $0.pools.map(\.subnet) }
        guard !requested.isEmpty else {
            let taken = existing + hostRoutes()
            guard let subnet = candidatePools.subnets.first(where: { pool in !taken.contains { $0.overlaps(pool) } }) else {
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

    private func publish(_ action: String, _ network: Network, container: String? = nil) {
        var attributes = ["name": network.name, "type": network.driver.rawValue]
        if let container { attributes["container"] = container }
        events?.publish(EngineEvent(type: .network, action: action, actorID: network.id, attributes: attributes))
    }
}
