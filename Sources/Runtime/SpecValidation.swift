import OCI

/// Checks, before anything is created, that the configuration cannot change the host: a
/// hostname or a sysctl is only applied inside a namespace of the container's own, and mounts,
/// devices and read-only or masked paths only inside a mount namespace of its own.
enum SpecValidation {
    static func validate(_ spec: RuntimeSpec, namespaces: [NamespaceKind]) throws {
        if !namespaces.contains(.mount) { try validateWithoutMountNamespace(spec) }
        if let hostname = spec.hostname, !hostname.isEmpty, !namespaces.contains(.uts) {
            throw RuntimeError.invalidConfig("hostname \"\(hostname)\" needs a uts namespace (add {\"type\": \"uts\"} to linux.namespaces)")
        }
        if let propagation = spec.linux?.rootfsPropagation, !propagation.isEmpty, MountOptions.propagationFlags[propagation] == nil {
            throw RuntimeError.invalidConfig("rootfsPropagation \"\(propagation)\" is not one of shared, slave, private, unbindable (or their r-forms)")
        }
        for key in (spec.linux?.sysctl ?? [:]).keys.sorted() {
            guard let needed = namespace(for: key) else {
                throw RuntimeError.invalidConfig("sysctl \"\(key)\" is not namespaced; setting it would change the host")
            }
            guard namespaces.contains(needed) else {
                throw RuntimeError.invalidConfig("sysctl \"\(key)\" needs a \(needed.rawValue) namespace in linux.namespaces")
            }
        }
    }

    /// Without a mount namespace the container shares the caller's mount table: whatever is
    /// mounted would be the caller's and outlive the container, so it is refused (runc mounts
    /// such entries on the host and ignores `root.readonly`; it refuses masked paths).
    private static func validateWithoutMountNamespace(_ spec: RuntimeSpec) throws {
        let hint = "without a mount namespace of its own (add {\"type\": \"mount\"} to linux.namespaces)"
        if !(spec.mounts ?? []).isEmpty { throw RuntimeError.invalidConfig("mounts cannot be made \(hint): they would be made on the host") }
        if !(spec.linux?.devices ?? []).isEmpty { throw RuntimeError.invalidConfig("devices cannot be created \(hint)") }
        if !(spec.linux?.maskedPaths ?? []).isEmpty { throw RuntimeError.invalidConfig("maskedPaths cannot be masked \(hint)") }
        if !(spec.linux?.readonlyPaths ?? []).isEmpty { throw RuntimeError.invalidConfig("readonlyPaths cannot be made read-only \(hint)") }
        if spec.root?.readonly == true { throw RuntimeError.invalidConfig("root.readonly cannot be applied \(hint)") }
        if let propagation = spec.linux?.rootfsPropagation, !propagation.isEmpty {
            throw RuntimeError.invalidConfig("rootfsPropagation cannot be set \(hint)")
        }
    }

    /// The namespace a sysctl belongs to (the kernel's namespaced sysctls, as runc lists them).
    static func namespace(for key: String) -> NamespaceKind? {
        if key.hasPrefix("net.") { return .network }
        if key.hasPrefix("fs.mqueue.") { return .ipc }
        let ipc: Set<String> = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                                "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(key) { return .ipc }
        if key == "kernel.hostname" || key == "kernel.domainname" { return .uts }
        return nil
    }
}
