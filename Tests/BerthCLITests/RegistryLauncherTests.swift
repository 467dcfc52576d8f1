import Testing
@testable import BerthCLI

@Suite struct RegistryLauncherTests {
    @Test func prefersTheServerBesideBerthThenPath() {
        let installed: Set<String> = ["/opt/berth/bin/berth-registry", "/usr/bin/berth-registry"]
        #expect(RegistryLauncher.locate(besides: "/opt/berth/bin", searchPath: "/usr/bin", isExecutable: installed.contains) == "/opt/berth/bin/berth-registry")
        #expect(RegistryLauncher.locate(besides: "/elsewhere", searchPath: "/sbin::/usr/bin", isExecutable: installed.contains) == "/usr/bin/berth-registry")
        #expect(RegistryLauncher.locate(besides: nil, searchPath: nil, isExecutable: installed.contains) == nil)
    }

    @Test func passesEveryArgumentThrough() throws {
        let command = try #require(try Berth.parseAsRoot(["registry", "serve", "--addr", "127.0.0.1:0", "--root", "/tmp/x", "--upload-timeout", "5"]) as? RegistryServe)
        #expect(command.arguments == ["--addr", "127.0.0.1:0", "--root", "/tmp/x", "--upload-timeout", "5"])
        let gc = try #require(try Berth.parseAsRoot(["registry", "gc", "--root", "/r", "--delete-untagged"]) as? RegistryGC)
        #expect(gc.arguments == ["--root", "/r", "--delete-untagged"])
    }
}
