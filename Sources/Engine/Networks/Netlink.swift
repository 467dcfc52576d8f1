import CBerthSys
import Glibc

/// A route netlink socket (`NETLINK_ROUTE`) in the network namespace of the thread that opened
/// it: links, addresses and routes made by messages, as `ip` makes them, without running it.
/// Written by hand because no library here speaks rtnetlink; only the handful of messages the
/// bridge driver needs are built (rtnetlink(7), the kernel's `if_link.h` and `veth.h`).
///
/// Guarantees: every request asks for an acknowledgement and throws `NetlinkError` naming the
/// operation and the kernel's errno when it is refused; the socket is closed with the object.
final class Netlink {
    private let fd: Int32
    private var sequence: UInt32 = 1

    /// Opens a socket in the calling thread's network namespace.
    init() throws {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetlinkError(operation: "open a netlink socket", errno: errno) }
    }

    deinit { _ = Glibc.close(fd) }

    // MARK: Links

    /// Creates a bridge named `name` (down, no address).
    func createBridge(_ name: String) throws {
        var message = NetlinkMessage(type: Self.newLink, flags: Self.create | Self.exclusive)
        message.appendInterfaceInfo()
        message.appendAttribute(Self.ifName, string: name)
        message.nest(Self.linkInfo) { $0.appendAttribute(Self.infoKind, string: "bridge") }
        try request(message, doing: "create bridge \(name)")
    }

    /// Creates a veth pair: `host` in this namespace (enslaved to the bridge `master`, when
    /// given) and `peer` created straight in the namespace `namespaceFD` with `mac`.
    func createVethPair(host: String, master: Int32?, peer: String, peerMAC: [UInt8], namespaceFD: Int32, mtu: UInt32?) throws {
        var message = NetlinkMessage(type: Self.newLink, flags: Self.create | Self.exclusive)
        message.appendInterfaceInfo()
        message.appendAttribute(Self.ifName, string: host)
        if let master { message.appendAttribute(Self.master, uint32: UInt32(bitPattern: master)) }
        if let mtu { message.appendAttribute(Self.mtu, uint32: mtu) }
        message.nest(Self.linkInfo) { info in
            info.appendAttribute(Self.infoKind, string: "veth")
            info.nest(Self.infoData) { data in
                data.nest(Self.vethPeer) { peerInfo in
                    peerInfo.appendInterfaceInfo()
                    peerInfo.appendAttribute(Self.ifName, string: peer)
                    peerInfo.appendAttribute(Self.address, bytes: peerMAC)
                    peerInfo.appendAttribute(Self.netNamespaceFD, uint32: UInt32(bitPattern: namespaceFD))
                    if let mtu { peerInfo.appendAttribute(Self.mtu, uint32: mtu) }
                }
            }
        }
        try request(message, doing: "create veth pair \(host)")
    }

    /// Brings the link `index` up.
    func setUp(index: Int32, name: String) throws {
        var message = NetlinkMessage(type: Self.newLink, flags: 0)
        message.appendInterfaceInfo(index: index, flags: UInt32(IFF_UP), change: UInt32(IFF_UP))
        try request(message, doing: "bring \(name) up")
    }

    /// Deletes the link `index` (a veth takes its peer with it).
    func deleteLink(index: Int32, name: String) throws {
        var message = NetlinkMessage(type: Self.deleteLinkType, flags: 0)
        message.appendInterfaceInfo(index: index)
        try request(message, doing: "delete \(name)")
    }

    /// The index of the link `name` in this socket's namespace; nil when there is none.
    func index(of name: String) throws -> Int32? {
        var message = NetlinkMessage(type: Self.getLink, flags: 0)
        message.appendInterfaceInfo()
        message.appendAttribute(Self.ifName, string: name)
        let reply = try exchange(message, doing: "look up \(name)", tolerating: [ENODEV])
        guard let reply, reply.count >= 16 + 16 else { return nil }
        return reply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16 + 4, as: Int32.self) }
    }

    // MARK: Addresses and routes

    /// Adds `address/prefixLength` to the link `index`; an address already there is no error.
    func addAddress(_ address: IPv4Address, prefixLength: Int, index: Int32, name: String) throws {
        var message = NetlinkMessage(type: Self.newAddress, flags: Self.create | Self.exclusive)
        message.appendAddressInfo(prefixLength: UInt8(prefixLength), index: UInt32(bitPattern: index))
        message.appendAttribute(Self.addressLocal, bytes: address.bytes)
        message.appendAttribute(Self.addressAddress, bytes: address.bytes)
        let broadcast = IPv4Subnet(address: address, prefixLength: prefixLength).last
        message.appendAttribute(Self.addressBroadcast, bytes: broadcast.bytes)
        _ = try exchange(message, doing: "add \(address)/\(prefixLength) to \(name)", tolerating: [EEXIST])
    }

    /// Adds `address/prefixLength` to the link `index` without duplicate address detection
    /// (the engine hands each address out once); an address already there is no error.
    func addAddress(_ address: IPv6Address, prefixLength: Int, index: Int32, name: String) throws {
        var message = NetlinkMessage(type: Self.newAddress, flags: Self.create | Self.exclusive)
        message.appendAddressInfo(family: UInt8(AF_INET6), prefixLength: UInt8(prefixLength), index: UInt32(bitPattern: index))
        message.appendAttribute(Self.addressAddress, bytes: address.bytes)
        message.appendAttribute(Self.addressFlags, uint32: Self.noDuplicateDetection)
        _ = try exchange(message, doing: "add \(address)/\(prefixLength) to \(name)", tolerating: [EEXIST])
    }

    /// Adds the default IPv6 route through `gateway`.
    func addDefaultRoute(via gateway: IPv6Address) throws {
        var message = NetlinkMessage(type: Self.newRoute, flags: Self.create | Self.exclusive)
        message.appendRouteInfo(family: UInt8(AF_INET6))
        message.appendAttribute(Self.routeGateway, bytes: gateway.bytes)
        try request(message, doing: "add the default route via \(gateway)")
    }

    /// Adds the default route through `gateway`.
    func addDefaultRoute(via gateway: IPv4Address) throws {
        var message = NetlinkMessage(type: Self.newRoute, flags: Self.create | Self.exclusive)
        message.appendRouteInfo()
        message.appendAttribute(Self.routeGateway, bytes: gateway.bytes)
        try request(message, doing: "add the default route via \(gateway)")
    }

    // MARK: Exchange

    private func request(_ message: NetlinkMessage, doing operation: String) throws {
        _ = try exchange(message, doing: operation, tolerating: [])
    }

    /// Sends `message` and reads until its acknowledgement; returns the data message the
    /// kernel sent before it (for a query), nil when a tolerated errno came back.
    private func exchange(_ message: NetlinkMessage, doing operation: String, tolerating: Set<Int32>) throws -> [UInt8]? {
        var bytes = message.finished(sequence: sequence)
        let expected = sequence
        sequence &+= 1
        let sent = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw NetlinkError(operation: operation, errno: sent < 0 ? errno : EIO) }
        var data: [UInt8]?
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received < 0 && errno == EINTR { continue }
            guard received >= 16 else { throw NetlinkError(operation: operation, errno: received < 0 ? errno : EIO) }
            var offset = 0
            while offset + 16 <= received {
                let (length, type, sequenceNumber) = buffer.withUnsafeBytes {
                    ($0.loadUnaligned(fromByteOffset: offset, as: UInt32.self), $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self),
                     $0.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
                }
                guard length >= 16, offset + Int(length) <= received else { throw NetlinkError(operation: operation, errno: EIO) }
                if sequenceNumber == expected {
                    if type == Self.errorType {
                        let code = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self) }
                        if code == 0 { return data }
                        if tolerating.contains(-code) { return nil }
                        throw NetlinkError(operation: operation, errno: -code)
                    }
                    data = Array(buffer[offset..<offset + Int(length)])
                }
                offset += (Int(length) + 3) & ~3
            }
        }
    }

    // rtnetlink(7) and <linux/if_link.h>, <linux/if_addr.h>, <linux/rtnetlink.h>, <linux/veth.h>.
    static let errorType: UInt16 = 2
    static let newLink: UInt16 = 16
    static let deleteLinkType: UInt16 = 17
    static let getLink: UInt16 = 18
    static let newAddress: UInt16 = 20
    static let newRoute: UInt16 = 24
    static let create: UInt16 = 0x400
    static let exclusive: UInt16 = 0x200
    static let address: UInt16 = 1
    static let ifName: UInt16 = 3
    static let mtu: UInt16 = 4
    static let master: UInt16 = 10
    static let linkInfo: UInt16 = 18
    static let netNamespaceFD: UInt16 = 28
    static let infoKind: UInt16 = 1
    static let infoData: UInt16 = 2
    static let vethPeer: UInt16 = 1
    static let addressAddress: UInt16 = 1
    static let addressLocal: UInt16 = 2
    static let addressBroadcast: UInt16 = 4
    static let routeGateway: UInt16 = 5
    static let addressFlags: UInt16 = 8
    static let noDuplicateDetection: UInt32 = 0x02
}

