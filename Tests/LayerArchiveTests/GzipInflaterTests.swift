import Glibc
@testable import LayerArchive
import ContentDigest
import OCI
import Testing

/// igzip's gzip path: what zlib accepts it accepts, and what is damaged it refuses by name.
@Suite struct GzipInflaterTests {
    static let sample: [FixtureEntry] = [.dir("etc"), .file("etc/hostname", "berth\n"), .file("etc/motd", String(repeating: "hello ", count: 5000))]

    private func gzipped(_ sandbox: Sandbox) -> (plain: String, gz: String) {
        let plain = sandbox.layer(Self.sample, name: "plain.tar")
        system("gzip -c \(plain) > \(plain).gz")
        return (plain, plain + ".gz")
    }

    @Test func concatenatedMembersAndZeroPaddingDecodeToTheWholeTar() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let (plain, _) = gzipped(sandbox)
        // The tar split in two gzip members (as pigz or a resumed writer may produce), then
        // zero padding after the last member.
        system("head -c 4096 \(plain) | gzip -c > \(plain).two && tail -c +4097 \(plain) | gzip -c >> \(plain).two && head -c 512 /dev/zero >> \(plain).two")
        let result = try LayerApplier().apply(layerAt: plain + ".two", to: sandbox.target)
        #expect(result.diffID == Digest.sha256(of: try #require(readBytes(plain))))
        #expect(readText(sandbox.target + "/etc/hostname") == "berth\n")
    }

    @Test func truncatedDataIsRefused() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let (_, gz) = gzipped(sandbox)
        system("head -c 200 \(gz) > \(gz).cut")
        #expect(throws: LayerError.self) { try LayerApplier().apply(layerAt: gz + ".cut", to: sandbox.target) }
    }

    @Test func aWrongChecksumIsRefused() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let (_, gz) = gzipped(sandbox)
        // The CRC32 is the 8 bytes before the end's ISIZE: flip one of its bytes.
        system("size=$(stat -c %s \(gz)); printf '\\\\377' | dd of=\(gz) bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null")
        do {
            _ = try LayerApplier().apply(layerAt: gz, to: sandbox.target)
            Issue.record("a corrupted CRC was accepted")
        } catch let error as LayerError {
            #expect("\(error)".contains("checksum"))
        }
    }

    @Test func garbageAfterTheDataIsRefused() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let (_, gz) = gzipped(sandbox)
        system("printf 'not gzip' >> \(gz)")
        do {
            _ = try LayerApplier().apply(layerAt: gz, to: sandbox.target)
            Issue.record("trailing garbage was accepted")
        } catch let error as LayerError {
            #expect("\(error)".contains("trailing garbage"))
        }
    }
}

/// Layers read from a pipe as they arrive (a download feeding the unpack).
@Suite struct StreamedLayerTests {
    @Test(arguments: [LayerCompression.gzip, .zstd, .plain])
    func aPipeGivesTheSameLayerAndDiffIDAsTheFile(compression: LayerCompression) throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let plain = sandbox.layer(GzipInflaterTests.sample, name: "plain.tar")
        let compressed = sandbox.layer(GzipInflaterTests.sample, name: "layer.x", compression: compression)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        // A writer on its own thread, as the download is.
        let writer = Thread { fd in
            if let bytes = readBytes(compressed) {
                _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            }
            close(fd)
        }
        writer.start(fds[1])
        let result = try LayerApplier().apply(.stream(fd: fds[0], name: "streamed", gzip: compression == .gzip), to: sandbox.target)
        close(fds[0])
        writer.join()
        #expect(result.diffID == Digest.sha256(of: try #require(readBytes(plain))))
        #expect(readText(sandbox.target + "/etc/hostname") == "berth\n")
    }

    @Test func aStreamCutShortIsRefused() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let compressed = sandbox.layer(GzipInflaterTests.sample, name: "layer.gz", compression: .gzip)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writer = Thread { fd in
            if let bytes = readBytes(compressed) {
                _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count / 2) }
            }
            close(fd)
        }
        writer.start(fds[1])
        #expect(throws: LayerError.self) { try LayerApplier().apply(.stream(fd: fds[0], name: "cut", gzip: true), to: sandbox.target) }
        close(fds[0])
        writer.join()
    }
}

/// A pthread running `body(argument)`; enough for a test's second writer.
final class Thread: @unchecked Sendable {
    private let body: (Int32) -> Void
    private var thread = pthread_t()
    private var argument: Int32 = -1

    init(_ body: @escaping (Int32) -> Void) { self.body = body }

    func start(_ argument: Int32) {
        self.argument = argument
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<Thread>.fromOpaque(raw!).takeRetainedValue()
            me.body(me.argument)
            return nil
        }, context)
    }

    func join() { pthread_join(thread, nil) }
}
