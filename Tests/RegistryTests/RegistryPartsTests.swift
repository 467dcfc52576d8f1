import Testing
@testable import OCI
@testable import Registry

@Suite struct AuthChallengeTests {
    @Test func bearerChallengeWithQuotedParameters() throws {
        let challenge = try #require(AuthChallenge(header: #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#))
        #expect(challenge.scheme == .bearer)
        #expect(challenge.realm == "https://auth.example/token")
        #expect(challenge.service == "registry.example")
        // A comma inside quotes belongs to the value.
        #expect(challenge.scope == "repository:a/b:pull,push")
    }

    @Test func basicChallengeAndSchemeCase() throws {
        let challenge = try #require(AuthChallenge(header: #"basic realm="Registry Realm""#))
        #expect(challenge.scheme == .basic)
        #expect(challenge.realm == "Registry Realm")
    }

    @Test func unknownSchemesAndBrokenQuotingAreRefused() {
        #expect(AuthChallenge(header: #"Negotiate abc"#) == nil)
        #expect(AuthChallenge(header: #"Bearer realm="unterminated"#) == nil)
        #expect(AuthChallenge(header: "") == nil)
    }
}

@Suite struct HTTPURLTests {
    @Test func parsesHostPortAndTarget() throws {
        let url = try HTTPURL(parsing: "http://127.0.0.1:5000/v2/a/b/blobs/sha256:00?x=1")
        #expect(!url.secure && url.host == "127.0.0.1" && url.port == 5000)
        #expect(url.target == "/v2/a/b/blobs/sha256:00?x=1")
        #expect(url.authority == "127.0.0.1:5000")
        let hub = try HTTPURL(parsing: "https://auth.docker.io/token")
        #expect(hub.secure && hub.port == 443 && hub.authority == "auth.docker.io")
        let v6 = try HTTPURL(parsing: "http://[::1]:8080")
        #expect(v6.host == "::1" && v6.port == 8080 && v6.target == "/" && v6.authority == "[::1]:8080")
    }

    @Test func resolvesRedirectLocations() throws {
        let base = try HTTPURL(parsing: "http://r.example:5000/v2/a/blobs/sha256:1")
        #expect(try base.resolving("/elsewhere?sig=2").description == "http://r.example:5000/elsewhere?sig=2")
        #expect(try base.resolving("https://cdn.example/blob").description == "https://cdn.example/blob")
        #expect(try base.resolving("//cdn.example/x").description == "http://cdn.example/x")
        #expect(try base.resolving("sibling").description == "http://r.example:5000/v2/a/blobs/sibling")
    }

    @Test func refusesOtherSchemesAndBadPorts() {
        #expect(throws: RegistryError.self) { try HTTPURL(parsing: "ftp://x/y") }
        #expect(throws: RegistryError.self) { try HTTPURL(parsing: "http://x:99999/") }
        #expect(throws: RegistryError.self) { try HTTPURL(parsing: "http://user@x/") }
    }
}

@Suite struct RegistryEndpointTests {
    @Test func dockerHubIsServedByRegistryOne() throws {
        let hub = try RegistryEndpoint(domain: "docker.io")
        #expect(hub.host == "registry-1.docker.io" && hub.secure)
        #expect(hub.url("/v2/").description == "https://registry-1.docker.io/v2/")
    }

    @Test func loopbackAndConfiguredRegistriesAreInsecure() throws {
        #expect(try !RegistryEndpoint(domain: "127.0.0.1:5000").secure)
        #expect(try !RegistryEndpoint(domain: "127.9.9.9").secure)
        #expect(try !RegistryEndpoint(domain: "localhost:5000").secure)
        #expect(try RegistryEndpoint(domain: "10.1.2.3:5000").secure)
        #expect(try !RegistryEndpoint(domain: "10.1.2.3:5000", insecureRegistries: ["10.0.0.0/8"]).secure)
        #expect(try !RegistryEndpoint(domain: "reg.lan:5000", insecureRegistries: ["reg.lan:5000"]).secure)
        #expect(try RegistryEndpoint(domain: "reg.lan:5001", insecureRegistries: ["reg.lan:5000"]).secure)
    }
}

@Suite struct ManifestMediaTypeTests {
    let manifest = Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}"#.utf8)

    @Test func contentTypeMustAgreeWithTheDocument() throws {
        #expect(try RegistryClient.mediaType(of: manifest, contentType: "application/vnd.oci.image.manifest.v1+json", shown: "x") == MediaType.ociManifest)
        #expect(throws: RegistryError.mediaTypeMismatch(contentType: MediaType.dockerManifest, documentType: MediaType.ociManifest)) {
            try RegistryClient.mediaType(of: manifest, contentType: MediaType.dockerManifest, shown: "x")
        }
        // A generic Content-Type defers to the document.
        #expect(try RegistryClient.mediaType(of: manifest, contentType: "application/json; charset=utf-8", shown: "x") == MediaType.ociManifest)
    }

    @Test func documentsWithoutMediaTypeAreToldApartByShape() throws {
        let index = Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
        #expect(try RegistryClient.mediaType(of: index, contentType: nil, shown: "x") == MediaType.ociIndex)
        #expect(throws: RegistryError.self) { try RegistryClient.mediaType(of: Array("not json".utf8), contentType: nil, shown: "x") }
    }
}

@Suite struct CredentialTests {
    @Test func basicAuthorizationAndBase64Variants() throws {
        #expect(RegistryCredentials(username: "alice", password: "secret").basicAuthorization == "Basic YWxpY2U6c2VjcmV0")
        // X-Registry-Auth arrives URL-safe and unpadded as often as not.
        #expect(Base64.decode("e30") == Array("{}".utf8))
        #expect(Base64.decode("e30=") == Array("{}".utf8))
        #expect(Base64.decode("-_8") == [0xfb, 0xff])
        #expect(Base64.decode("!!!") == nil)
    }

    @Test func tokenQueryValuesArePercentEncoded() {
        #expect(RegistryClient.percentEncoded("repository:a/b:pull,push") == "repository%3Aa%2Fb%3Apull%2Cpush")
    }
}

@Suite struct ReferrersPartsTests {
    @Test func referrersTagIsAlgorithmDashHex() throws {
        let digest = try Digest(parsing: "sha256:" + String(repeating: "ab", count: 32))
        #expect(RegistryClient.referrersTag(for: digest) == "sha256-" + String(repeating: "ab", count: 32))
    }

    @Test func artifactTypeFilterAppliesOnlyWhenTheRegistryDidNot() throws {
        let a = Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: "sha256:" + String(repeating: "a", count: 64)), size: 1,
                           artifactType: "application/spdx+json")
        let b = Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: "sha256:" + String(repeating: "b", count: 64)), size: 1,
                           artifactType: "application/vnd.example.sig")
        #expect(RegistryClient.only("application/spdx+json", in: [a, b], filtered: false) == [a])
        #expect(RegistryClient.only("application/spdx+json", in: [a, b], filtered: true) == [a, b])
        #expect(RegistryClient.only(nil, in: [a, b], filtered: false) == [a, b])
    }

    @Test func formFieldsArePercentEncoded() {
        #expect(RegistryClient.formEncoded([("scope", "repository:a/b:pull push"), ("k", "v&w=x")])
                == "scope=repository%3Aa%2Fb%3Apull%20push&k=v%26w%3Dx")
    }
}