/// A netlink request being built: header, fixed part and attributes, each padded to 4 bytes.
struct NetlinkMessage {
    private(set) var bytes: [UInt8] = []
    private let type: UInt16
    private let flags: UInt16

    init(type: UInt16, flags: UInt16) {
        self.type = type
        self.flags = flags
        bytes = [UInt8](repeating: 0, count: 16)
    }

    /// A nested part (its bytes only, no header).
    private init() {
        type = 0
        flags = 0
    }

    /// `struct ifinfomsg` (AF_UNSPEC).
    mutating func appendInterfaceInfo(index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) {
        bytes += [0, 0, 0, 0]
        append(UInt32(bitPattern: index))
        append(flags)
        append(change)
    }

    /// `struct ifaddrmsg` (global scope).
    mutating func appendAddressInfo(family: UInt8 = UInt8(AF_INET), prefixLength: UInt8, index: UInt32) {
        bytes += [family, prefixLength, 0, 0]
        append(index)
    }

    /// `struct rtmsg` for a default unicast route in the main table.
    mutating func appendRouteInfo(family: UInt8 = UInt8(AF_INET)) {
        bytes += [family, 0, 0, 0, 254, 3, 0, 1]
        append(UInt32(0))
    }

    mutating func appendAttribute(_ type: UInt16, bytes value: [UInt8]) {
        append(UInt16(4 + value.count))
        append(type)
        bytes += value
        pad()
    }

