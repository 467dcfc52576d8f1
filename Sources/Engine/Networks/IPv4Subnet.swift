import BerthSystem

/// A value kept in JSON as its text (`description`), read back with `init?(_:)`.
public protocol TextCodable: Codable, CustomStringConvertible {
    init?(_ text: String)
}

extension TextCodable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a valid \(Self.self): \(text)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An IPv4 address as a 32-bit number, written in dotted-quad form.
public struct IPv4Address: Hashable, Comparable, Sendable, TextCodable {
    public var value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    /// Parses `a.b.c.d`; nil for anything else (no shorthand, no leading zeros beyond `0`).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), !(part.count > 1 && part.first == "0"),
                  let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }
}

/// An IPv4 subnet in CIDR form (`172.18.0.0/16`): its network address and prefix length.
public struct IPv4Subnet: Hashable, Sendable, TextCodable {
    public var network: IPv4Address
    public var prefixLength: Int

    /// A subnet from its parts; host bits of `address` are cleared.
    public init(address: IPv4Address, prefixLength: Int) {
        self.prefixLength = prefixLength
        self.network = IPv4Address(address.value & Self.mask(prefixLength))
    }

    /// Parses `a.b.c.d/n` (0 ≤ n ≤ 32).
    public init?(_ text: String) {
        self.init(text, strict: false)
    }

    /// Parses `a.b.c.d/n` (0 ≤ n ≤ 32). With `strict`, host bits must be zero (docker refuses
    /// `172.18.0.1/16` as a subnet).
    public init?(_ text: String, strict: Bool) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let length = Int(parts[1]), (0...32).contains(length),
              parts[1].allSatisfy(\.isASCII) else { return nil }
        self.init(address: address, prefixLength: length)
        if strict && network != address { return nil }
    }

    public var description: String { "\(network)/\(prefixLength)" }

    /// The netmask as a number.
    public var mask: UInt32 { Self.mask(prefixLength) }

    /// The last address (broadcast).
    public var last: IPv4Address { IPv4Address(network.value | ~mask) }

    /// Whether `address` lies in the subnet.
    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    /// Whether the two subnets share any address.
    public func overlaps(_ other: IPv4Subnet) -> Bool {
        let shorter = min(prefixLength, other.prefixLength)
        let m = Self.mask(shorter)
        return network.value & m == other.network.value & m
    }

    /// Whether `other` lies wholly inside this subnet.
    public func covers(_ other: IPv4Subnet) -> Bool { other.prefixLength >= prefixLength && contains(other.network) }

    /// The first usable address (docker's default gateway).
    public var firstHost: IPv4Address { IPv4Address(network.value &+ (prefixLength >= 31 ? 0 : 1)) }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }
}

/// The IPv4 destinations the host routes already (`/proc/net/route`, the default route left
/// out): a network Berth makes must not hide them.
public enum HostRoutes {
    public static func ipv4Destinations(table: String? = nil) -> [IPv4Subnet] {
        let text = table ?? (try? FileSystem.readFile("/proc/net/route")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var result: [IPv4Subnet] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8, let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16), mask != 0 else { continue }
            // The file holds them in the host's (little-endian) byte order.
            let length = mask.nonzeroBitCount
            result.append(IPv4Subnet(address: IPv4Address(destination.byteSwapped), prefixLength: length))
        }
        return result
    }
}

/// Where the daemon picks the subnets of networks it is not given one for: docker's defaults
/// (172.17–31.0.0/16, then the /20s of 192.168.0.0/16) or `berthd --default-address-pool
/// base=CIDR,size=N` (the base split into /N subnets, in order).
public struct AddressPoolSettings: Sendable, Equatable {
    /// The candidate subnets, in the order they are tried.
    public var subnets: [IPv4Subnet]

    /// docker's defaults.
    public static let docker = AddressPoolSettings(subnets: (17...31).map { IPv4Subnet(address: IPv4Address(0xAC00_0000 | UInt32($0) << 16), prefixLength: 16) }
        + (0..<16).map { IPv4Subnet(address: IPv4Address(0xC0A8_0000 | UInt32($0) << 12), prefixLength: 20) })

    public init(subnets: [IPv4Subnet]) {
        self.subnets = subnets
    }

    /// The pools `--default-address-pool` arguments describe (`base=10.10.0.0/16,size=24`,
    /// repeatable); docker's defaults when there are none.
    public init(parsing arguments: [String]) throws {
        guard !arguments.isEmpty else {
            self = .docker
            return
        }
        var subnets: [IPv4Subnet] = []
        for argument in arguments {
            var base: IPv4Subnet?
            var size: Int?
            for field in argument.split(separator: ",") {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                switch (pair.first, pair.count) {
                case ("base", 2): base = IPv4Subnet(pair[1], strict: true)
                case ("size", 2): size = Int(pair[1])
                default: throw EngineError.invalidParameter("invalid address pool \"\(argument)\": expected base=CIDR,size=N")
                }
            }
            guard let base, let size, (base.prefixLength...30).contains(size), size - base.prefixLength <= 16 else {
                throw EngineError.invalidParameter("invalid address pool \"\(argument)\": base must be an IPv4 network (such as 10.10.0.0/16) and size a prefix length from the base's to 30, at most 65536 subnets")
            }
            let step = UInt32(1) << UInt32(32 - size)
            for index in 0..<(UInt32(1) << UInt32(size - base.prefixLength)) {
                subnets.append(IPv4Subnet(address: IPv4Address(base.network.value &+ index &* step), prefixLength: size))
            }
        }
        self.subnets = subnets
    }
}

/// `berthd --bip`: the default bridge's gateway address and subnet (`192.168.5.1/24`).
public struct BridgeAddress: Sendable, Equatable {
    public var gateway: IPv4Address
    public var subnet: IPv4Subnet

    /// Parses `address/prefix`, where the address is a host of the subnet (docker's `--bip`).
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let gateway = IPv4Address(parts[0]), let subnet = IPv4Subnet(text), subnet.prefixLength <= 30,
              gateway != subnet.network, gateway != subnet.last else {
            throw EngineError.invalidParameter("invalid --bip \"\(text)\": a host address with its prefix length, such as 192.168.5.1/24, is expected")
        }
        self.gateway = gateway
        self.subnet = subnet
    }
}
