#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import NIOHTTP1

/// `/networks/...`: create, list, inspect, remove and prune networks, in the shapes docker CLI,
/// docker-py and docker-compose read; containers connected and disconnected.
struct NetworkRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let networks = engine.networks
        let containers = engine.containers
        router.add(.POST, "/networks/create") { request, _ in
            let body: NetworkCreateBody
            do {
                body = try JSONDecoder().decode(NetworkCreateBody.self, from: Data(request.body.allBytes()))
            } catch {
                throw APIError.badRequest("invalid JSON in the network configuration: \(error)")
            }
            let network = try await networks.create(body.request)
            return .json(.created, ["Id": network.id, "Warning": ""])
        }
        router.add(.GET, "/networks") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["name", "id", "label", "label!", "driver", "type", "dangling", "scope"]).first {
                throw APIError.badRequest("invalid filter '\(unknown)'")
            }
            for value in filters.values("type") ?? [] where value != "custom" && value != "builtin" {
                throw APIError.badRequest("invalid filter: 'type'='\(value)'")
            }
            for value in filters.values("dangling") ?? [] { _ = try ListFilters.boolean(value, key: "dangling") }
            let used = await Self.networksInUse(containers)
            var rows: [NetworkBody] = []
            for network in await networks.list() where try Self.matches(network, inUse: used.contains(network.name) || used.contains(network.id), filters) {
                rows.append(NetworkBody(network))
            }
            return .json(.ok, rows)
        }
        router.add(.GET, "/networks/{id}") { _, params in
            let network = try await networks.resolve(params["id"] ?? "")
            var body = NetworkBody(network)
            for record in await containers.list(all: false) {
                guard let endpoint = record.endpoints.first(where: { $0.networkID == network.id }) else { continue }
                body.Containers[record.id] = .init(Name: record.name, EndpointID: endpoint.endpointID, MacAddress: endpoint.macAddress,
                                                   IPv4Address: "\(endpoint.address)/\(endpoint.prefixLength)",
                                                   IPv6Address: endpoint.ipv6.map { "\($0.address)/\($0.prefixLength)" } ?? "")
            }
            return .json(.ok, body)
        }
        router.add(.DELETE, "/networks/{id}") { _, params in
            let network = try await networks.resolve(params["id"] ?? "")
            // As docker: running containers hold it; stopped ones do not.
            let users = await containers.list(all: false).filter { $0.endpoints.contains { $0.networkID == network.id } }.map(\.id)
            try await networks.remove(network.id, users: users)
            return .empty(.noContent)
        }
        router.add(.POST, "/networks/prune") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["until", "label", "label!"]).first { throw APIError.badRequest("invalid filter '\(unknown)'") }
            let until = try filters.values("until").flatMap(\.first).map { try ListFilters.instant($0, key: "until") }
            let used = await Self.networksInUse(containers)
            let inUse = Set(await networks.list().filter { used.contains($0.name) || used.contains($0.id) }.map(\.id))
            let deleted = try await networks.prune(inUse: inUse) { network in
                (until.map { network.created < $0 } ?? true) && PruneRoutes.labels(network.labels, filters)
            }
            return .json(.ok, NetworkPruneBody(NetworksDeleted: Nullable(deleted.isEmpty ? nil : deleted)))
        }
        router.add(.POST, "/networks/{id}/connect") { request, params in
            let network = try await networks.resolve(params["id"] ?? "")
            let body: NetworkConnectBody = try Self.decode(request)
            var join = try DockerContainerTranslation.join(network.name, body.EndpointConfig ?? .init())
            join.network = network.name
            try await containers.connect(body.Container, to: join, links: body.EndpointConfig?.Links ?? [])
            return .empty(.ok)
        }
        router.add(.POST, "/networks/{id}/disconnect") { request, params in
            let network = try await networks.resolve(params["id"] ?? "")
            let body: NetworkDisconnectBody = try Self.decode(request)
            try await containers.disconnect(body.Container, from: network.name)
            return .empty(.ok)
        }
    }

    private static func decode<Body: Decodable>(_ request: APIRequest) throws -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: Data(request.body.allBytes()))
        } catch {
            throw APIError.badRequest("invalid JSON in the request body: \(error)")
        }
    }

    /// The networks the containers name (their modes and the networks they join).
    private static func networksInUse(_ containers: ContainerService) async -> Set<String> {
        Set(await containers.list(all: true).flatMap { [$0.spec.network.mode] + $0.spec.network.joins.map(\.network) })
    }

    /// docker's network list filters: `name` (substring), `id` (prefix), `label`, `driver`,
    /// `type` (`custom`/`builtin`), `dangling` (no container uses it; never a predefined one).
    private static func matches(_ network: Network, inUse: Bool, _ filters: ListFilters) throws -> Bool {
        if let names = filters.values("name"), !names.contains(where: { network.name.contains($0) }) { return false }
        if let ids = filters.values("id"), !ids.contains(where: { network.id.hasPrefix($0) }) { return false }
        if let drivers = filters.values("driver"), !drivers.contains(network.driver.rawValue) { return false }
        if let types = filters.values("type"), !types.contains(network.isPredefined ? "builtin" : "custom") { return false }
        if let scopes = filters.values("scope"), !scopes.contains("local") { return false }
        if let dangling = filters.values("dangling")?.first {
            let wanted = try ListFilters.boolean(dangling, key: "dangling")
            if wanted != (!inUse && !network.isPredefined) { return false }
        }
        return PruneRoutes.labels(network.labels, filters)
    }
}

