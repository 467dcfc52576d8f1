import BerthSystem
import Dispatch
import Glibc
import Synchronization

/// docker's embedded DNS server: inside every container on a user-defined network, a UDP
/// socket at 127.0.0.11:53 — opened by the engine in the container's namespace, served by the
/// daemon — that answers the names of the containers on the networks it shares (container name,
/// short ID, network aliases; every address of a shared alias, in turn) and forwards other
/// questions about dotted names to the host's resolvers (an unknown single label is answered
/// NXDOMAIN here). Answers follow the name table the moment it changes.
///
/// Written by hand: the questions are small and few kinds (A, AAAA, anything else gets an
/// empty answer for our names), and a DNS library would bring a server framework with it.
final class EmbeddedResolver: Sendable {
    /// The addresses one name resolves to on one network.
    struct Addresses: Equatable {
        var ipv4: [IPv4Address] = []
        var ipv6: [IPv6Address] = []
    }

    /// The address containers send their questions to.
    static let address = IPv4Address(0x7F00_000B)

    /// One container namespace's socket and the networks whose names it answers.
    private struct Served {
        var source: DispatchSourceRead
        /// Network IDs, in the order the container joined them.
        var networks: [String]
    }

    private struct State {
        /// Addresses by network ID and lowercased name.
        var names: [String: [String: Addresses]] = [:]
        /// The containers' sockets, by the path of their network namespace.
        var served: [String: Served] = [:]
        /// Turns the order of a shared name's addresses from answer to answer.
        var rotation = 0
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "berth.resolver")

    /// Replaces the names of `network` (called whenever a container joins or leaves it).
    func setNames(_ table: [String: Addresses], network: String) {
        state.withLock { $0.names[network] = table }
    }

    /// Whether a socket is served for the namespace at `sandbox`.
    func isServing(sandbox: String) -> Bool {
        state.withLock { $0.served[sandbox] != nil }
    }

    /// Serves questions arriving on `socket` (bound to 127.0.0.11:53 in the namespace pinned
    /// at `sandbox`) with the names of `networks`; the resolver owns the descriptor from now on.
    func serve(socket fd: Int32, sandbox: String, networks: [String]) {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.answer(fd: fd, sandbox: sandbox) }
        source.setCancelHandler { close(fd) }
        state.withLock {
            $0.served[sandbox]?.source.cancel()
            $0.served[sandbox] = Served(source: source, networks: networks)
        }
        source.resume()
    }

    /// Changes which networks' names the namespace's socket answers (a container joined or
    /// left one).
    func setNetworks(_ networks: [String], sandbox: String) {
        state.withLock { $0.served[sandbox]?.networks = networks }
    }

    /// Stops serving the namespace's socket.
    func stop(sandbox: String) {
        state.withLock { $0.served.removeValue(forKey: sandbox) }?.source.cancel()
    }

    /// Opens the resolver's socket in the current thread's network namespace.
    static func openSocket() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw NetlinkError(operation: "open the resolver's socket", errno: errno) }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = UInt16(53).bigEndian
        local.sin_addr.s_addr = address.value.bigEndian
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw NetlinkError(operation: "bind 127.0.0.11:53", errno: error)
        }
        return fd
    }

    private func answer(fd: Int32, sandbox: String) {
        var buffer = [UInt8](repeating: 0, count: 1500)
        var peer = sockaddr_in()
        var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &peerLength) } }
            }
            guard count > 0 else { return }
            let query = Array(buffer[0..<count])
            guard let question = DNSQuestion(query) else { continue }
            // A records for A questions, AAAA for AAAA, an empty answer for other types of a
            // known name.
            let records: [[UInt8]]? = state.withLock { state in
                let name = question.name.lowercased()
                var found = Addresses()
                for network in state.served[sandbox]?.networks ?? [] {
                    guard let known = state.names[network]?[name] else { continue }
                    for address in known.ipv4 where !found.ipv4.contains(address) { found.ipv4.append(address) }
                    for address in known.ipv6 where !found.ipv6.contains(address) { found.ipv6.append(address) }
                }
                guard !found.ipv4.isEmpty || !found.ipv6.isEmpty else { return nil }
                let wanted = question.type == 1 ? found.ipv4.map(\.bytes) : question.type == 28 ? found.ipv6.map(\.bytes) : []
                guard !wanted.isEmpty else { return [] }
                state.rotation &+= 1
                let shift = state.rotation % wanted.count
                return Array(wanted[shift...] + wanted[..<shift])
            }
            let reply: [UInt8]?
            if let records {
                reply = question.reply(to: query, records: records)
            } else if !question.name.contains(".") {
                // A single label no container has: no resolver outside could know it either.
                reply = question.reply(to: query, records: [], nameError: true)
            } else {
                reply = Self.forward(query)
            }
            guard let reply else { continue }
            _ = reply.withUnsafeBytes { raw in
                withUnsafePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, peerLength) } }
            }
        }
    }

    /// Asks the host's first usable resolver (loopback ones cannot be reached from a
    /// container's point of view and are skipped, as docker does) and returns its answer, or
    /// nil after two seconds.
    private static func forward(_ query: [UInt8]) -> [UInt8]? {
        let conf = (try? FileSystem.readFile("/etc/resolv.conf")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let servers = conf.split(separator: "\n").compactMap { line -> IPv4Address? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[0] == "nameserver", let address = IPv4Address(String(fields[1])), address.value >> 24 != 127 else { return nil }
            return address
        }
        guard let server = servers.first else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = UInt16(53).bigEndian
        remote.sin_addr.s_addr = server.value.bigEndian
        let sent = query.withUnsafeBytes { raw in
            withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard sent == query.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 12, buffer[0] == query[0], buffer[1] == query[1] else { return nil }
        return Array(buffer[0..<count])
    }
}

/// The one question of a DNS query (RFC 1035 §4.1): its name, type and where it ends.
struct DNSQuestion {
    var name: String
    var type: UInt16
    /// Offset just past the question (name, type, class).
    var end: Int

    /// Parses a standard query with one question; nil for anything else or malformed input.
    init?(_ message: [UInt8]) {
        guard message.count >= 12, message[2] & 0x80 == 0, message[2] & 0x78 == 0, message[4] == 0, message[5] == 1 else { return nil }
        var labels: [String] = []
        var offset = 12
        while true {
            guard offset < message.count else { return nil }
            let length = Int(message[offset])
            offset += 1
            if length == 0 { break }
            guard length < 64, offset + length <= message.count, labels.count < 64 else { return nil }
            labels.append(String(decoding: message[offset..<offset + length], as: UTF8.self))
            offset += length
        }
        guard offset + 4 <= message.count else { return nil }
        name = labels.joined(separator: ".")
        type = UInt16(message[offset]) << 8 | UInt16(message[offset + 1])
        end = offset + 4
    }

    /// An authoritative answer to `query` with one record per address in `records` (4 bytes:
    /// A, 16 bytes: AAAA; none: an empty answer, NOERROR), or NXDOMAIN.
    func reply(to query: [UInt8], records: [[UInt8]], nameError: Bool = false) -> [UInt8] {
        var out = Array(query[0..<end])
        out[2] = 0x84 | (query[2] & 0x01)
        out[3] = nameError ? 0x83 : 0x80
        out[6] = UInt8(records.count >> 8)
        out[7] = UInt8(records.count & 0xff)
        for index in 8..<12 { out[index] = 0 }
        for record in records {
            out += [0xC0, 0x0C, 0x00, record.count == 16 ? 28 : 1, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, UInt8(record.count)]
            out += record
        }
        return out
    }
}
