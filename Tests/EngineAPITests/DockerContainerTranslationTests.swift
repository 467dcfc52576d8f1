#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import OCI
import Engine
import Testing
@testable import EngineAPI

/// docker's create body into Berth's spec and back into inspect's `Config` and `HostConfig`.
@Suite struct DockerContainerTranslationTests {
    private func record(_ spec: ContainerSpec) -> ContainerRecord {
        ContainerRecord(id: String(repeating: "ab", count: 32), name: "c", created: .zero, image: try! Digest(sha256Hex: String(repeating: "0", count: 64)), imageName: spec.image,
                        spec: spec, path: "sh", args: [], state: .created, restartCount: 0, runtime: "berth", parentChainID: nil)
    }

    @Test func aCreateBodyBecomesASpecAndComesBackInInspect() throws {
        let body = #"""
        {"Image": "busybox", "Cmd": "echo hi", "Env": ["A=1"], "Tty": true, "OpenStdin": true, "Labels": {"l": "v"},
         "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}, "StopSignal": "SIGUSR1", "StopTimeout": 3,
         "HostConfig": {"Binds": ["v:/v:ro"], "Memory": 8388608, "NanoCpus": 500000000, "CapAdd": ["NET_ADMIN"],
          "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}, "LogConfig": {"Type": "local", "Config": {"max-size": "1m"}},
          "Mounts": [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 4096}}], "Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 20}],
          "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/n", "CgroupPermissions": "rw"}], "PidMode": "host",
          "ConsoleSize": [24, 80], "Init": true, "AutoRemove": false, "ReadonlyRootfs": true}}
        """#
        let config = try JSONDecoder().decode(ContainerConfig.self, from: Data(body.utf8))
        let spec = try DockerContainerTranslation.spec(from: config)
        #expect(spec.image == "busybox" && spec.process.cmd == ["echo hi"] && spec.process.entrypoint == nil)
        #expect(spec.process.tty && spec.process.openStdin && spec.process.env == ["A=1"])
        #expect(spec.exposedPorts == ["80/tcp"] && spec.storage.volumes == ["/data"] && spec.storage.binds == ["v:/v:ro"])
        #expect(spec.storage.mounts.first?.kind == .tmpfs && spec.storage.mounts.first?.tmpfsSize == 4096 && spec.storage.readOnlyRootfs)
        #expect(spec.resources.memory == 8_388_608 && spec.resources.nanoCpus == 500_000_000)
        #expect(spec.resources.ulimits == [ProcessLimit(name: "nofile", soft: 10, hard: 20)])
        #expect(spec.security.capAdd == ["NET_ADMIN"] && spec.security.devices == [DeviceRequest(pathOnHost: "/dev/null", pathInContainer: "/dev/n", permissions: "rw")])
        #expect(spec.restartPolicy == .onFailure(maximumRetries: 2) && spec.log == LogSpec(driver: "local", options: ["max-size": "1m"]))
        #expect(spec.namespaces.pid == "host" && spec.consoleSize == TerminalSize(rows: 24, columns: 80) && spec.runsInit)

        let host = DockerContainerTranslation.hostConfig(of: record(spec))
        #expect(host.Binds == ["v:/v:ro"] && host.Memory == 8_388_608 && host.NanoCpus == 500_000_000 && host.CpuShares == 0)
        #expect(host.RestartPolicy == RestartPolicy(Name: "on-failure", MaximumRetryCount: 2))
        #expect(host.LogConfig == LogConfig(Type: "local", Config: ["max-size": "1m"]))
        #expect(host.Mounts?.first?.TmpfsOptions?.SizeBytes == 4096 && host.Ulimits?.first?.Name == "nofile")
        #expect(host.PidMode == "host" && host.IpcMode == "private" && host.ConsoleSize == [24, 80] && host.Init == true)
        #expect(host.ShmSize == 67_108_864 && host.ReadonlyRootfs == true && host.Runtime == "berth")
        let shown = DockerContainerTranslation.config(of: record(spec))
        #expect(shown.Cmd == ["echo hi"] && shown.Image == "busybox" && shown.Hostname == String(repeating: "ab", count: 6))
        #expect(shown.ExposedPorts?.keys.sorted() == ["80/tcp"] && shown.StopSignal == "SIGUSR1" && shown.StopTimeout == 3)
    }

    @Test func endpointSettingsBecomeJoinsLedByTheModesNetwork() throws {
        let body = #"""
        {"Image": "x", "HostConfig": {"NetworkMode": "front", "Links": ["db:database"]},
         "NetworkingConfig": {"EndpointsConfig": {"back": {"Aliases": ["b"]},
          "front": {"Aliases": ["web", "www"], "IPAMConfig": {"IPv4Address": "10.1.0.9"}, "Links": ["cache"]}}}}
        """#
        let spec = try DockerContainerTranslation.spec(from: JSONDecoder().decode(ContainerConfig.self, from: Data(body.utf8)))
        #expect(spec.network.mode == "front")
        #expect(spec.network.joins == [NetworkJoin(network: "front", aliases: ["web", "www"], address: IPv4Address("10.1.0.9")),
                                       NetworkJoin(network: "back", aliases: ["b"])])
        #expect(spec.network.links == ["db:database", "cache"])
        #expect(DockerContainerTranslation.hostConfig(of: record(spec)).Links == ["/db:/c/database", "/cache:/c/cache"])

        // An SDK that names one network and no mode means that network; docker's CLI names the
        // default network's endpoint `default`.
        let sdk = try DockerContainerTranslation.spec(from: JSONDecoder().decode(ContainerConfig.self, from: Data(
            #"{"Image": "x", "NetworkingConfig": {"EndpointsConfig": {"only": {"Aliases": ["a"]}}}}"#.utf8)))
        #expect(sdk.network.mode == "only" && sdk.network.joins.map(\.network) == ["only"])
        let cli = try DockerContainerTranslation.spec(from: JSONDecoder().decode(ContainerConfig.self, from: Data(
            #"{"Image": "x", "HostConfig": {"NetworkMode": "default"}, "NetworkingConfig": {"EndpointsConfig": {"default": {}}}}"#.utf8)))
        #expect(cli.network.mode == "default" && cli.network.joins.map(\.network) == ["default"])

        let six = try JSONDecoder().decode(NetworkingConfigBody.EndpointBody.self, from: Data(#"{"IPAMConfig": {"IPv6Address": "fd00::2"}}"#.utf8))
        #expect(try DockerContainerTranslation.join("n", six).address6 == IPv6Address("fd00::2"))
        for bad in [#"{"IPAMConfig": {"IPv4Address": "10.1.0.300"}}"#, #"{"IPAMConfig": {"IPv6Address": "fd00::zz"}}"#, #"{"IPAMConfig": {"IPv6Address": "10.0.0.1"}}"#] {
            let endpoint = try JSONDecoder().decode(NetworkingConfigBody.EndpointBody.self, from: Data(bad.utf8))
            #expect(throws: EngineError.self) { try DockerContainerTranslation.join("n", endpoint) }
        }
    }

    @Test func anEmptyBodyShowsDockersDefaults() throws {
        let spec = try DockerContainerTranslation.spec(from: JSONDecoder().decode(ContainerConfig.self, from: Data(#"{"Image": "x"}"#.utf8)))
        let host = DockerContainerTranslation.hostConfig(of: record(spec))
        #expect(host.RestartPolicy == RestartPolicy(Name: "no", MaximumRetryCount: 0))
        #expect(host.LogConfig?.Type == "json-file" && host.Binds == nil && host.CapAdd == nil && host.Init == nil)
        #expect(DockerContainerTranslation.config(of: record(spec)).StopSignal == nil)
    }

    @Test func badPoliciesAndMountsAreRefusedAtTheEdge() {
        var config = ContainerConfig()
        config.HostConfig = HostConfig()
        config.HostConfig?.RestartPolicy = RestartPolicy(Name: "sometimes", MaximumRetryCount: nil)
        #expect(throws: EngineError.self) { try DockerContainerTranslation.spec(from: config) }
        config.HostConfig?.RestartPolicy = nil
        config.HostConfig?.Mounts = [MountSpec(Type: "nfs", Source: nil, Target: "/b", ReadOnly: nil)]
        #expect(throws: EngineError.self) { try DockerContainerTranslation.spec(from: config) }
    }

    @Test func anUpdateBodyChangesLimitsAndThePolicyOnlyWhenNamed() throws {
        let body = try JSONDecoder().decode(HostConfig.self, from: Data(#"{"Memory": 16777216, "RestartPolicy": {"Name": ""}}"#.utf8))
        let (limits, policy) = try DockerContainerTranslation.update(from: body)
        #expect(limits.memory == 16_777_216 && limits.cpuShares == nil && policy == nil)
        let always = try DockerContainerTranslation.update(from: JSONDecoder().decode(HostConfig.self, from: Data(#"{"RestartPolicy": {"Name": "always"}}"#.utf8)))
        #expect(always.1 == .always)
    }

    @Test func mountOptionsOfEachType() throws {
        var spec = MountSpec(Type: "tmpfs", Source: nil, Target: "/t", ReadOnly: nil)
        spec.TmpfsOptions = .init(SizeBytes: 1_048_576, Mode: 0o1777)
        let t = try DockerContainerTranslation.mountRequest(spec)
        #expect(t.tmpfsSize == 1_048_576 && t.tmpfsMode == 0o1777)
        var bind = MountSpec(Type: "bind", Source: "/src", Target: "/b", ReadOnly: true)
        bind.BindOptions = .init(Propagation: "rslave", NonRecursive: true, CreateMountpoint: nil)
        let b = try DockerContainerTranslation.mountRequest(bind)
        #expect(b.readOnly && !b.recursive && b.propagation == "rslave" && !b.createsBindSource)
        var volume = MountSpec(Type: "volume", Source: nil, Target: "/v", ReadOnly: nil)
        volume.VolumeOptions = .init(NoCopy: true, Labels: ["a": "b"], DriverConfig: .init(Name: "local", Options: ["type": "tmpfs", "device": "tmpfs"]), Subpath: nil)
        let v = try DockerContainerTranslation.mountRequest(volume)
        #expect(v.source == nil && !v.copyData && v.volumeLabels == ["a": "b"] && v.volumeOptions["type"] == "tmpfs")
    }

    @Test func mountFieldsThatDoNotBelongAreRefused() {
        var tmpfs = MountSpec(Type: "tmpfs", Source: "x", Target: "/t", ReadOnly: nil)
        #expect(throws: EngineError.self) { try DockerContainerTranslation.mountRequest(tmpfs) }
        tmpfs.Source = nil
        tmpfs.BindOptions = .init(Propagation: nil, NonRecursive: true, CreateMountpoint: nil)
        #expect(throws: EngineError.self) { try DockerContainerTranslation.mountRequest(tmpfs) }
        #expect(throws: EngineError.self) { try DockerContainerTranslation.mountRequest(MountSpec(Type: "bind", Source: nil, Target: "/b", ReadOnly: nil)) }
        #expect(throws: EngineError.self) { try DockerContainerTranslation.mountRequest(MountSpec(Type: "bind", Source: "rel", Target: "/b", ReadOnly: nil)) }
        #expect(throws: EngineError.self) { try DockerContainerTranslation.mountRequest(MountSpec(Type: "nfs", Source: nil, Target: "/b", ReadOnly: nil)) }
    }

    @Test func mountRequestsShowAsDockerMounts() throws {
        var volume = MountSpec(Type: "volume", Source: "data", Target: "/v", ReadOnly: true)
        volume.VolumeOptions = .init(NoCopy: true, Labels: nil, DriverConfig: nil, Subpath: nil)
        let shown = DockerContainerTranslation.mountSpec(try DockerContainerTranslation.mountRequest(volume))
        #expect(shown.Type == "volume" && shown.Source == "data" && shown.Target == "/v" && shown.ReadOnly == true)
        #expect(shown.VolumeOptions?.NoCopy == true && shown.BindOptions == nil)
    }
}
