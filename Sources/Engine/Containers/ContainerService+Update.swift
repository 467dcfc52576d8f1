#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc

extension ContainerService {
    /// `docker update`: changes the container's limits (applied to a running container's
    /// cgroups at once through its runtime, and kept for its next starts) and, when given, its
    /// restart policy. nil or zero fields of `limits` leave a setting as it is, as in docker.
    public func update(_ reference: String, limits change: ResourceSpec, restartPolicy: RestartPolicyKind?) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            var record = try resolve(id)
            var limits = record.spec.resources
            if let restartPolicy {
                if restartPolicy != .no, record.spec.autoRemove {
                    throw EngineError.invalidParameter("Restart policy cannot be updated because AutoRemove is enabled for the container")
                }
                record.spec.restartPolicy = restartPolicy
            }
            func set<T: Equatable>(_ key: WritableKeyPath<ResourceSpec, T?>, unless zero: T) {
                if let value = change[keyPath: key], value != zero { limits[keyPath: key] = value }
            }
            set(\.cpuShares, unless: 0)
            set(\.memory, unless: 0)
            set(\.memorySwap, unless: 0)
            set(\.memoryReservation, unless: 0)
            set(\.nanoCpus, unless: 0)
            set(\.cpuPeriod, unless: 0)
            set(\.cpuQuota, unless: 0)
            set(\.pidsLimit, unless: 0)
            if !change.cpusetCpus.isEmpty { limits.cpusetCpus = change.cpusetCpus }
            if !change.cpusetMems.isEmpty { limits.cpusetMems = change.cpusetMems }
            try validate(limits)
            if let memory = limits.memory, let swap = limits.memorySwap, memory > 0, swap > 0, swap < memory {
                throw EngineError.invalidParameter("Minimum memoryswap limit should be larger than memory limit, see usage")
            }
            if (limits.nanoCpus ?? 0) > 0 && ((limits.cpuQuota ?? 0) > 0 || (limits.cpuPeriod ?? 0) > 0) {
                throw EngineError.invalidParameter("Conflicting options: Nano CPUs and CPU Period cannot both be set")
            }
            if record.state.isRunning {
                var resources = BundleWriter.resources(limits)
                resources.devices = nil
                let path = monitorDirectory(of: id) + "/resources-\(UInt64.random(in: 0...UInt64.max)).json"
                defer { unlink(path) }
                try FileSystem.writeAtomically(path, bytes: Array(JSONEncoder().encode(resources)), mode: 0o600, durable: false)
                let result = try await tasks.runRuntime(record.runtime, ["update", "--resources", path, id])
                guard result.status == 0 else {
                    throw EngineError.failure("Cannot update container \(id): \(result.stderrText)")
                }
            }
            record.spec.resources = limits
            try update(record)
            publish("update", record)
        }
    }
}
