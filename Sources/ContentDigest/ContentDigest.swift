import Crypto
import OCI

extension OCI.Digest {
    /// The sha256 digest of `bytes`.
    public static func sha256<Bytes: Sequence>(of bytes: Bytes) -> OCI.Digest where Bytes.Element == UInt8 {
        OCI.Digest(sha256Hash: SHA256.hash(data: Array(bytes)))
    }
}

/// Computes a sha256 digest over data fed in pieces, e.g. while streaming a blob to disk.
public struct DigestHasher {
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
    public func finalize() -> OCI.Digest { OCI.Digest(sha256Hash: hasher.finalize()) }
}

/// The chain ID of a stack of layers (image-spec config.md, "Layer ChainID"):
/// `ChainID(L0) = DiffID(L0)`, `ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))`.
/// Returns one chain ID per prefix of `diffIDs`, in order.
public func chainIDs(of diffIDs: [OCI.Digest]) -> [OCI.Digest] {
    var result: [OCI.Digest] = []
    for diffID in diffIDs {
        if let parent = result.last {
            result.append(OCI.Digest.sha256(of: Array("\(parent) \(diffID)".utf8)))
        } else {
            result.append(diffID)
        }
    }
    return result
}