    mutating func appendAttribute(_ type: UInt16, string: String) {
        appendAttribute(type, bytes: Array(string.utf8) + [0])
    }

    mutating func appendAttribute(_ type: UInt16, uint32 value: UInt32) {
        appendAttribute(type, bytes: withUnsafeBytes(of: value.littleEndian) { Array($0) })
    }

    /// An attribute holding the attributes `body` appends.
    mutating func nest(_ type: UInt16, _ body: (inout NetlinkMessage) -> Void) {
        var inner = NetlinkMessage()
        body(&inner)
        appendAttribute(type, bytes: inner.bytes)
    }

    /// The message with its header filled in.
    func finished(sequence: UInt32) -> [UInt8] {
        var out = bytes
        let request: UInt16 = 1
        let acknowledge: UInt16 = 4
        withUnsafeBytes(of: UInt32(out.count).littleEndian) { out.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: type.littleEndian) { out.replaceSubrange(4..<6, with: $0) }
        withUnsafeBytes(of: (flags | request | acknowledge).littleEndian) { out.replaceSubrange(6..<8, with: $0) }
        withUnsafeBytes(of: sequence.littleEndian) { out.replaceSubrange(8..<12, with: $0) }
        return out
    }

    private mutating func append(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    private mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    private mutating func pad() { while bytes.count % 4 != 0 { bytes.append(0) } }
}

/// A netlink request the kernel refused, or a socket that failed.
struct NetlinkError: Error, CustomStringConvertible {
    var operation: String
    var errno: Int32

    var description: String { "cannot \(operation): \(String(cString: strerror(errno)))" }
}

extension IPv4Address {
    /// The four bytes in network order.
    var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    /// docker's MAC address for a container address: `02:42` and the four bytes.
    var containerMAC: [UInt8] { [0x02, 0x42] + bytes }
}
