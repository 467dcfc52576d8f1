#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// A content digest as the OCI image spec defines it (descriptor.md, "Digests"):
/// `algorithm ":" encoded`. Only `sha256` and `sha512` can be verified; a `Digest` value always
/// holds a grammatically valid string, and for those two algorithms a lowercase hex of the right
/// length, so it is safe to use `encoded` as a path component.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The algorithm part, e.g. `sha256`.
    public let algorithm: String
    /// The encoded part, e.g. 64 lowercase hex digits for sha256.
    public let encoded: String

    /// Parses and validates `string`; throws `OCIError.invalidDigest` when it does not follow the
    /// grammar or a registered algorithm's length and alphabet.
    public init(parsing string: String) throws {
        guard let colon = string.firstIndex(of: ":") else { throw OCIError.invalidDigest(string) }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        guard Digest.isValidAlgorithm(algorithm), !encoded.isEmpty,
              encoded.utf8.allSatisfy({ Digest.isEncodedByte($0) }) else {
            throw OCIError.invalidDigest(string)
        }
        switch algorithm {
        case "sha256":
            guard encoded.utf8.count == 64, encoded.utf8.allSatisfy(Digest.isLowerHex) else { throw OCIError.invalidDigest(string) }
        case "sha512":
            guard encoded.utf8.count == 128, encoded.utf8.allSatisfy(Digest.isLowerHex) else { throw OCIError.invalidDigest(string) }
        default:
            break
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// A sha256 digest of 64 lowercase hex digits; throws when `hex` is not one.
    public init(sha256Hex hex: String) throws {
        try self.init(parsing: "sha256:" + hex)
    }

    /// The sha256 digest of `bytes`.
    public static func sha256<Bytes: Sequence>(of bytes: Bytes) -> Digest where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return Digest(trustedSHA256: hasher.finalize())
    }

    /// Builds a digest from a finished SHA-256 hash.
    public init(trustedSHA256 hash: SHA256.Digest) {
        self.algorithm = "sha256"
        self.encoded = hash.map { Digest.hexByte($0) }.joined()
    }

    /// Whether Berth can recompute this digest (sha256 or sha512) and so may trust content by it.
    public var isVerifiable: Bool { algorithm == "sha256" || algorithm == "sha512" }

    public var description: String { "\(algorithm):\(encoded)" }

    /// The first 12 hex digits, as docker shows image and container IDs.
    public var shortID: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func isValidAlgorithm(_ s: String) -> Bool {
        // [a-z0-9]+([+._-][a-z0-9]+)*
        var previousWasSeparator = true
        for byte in s.utf8 {
            let alnum = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
            let separator = byte == 0x2b || byte == 0x2e || byte == 0x5f || byte == 0x2d
            if alnum { previousWasSeparator = false } else if separator && !previousWasSeparator { previousWasSeparator = true } else { return false }
        }
        return !s.isEmpty && !previousWasSeparator
    }

    private static func isEncodedByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x3d || b == 0x5f || b == 0x2d
    }

    private static func isLowerHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) }

    private static let hexDigits = Array("0123456789abcdef")
    private static func hexByte(_ b: UInt8) -> String {
        String([hexDigits[Int(b >> 4)], hexDigits[Int(b & 0x0f)]])
    }
}

/// Computes a sha256 digest over data fed in pieces, e.g. while streaming a blob to disk.
public struct DigestHasher: Sendable {
    private var hasher = SHA256()
    /// Bytes fed so far.
    public private(set) var count: Int64 = 0

    public init() {}

    /// Feeds the next piece of the content.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }

    /// The digest of everything fed so far.
    public func finalize() -> Digest { Digest(trustedSHA256: hasher.finalize()) }
}

/// The chain ID of a stack of layers (image-spec config.md, "Layer ChainID"):
/// `ChainID(L0) = DiffID(L0)`, `ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))`.
/// Returns one chain ID per prefix of `diffIDs`, in order.
public func chainIDs(of diffIDs: [Digest]) -> [Digest] {
    var result: [Digest] = []
    for diffID in diffIDs {
        if let parent = result.last {
            result.append(Digest.sha256(of: Array("\(parent) \(diffID)".utf8)))
        } else {
            result.append(diffID)
        }
    }
    return result
}
