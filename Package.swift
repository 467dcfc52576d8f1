// swift-tools-version: 6.1
// Berth: a container engine for Linux. Targets follow DESIGN.md's module table.
import PackageDescription

let package = Package(
    name: "Berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
        .executable(name: "berthd", targets: ["berthd"]),
        .executable(name: "berth-runtime", targets: ["berth-runtime"]),
        .executable(name: "berth-monitor", targets: ["berth-monitor"]),
        .executable(name: "berth-registry", targets: ["berth-registry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // TLS: the registry client (HTTPS registries) and `berth-registry serve --tls-cert`.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // The embedded replication queue (SQLite in WAL mode).
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // Replication metrics on /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C: syscalls Glibc does not expose, and code that must run before the Swift runtime.
        .target(name: "CBerthSys"),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CIsal", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        .target(name: "BerthSystem", dependencies: ["CBerthSys"]),
        .target(name: "OCI"),
        .target(name: "ContentDigest", dependencies: ["OCI", "COpenSSL"]),
        .target(name: "ContentStore", dependencies: ["OCI", "ContentDigest", "BerthSystem", "CBerthSys"]),
        .target(name: "LayerArchive", dependencies: ["OCI", "ContentDigest", "BerthSystem", "CArchive", "CIsal", "CBerthSys"]),
        .target(name: "Snapshots", dependencies: ["OCI", "ContentDigest", "BerthSystem", "LayerArchive", "CBerthSys"]),
        .target(name: "Runtime", dependencies: ["OCI", "BerthSystem", "CBerthSys", "CSeccomp"]),
        .target(name: "Registry", dependencies: [
            "OCI", "ContentDigest", "ContentStore", "BerthSystem",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Registry replication: the durable queue (SQLite embedded, PostgreSQL shared), the forwarder
        // and its destinations.
        .target(name: "Replication", dependencies: [
            "Registry", "OCI", "ContentStore", "CPostgres",
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The registry server (`berth-registry`), apart from the client so berthd does not carry it.
        .target(name: "RegistryServer", dependencies: [
            "Registry", "Replication", "OCI", "ContentDigest", "ContentStore", "BerthSystem", "CCrypt",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // docker's config.json logins and credential helpers, shared by berth and berth-registry.
        .target(name: "DockerConfig", dependencies: ["BerthSystem", "CBerthSys", "OCI"]),
        // Dockerfiles, .dockerignore and build-context path rules: pure parsing, no files or processes.
        .target(name: "Builder"),
        .target(name: "Engine", dependencies: ["OCI", "ContentDigest", "BerthSystem", "ContentStore", "LayerArchive", "Snapshots", "Registry", "Runtime", "Builder", "CBerthSys"]),
        .target(name: "EngineAPI", dependencies: [
            "Engine", "OCI", "BerthSystem", "Registry",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),

        .executableTarget(name: "berthd", dependencies: [
            "EngineAPI", "Engine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: compactExecutable),
        .target(name: "BerthCLI", dependencies: [
            "OCI", "BerthSystem", "CBerthSys", "LayerArchive", "Builder", "DockerConfig",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "berth", dependencies: ["BerthCLI"]),
        .executableTarget(name: "berth-runtime", dependencies: [
            "Runtime", "OCI", "BerthSystem",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: compactExecutable),
        .executableTarget(name: "berth-monitor", dependencies: ["BerthSystem", "CBerthSys", "Runtime"]),
        .executableTarget(name: "berth-registry", dependencies: [
            "RegistryServer", "Registry", "Replication", "DockerConfig", "BerthSystem",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: compactExecutable),

        // Fuzz targets for every parser of untrusted input: a replay driver in normal builds,
        // libFuzzer's with `scripts/fuzz.sh` (`--sanitize=fuzzer -DFUZZING`).
        .executableTarget(name: "berth-fuzz", dependencies: ["Engine", "EngineAPI", "LayerArchive", "OCI", "Registry", "Runtime", "BerthSystem"]),

        .testTarget(name: "BerthSystemTests", dependencies: ["BerthSystem"]),
        .testTarget(name: "BerthCLITests", dependencies: ["BerthCLI", "BerthSystem", "DockerConfig"]),
        .testTarget(name: "OCITests", dependencies: ["OCI", "ContentDigest"]),
        .testTarget(name: "ContentStoreTests", dependencies: ["ContentStore", "OCI", "ContentDigest"]),
        .testTarget(name: "LayerArchiveTests", dependencies: ["LayerArchive", "OCI", "ContentDigest", "CArchive"]),
        .testTarget(name: "SnapshotsTests", dependencies: ["Snapshots", "LayerArchive", "OCI", "ContentDigest"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "OCI", "BerthSystem"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "RegistryServer", "OCI", "ContentStore", "ContentDigest", "BerthSystem"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "OCI", "ContentStore", "BerthSystem", "LayerArchive", "Snapshots"]),
        .testTarget(name: "EngineAPITests", dependencies: ["EngineAPI", "Engine", "OCI", "BerthSystem", .product(name: "NIOCore", package: "swift-nio")]),
    ],
    swiftLanguageModes: [.v5]
)

/// Link settings of the dynamically linked executables (position-independent, so the kernel
/// still randomizes where they load): lld packs their ~60 000 relative relocations into a few
/// KiB of DT_RELR (glibc 2.36+) instead of 1.4 MiB that the loader reads at every start, and
/// the executables export no symbols nobody looks up. berthd starts with about 2.5 MiB less
/// resident (benchmarks/RESULTS.md).
var compactExecutable: [LinkerSetting] {
    [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"])]
}
