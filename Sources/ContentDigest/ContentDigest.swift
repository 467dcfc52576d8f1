import COpenSSL
import Glibc
import OCI

// SHA-256 through OpenSSL's libcrypto (Debian's libssl-dev): it uses the CPU's SHA extensions,
// and unlike swift-crypto it does not pull all of Foundation into every binary that hashes.
// The SHA256_* functions, not EVP: same code, without EVP's ~2 MiB of provider set-up.

extension Digest {
    /// The sha256 digest of `bytes`.
    public static func sha256<Bytes: Sequence>(of bytes: Bytes) -> Digest where Bytes.Element == UInt8 {
        let hasher = DigestHasher()
        Array(bytes).withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// The sha256 digest and size of the file at `path`, read in 1 MiB pieces; nil with errno
    /// set when it cannot be opened or read.
    public static func sha256(ofFileAt path: String) -> (digest: Digest, size: Int64)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let hasher = DigestHasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return (hasher.finalize(), hasher.count) }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}

/// Computes a sha256 digest over data fed in pieces, e.g. while streaming a blob to disk.
/// A reference type: copies share one running hash. Used by one task at a time.
public final class DigestHasher {
    private let context: UnsafeMutablePointer<SHA256_CTX>
    /// Bytes fed so far.
    public private(set) var count: Int64 = 0

    public init() {
        context = .allocate(capacity: 1)
        SHA256_Init(context)
    }

    deinit { context.deallocate() }

    /// Feeds the next piece of the content.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        SHA256_Update(context, base, bytes.count)
        count += Int64(bytes.count)
    }

    /// Feeds the UTF-8 bytes of `text`.
    public func update(text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of everything fed so far; more may be fed afterwards.
    public func finalize() -> Digest {
        var output = [UInt8](repeating: 0, count: 32)
        var copy = context.pointee
        SHA256_Final(&output, &copy)
        return Digest(sha256Hash: output)
    }
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
