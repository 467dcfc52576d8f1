#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc

/// `POST /containers/{id}/update`: the resources and restart policy that may change.
public struct UpdateConfig: Codable, Sendable, Equatable {
    public var CpuShares: Int64?
    public var Memory: Int64?
    public var MemorySwap: Int64?
    public var MemoryReservation: Int64?
    public var NanoCpus: Int64?
    public var CpuPeriod: Int64?
    public var CpuQuota: Int64?
    public var CpusetCpus: String?
    public var CpusetMems: String?
    public var PidsLimit: Int64?
    public var RestartPolicy: RestartPolicy?

    public init() {}
}

extension ContainerService {
    /// `docker update`: changes the container's limits (applied to a running container's
    /// cgroups at once through its runtime, and kept for its next starts) and its restart
    /// policy. Zero or absent fields leave a setting as it is, as in docker.
    public func update(_ reference: String, _ change: UpdateConfig) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            var record = try resolve(id)
            var host = record.hostConfig
            if let policy = change.RestartPolicy, !(policy.Name ?? "").isEmpty {
                if try RestartPolicyKind(policy) != .no, host.AutoRemove == true {
                    throw EngineError.invalidParameter("Restart policy cannot be updated because AutoRemove is enabled for the container")
                }
                host.RestartPolicy = policy
            }
            func set<T: Equatable>(_ key: WritableKeyPath<HostConfig, T?>, _ value: T?, unless zero: T) {
                if let value, value != zero { host[keyPath: key] = value }
            }
            set(\.CpuShares, change.CpuShares, unless: 0)
            set(\.Memory, change.Memory, unless: 0)
            set(\.MemorySwap, change.MemorySwap, unless: 0)
            set(\.MemoryReservation, change.MemoryReservation, unless: 0)
            set(\.NanoCpus, change.NanoCpus, unless: 0)
            set(\.CpuPeriod, change.CpuPeriod, unless: 0)
            set(\.CpuQuota, change.CpuQuota, unless: 0)
            set(\.CpusetCpus, change.CpusetCpus, unless: "")
            set(\.CpusetMems, change.CpusetMems, unless: "")
            set(\.PidsLimit, change.PidsLimit, unless: 0)
            try validate(host)
            if let memory = host.Memory, let swap = host.MemorySwap, memory > 0, swap > 0, swap < memory {
                throw EngineError.invalidParameter("Minimum memoryswap limit should be larger than memory limit, see usage")
            }
            if (host.NanoCpus ?? 0) > 0 && ((host.CpuQuota ?? 0) > 0 || (host.CpuPeriod ?? 0) > 0) {
                throw EngineError.invalidParameter("Conflicting options: Nano CPUs and CPU Period cannot both be set")
            }
            if record.state.isRunning {
                var limits = BundleWriter.resources(host)
                limits.devices = nil
                let path = monitorDirectory(of: id) + "/resources-\(UInt64.random(in: 0...UInt64.max)).json"
                defer { unlink(path) }
                try FileSystem.writeAtomically(path, bytes: Array(JSONEncoder().encode(limits)), mode: 0o600, durable: false)
                let result = try await tasks.runRuntime(record.runtime, ["update", "--resources", path, id])
                guard result.status == 0 else {
                    throw EngineError.failure("Cannot update container \(id): \(result.stderrText)")
                }
            }
            record.hostConfig = host
            try update(record)
            publish("update", record)
        }
    }
}
