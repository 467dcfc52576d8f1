import Glibc

/// An IPv6 address as two 64-bit halves, written in RFC 5952 form (`fd00:1::2`).
public struct IPv6Address: Hashable, Comparable, Sendable, TextCodable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses any textual form `inet_pton` takes (no zone, no prefix); nil otherwise.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count < 46, text.contains(":") else { return nil }
        var raw = in6_addr()
        guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &raw) { Array($0) }
        self.init(bytes: bytes)
    }

    /// The address in its 16 network-order bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16)
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Its 16 bytes in network order.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * $0)) }
    }

    public var description: String {
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(cString: buffer)
    }

    /// The address `count` past this one (wrapping within 128 bits).
    public func advanced(by count: UInt64) -> IPv6Address {
        let (sum, carry) = low.addingReportingOverflow(count)
        return IPv6Address(high: high &+ (carry ? 1 : 0), low: sum)
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// An IPv6 subnet in CIDR form (`fd00:1::/64`).
public struct IPv6Subnet: Hashable, Sendable, TextCodable {
    public var network: IPv6Address
    public var prefixLength: Int

    /// A subnet from its parts; host bits of `address` are cleared.
    public init(address: IPv6Address, prefixLength: Int) {
        self.prefixLength = prefixLength
        let (high, low) = Self.mask(prefixLength)
        network = IPv6Address(high: address.high & high, low: address.low & low)
    }

    public init?(_ text: String) {
        self.init(text, strict: false)
    }

    /// Parses `address/n` (0 ≤ n ≤ 128); with `strict`, host bits must be zero.
    public init?(_ text: String, strict: Bool) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(String(parts[0])), parts[1].allSatisfy(\.isASCII), let length = Int(parts[1]),
              (0...128).contains(length) else { return nil }
        self.init(address: address, prefixLength: length)
        if strict && network != address { return nil }
    }

    public var description: String { "\(network)/\(prefixLength)" }

    /// Whether `address` lies in the subnet.
    public func contains(_ address: IPv6Address) -> Bool {
        IPv6Subnet(address: address, prefixLength: prefixLength).network == network
    }

    /// Whether the two subnets share any address.
    public func overlaps(_ other: IPv6Subnet) -> Bool {
        let shorter = min(prefixLength, other.prefixLength)
        return IPv6Subnet(address: network, prefixLength: shorter).network == IPv6Subnet(address: other.network, prefixLength: shorter).network
    }

    /// How many addresses the subnet holds, at most `UInt64.max`.
    public var size: UInt64 { prefixLength <= 64 ? UInt64.max : (prefixLength == 128 ? 1 : UInt64(1) << UInt64(128 - prefixLength)) }

    /// The first address after the network's own (docker's default gateway).
    public var firstHost: IPv6Address { network.advanced(by: 1) }

    /// The masks of the two halves for a prefix length.
    static func mask(_ length: Int) -> (UInt64, UInt64) {
        let high: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : UInt64.max << UInt64(64 - length))
        let low: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : UInt64.max << UInt64(128 - length))
        return (high, low)
    }
}
