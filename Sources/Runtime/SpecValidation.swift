import OCI

/// Checks, before anything is created, that the configuration cannot change the host: a
/// hostname or a sysctl is only applied inside a namespace of the container's own.
enum SpecValidation {
    static func validate(_ spec: RuntimeSpec, namespaces: [NamespaceKind]) throws {
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
