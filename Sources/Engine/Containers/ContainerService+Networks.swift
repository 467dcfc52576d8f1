import BerthSystem
import Glibc

extension ContainerService {
    /// `network connect`: adds `join` to the networks the container joins at start; a running
    /// container is wired to it at once (a new `ethN`, its names resolvable the moment this
    /// returns). docker's refusals: a container in `none`, `host` or another container's
    /// namespace, or one already on the network. `links` (`target[:alias]`) are added to the
    /// container's.
    public func connect(_ reference: String, to join: NetworkJoin, links: [String] = []) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            guard var record = containers[id] else { throw EngineError.noSuchContainer(reference) }
            guard let attachments else { throw EngineError.noSuchNetwork(join.network) }
            var join = join
            join.network = try await joinableNetworkMode(join.network)
            try checkJoinable(record.spec.network)
            if join.network == "host" {
                throw EngineError.invalidParameter("container cannot be disconnected from host network or connected to host network")
            }
            if join.network == "none" {
                throw EngineError.invalidParameter("container cannot be connected to multiple networks with one of the networks in private (none) mode")
            }
            if record.spec.network.joins.contains(where: { $0.network == join.network }) {
                throw EngineError.forbidden("endpoint with name \(record.name) already exists in network \(join.network)")
            }
            try checkAddress(join, on: join.network)
            if record.state.isRunning {
                guard let sandbox = record.networkNamespace else {
                    throw EngineError.conflict("container \(record.name) runs without a network namespace of Berth's: stop it, connect it, and start it again")
                }
                let request = EndpointRequest(network: join.network, names: Self.endpointNames(record, join), address: join.address, address6: join.address6)
                let endpoint = try await attachments.attach(container: id, in: sandbox, request)
                guard var latest = containers[id], latest.state.isRunning, latest.networkNamespace == sandbox else {
                    // It stopped while being wired: its endpoints went down without this one.
                    await attachments.detach(endpoint)
                    record = containers[id] ?? record
                    record.spec.network.joins.append(join)
                    try update(record)
                    return
                }
                latest.endpoints.append(endpoint)
                record = latest
            }
            record.spec.network.joins.append(join)
            for link in links where !record.spec.network.links.contains(link) { record.spec.network.links.append(link) }
            try update(record)
        }
    }

    /// `network disconnect`: the container leaves `network` (at once when it runs) and no
    /// longer joins it at start.
    public func disconnect(_ reference: String, from network: String) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            guard var record = containers[id] else { throw EngineError.noSuchContainer(reference) }
            if record.spec.network.isHost || network == "host" {
                throw EngineError.invalidParameter("container cannot be disconnected from host network or connected to host network")
            }
            let name = (try? await joinableNetworkMode(network)) ?? network
            guard let index = record.spec.network.joins.firstIndex(where: { $0.network == name }) else {
                throw EngineError.forbidden("container \(record.id) is not connected to network \(network)")
            }
            if let endpoint = record.endpoints.first(where: { $0.networkName == name }) {
                await attachments?.detach(endpoint)
                record = containers[id] ?? record
                record.endpoints.removeAll { $0.endpointID == endpoint.endpointID }
            }
            record.spec.network.joins.remove(at: index)
            try update(record)
        }
    }

    /// The names a container answers to on a network: its name, short ID and the join's
    /// aliases, each once.
    static func endpointNames(_ record: ContainerRecord, _ join: NetworkJoin) -> [String] {
        var names: [String] = []
        for name in [record.name, record.shortID] + join.aliases where !names.contains(name) { names.append(name) }
        return names
    }

    /// docker's refusals for joining another network in a container's network mode.
    private func checkJoinable(_ spec: NetworkSpec) throws {
        if spec.isHost {
            throw EngineError.invalidParameter("container cannot be disconnected from host network or connected to host network")
        }
        if spec.mode == "none" {
            throw EngineError.invalidParameter("container cannot be connected to multiple networks with one of the networks in private (none) mode")
        }
        if spec.sharedContainer != nil {
            throw EngineError.invalidParameter("container sharing network namespace with another container or host cannot be connected to any other network")
        }
    }

    /// A static address is docker's for user-defined networks only.
    func checkAddress(_ join: NetworkJoin, on network: String) throws {
        if join.address != nil || join.address6 != nil, network == "bridge" {
            throw EngineError.invalidParameter("user specified IP address is supported on user defined networks only")
        }
    }

    /// Completes the network part of a spec at create: the mode resolved (a network's name,
    /// `container:<full ID>`), the joins of a bridge-network container led by the one the mode
    /// names, and docker's refusals of options that cannot go with the mode.
    func completeNetwork(_ spec: inout ContainerSpec) async throws {
        var network = spec.network
        if let shared = network.sharedContainer {
            let other = try resolve(shared)
            network.mode = "container:" + other.id
            if !spec.hostname.isEmpty { throw EngineError.invalidParameter("conflicting options: hostname and the network mode") }
            if !network.dns.isEmpty || !network.dnsSearch.isEmpty || !network.dnsOptions.isEmpty {
                throw EngineError.invalidParameter("conflicting options: dns and the network mode")
            }
            if !network.extraHosts.isEmpty { throw EngineError.invalidParameter("conflicting options: custom host-to-IP mapping and the network mode") }
            if !network.portBindings.isEmpty || network.publishAllPorts {
                throw EngineError.invalidParameter("conflicting options: port publishing and the container type network mode")
            }
            if !network.links.isEmpty { throw EngineError.invalidParameter("conflicting options: container type network can't be used with links") }
            spec.hostname = other.spec.hostname.isEmpty ? other.shortID : other.spec.hostname
            network.joins = []
            spec.network = network
            return
        }
        network.mode = try await joinableNetworkMode(network.mode)
        if network.isHost && (!network.links.isEmpty) {
            throw EngineError.invalidParameter("conflicting options: host type networking can't be used with links. This would result in undefined behavior")
        }
        guard network.isBridged else {
            network.joins = []
            spec.network = network
            return
        }
        var joins: [NetworkJoin] = []
        for var join in network.joins {
            // docker's CLI names the default network's endpoint `default`.
            join.network = join.network == "default" ? network.mode : try await joinableNetworkMode(join.network)
            try checkAddress(join, on: join.network)
            if let index = joins.firstIndex(where: { $0.network == join.network }) { joins[index] = join } else { joins.append(join) }
        }
        if let index = joins.firstIndex(where: { $0.network == network.mode }) {
            joins.insert(joins.remove(at: index), at: 0)
        } else {
            joins.insert(NetworkJoin(network: network.mode), at: 0)
        }
        for link in network.links {
            _ = try resolve(Self.parseLink(link).target)
        }
        network.joins = joins
        spec.network = network
    }

    /// The network namespace of the container this one shares (`container:<id>`), which must
    /// be running.
    func sharedNetworkNamespace(_ record: ContainerRecord) throws -> String? {
        guard let reference = record.spec.network.sharedContainer else { return nil }
        let other = try resolve(reference)
        guard other.state.isRunning, other.state.pid > 0 else {
            throw EngineError.conflict("cannot join network namespace of a non running container: \(other.name)")
        }
        return other.networkNamespace ?? "/proc/\(other.state.pid)/ns/net"
    }

    /// Writes `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` for a start: a container in
    /// another's network namespace gets copies of that one's hosts and resolv.conf (as
    /// docker shares them); the others get theirs from their endpoints and links.
    func writeEtcFiles(of record: ContainerRecord, hostname: String, into directory: String) throws {
        var settings = EtcFiles.Settings(hostname: hostname, network: record.spec.network, endpoints: record.endpoints)
        settings.links = try record.spec.network.links.map { link in
            let (target, alias) = Self.parseLink(link)
            let other = try linkTarget(target, of: record, alias: alias)
            let names = [alias, other.spec.hostname.isEmpty ? other.shortID : other.spec.hostname] + (alias == other.name ? [] : [other.name])
            return (address: try linkAddress(other, for: record), names: names)
        }
        try EtcFiles.write(into: directory, settings, owner: record.userNamespace)
        if let reference = record.spec.network.sharedContainer, let other = try? resolve(reference) {
            let source = self.directory(of: other.id)
            for file in ["hosts", "resolv.conf"] {
                let bytes = try FileSystem.readFile(source + "/" + file)
                try FileSystem.writeAtomically(directory + "/" + file, bytes: bytes, durable: false)
            }
        }
    }

    /// docker's link environment (`ALIAS_PORT_80_TCP=tcp://…`, `ALIAS_NAME`, `ALIAS_ENV_…`) for
    /// the containers a default-bridge container links to.
    func linkEnvironment(of record: ContainerRecord) throws -> [String] {
        guard record.spec.network.mode == "bridge" else { return [] }
        var env: [String] = []
        for link in record.spec.network.links {
            let (target, alias) = Self.parseLink(link)
            let other = try linkTarget(target, of: record, alias: alias)
            let address = try linkAddress(other, for: record)
            let prefix = String(alias.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
            let ports = other.spec.exposedPorts.compactMap { try? PortBinding.parseKey($0) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            if let first = ports.first { env.append("\(prefix)_PORT=\(first.1)://\(address):\(first.0)") }
            for (port, proto) in ports {
                let key = "\(prefix)_PORT_\(port)_\(proto.uppercased())"
                env += ["\(key)=\(proto)://\(address):\(port)", "\(key)_ADDR=\(address)", "\(key)_PORT=\(port)", "\(key)_PROTO=\(proto)"]
            }
            env.append("\(prefix)_NAME=/\(record.name)/\(alias)")
            for variable in other.spec.process.env {
                guard let equals = variable.firstIndex(of: "=") else { continue }
                let name = variable[..<equals]
                if name == "HOME" || name == "PATH" { continue }
                env.append("\(prefix)_ENV_\(name)=\(variable[variable.index(after: equals)...])")
            }
        }
        return env
    }

    /// `target[:alias]` of `--link`; the alias defaults to the target's name.
    public static func parseLink(_ link: String) -> (target: String, alias: String) {
        let parts = link.split(separator: ":", maxSplits: 1).map(String.init)
        let target = parts.first.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? link
        return (target, parts.count == 2 ? parts[1] : target)
    }

    private func linkTarget(_ target: String, of record: ContainerRecord, alias: String) throws -> ContainerRecord {
        let other = try resolve(target)
        guard other.state.isRunning else {
            throw EngineError.conflict("Cannot link to a non running container: /\(other.name) AS /\(record.name)/\(alias)")
        }
        return other
    }

    /// The linked container's address on a network the two share (else its first).
    private func linkAddress(_ other: ContainerRecord, for record: ContainerRecord) throws -> IPv4Address {
        let shared = other.endpoints.first { endpoint in record.endpoints.contains { $0.networkID == endpoint.networkID } }
        guard let endpoint = shared ?? other.endpoints.first else {
            throw EngineError.conflict("cannot link to \(other.name): it has no address on a bridge network")
        }
        return endpoint.address
    }
}