/// The body of `POST /networks/{id}/connect`.
struct NetworkConnectBody: Decodable {
    var Container: String
    var EndpointConfig: NetworkingConfigBody.EndpointBody?
}

/// The body of `POST /networks/{id}/disconnect`.
struct NetworkDisconnectBody: Decodable {
    var Container: String
    var Force: Bool?
}

/// The body of `POST /networks/create`.
struct NetworkCreateBody: Decodable {
    struct IPAMBody: Decodable {
        struct PoolBody: Decodable {
            var Subnet: String?
            var IPRange: String?
            var Gateway: String?
        }
        var Driver: String?
        var Config: [PoolBody]?
    }
    var Name: String
    var Driver: String?
    var Internal: Bool?
    var Attachable: Bool?
    var EnableIPv6: Bool?
    var IPAM: IPAMBody?
    var Options: [String: String]?
    var Labels: [String: String]?

    var request: NetworkRequest {
        var request = NetworkRequest(name: Name)
        request.driver = Driver ?? ""
        request.isInternal = Internal ?? false
        request.isAttachable = Attachable ?? false
        request.enableIPv6 = EnableIPv6 ?? false
        request.pools = (IPAM?.Config ?? []).map { NetworkRequest.Pool(subnet: $0.Subnet, gateway: $0.Gateway, ipRange: $0.IPRange) }
        request.options = Options ?? [:]
        request.labels = Labels ?? [:]
        return request
    }
}

/// A network as docker shows it in `network ls` and `network inspect`.
struct NetworkBody: Encodable {
    struct IPAMBody: Encodable {
        struct PoolBody: Encodable {
            var Subnet: String
            var Gateway: String
            var IPRange: String?
        }
        var Driver = "default"
        var Options: [String: String] = [:]
        var Config: [PoolBody]
    }
    var Name: String
    var Id: String
    var Created: String
    var Scope = "local"
    var Driver: String
    var EnableIPv4 = true
    var EnableIPv6 = false
    var IPAM: IPAMBody
    var Internal: Bool
    var Attachable: Bool
    var Ingress = false
    var ConfigFrom = ["Network": ""]
    var ConfigOnly = false
    /// A running container on the network.
    struct MemberBody: Encodable {
        var Name: String
        var EndpointID: String
        var MacAddress: String
        var IPv4Address: String
        var IPv6Address = ""
    }
    /// Running containers on the network, by ID (in inspect; empty in the list, as docker's).
    var Containers: [String: MemberBody] = [:]
    var Options: [String: String]
    var Labels: [String: String]

    init(_ network: Network) {
        Name = network.name
        Id = network.id
        Created = network.created.rfc3339Nano
        Driver = network.driver.rawValue
        IPAM = IPAMBody(Config: network.pools.map { IPAMBody.PoolBody(Subnet: $0.subnet.description, Gateway: $0.gateway.description, IPRange: $0.ipRange?.description) }
                        + (network.ipv6Pool.map { [IPAMBody.PoolBody(Subnet: $0.subnet.description, Gateway: $0.gateway.description)] } ?? []))
        EnableIPv6 = network.ipv6Pool != nil
        Internal = network.isInternal
        Attachable = network.isAttachable
        var options = network.options
        if network.name == "bridge" { options["com.docker.network.bridge.default_bridge"] = "true" }
        Options = options
        Labels = network.labels
    }
}
