#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// A sha256 digest from the 32 bytes of a finished SHA-256 hash (hex-encoded here, so
    /// this target needs no hashing library; `ContentDigest` computes hashes).
    public init<Bytes: Sequence>(sha256Hash bytes: Bytes) where Bytes.Element == UInt8 {
        self.algorithm = "sha256"
        self.encoded = bytes.map { Digest.hexByte($0) }.joined()
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
