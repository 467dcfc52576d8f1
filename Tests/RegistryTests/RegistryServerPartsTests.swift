import Testing
import OCI
@testable import Registry
@testable import RegistryServer

@Suite struct ByteRangeTests {
    @Test func servesSingleRangesInsideTheBlob() throws {
        #expect(try ByteRange.requested("bytes=0-9", size: 100) == ByteRange(start: 0, end: 9))
        #expect(try ByteRange.requested("bytes=90-", size: 100) == ByteRange(start: 90, end: 99))
        #expect(try ByteRange.requested("bytes=-10", size: 100) == ByteRange(start: 90, end: 99))
        // An end past the blob is clamped (RFC 9110 §14.1.2).
        #expect(try ByteRange.requested("bytes=50-1000", size: 100) == ByteRange(start: 50, end: 99))
    }

    @Test func ignoresWhatItDoesNotServe() throws {
        #expect(try ByteRange.requested(nil, size: 100) == nil)
        #expect(try ByteRange.requested("items=0-1", size: 100) == nil)
        #expect(try ByteRange.requested("bytes=0-1,5-6", size: 100) == nil)
        #expect(try ByteRange.requested("bytes=9-2", size: 100) == nil)
    }

    @Test func refusesRangesOutsideTheBlob() {
        #expect(throws: RegistryServerError.rangeNotSatisfiable(size: 100)) { try ByteRange.requested("bytes=100-", size: 100) }
        #expect(throws: RegistryServerError.rangeNotSatisfiable(size: 0)) { try ByteRange.requested("bytes=-5", size: 0) }
    }

    @Test func parsesUploadContentRanges() throws {
        #expect(try ByteRange.uploadChunk("0-1023") == ByteRange(start: 0, end: 1023))
        #expect(try ByteRange.uploadChunk("bytes 1024-2047/*") == ByteRange(start: 1024, end: 2047))
        for bad in ["", "5", "a-b", "10-5", "-1-3"] {
            #expect(throws: RegistryServerError.self) { try ByteRange.uploadChunk(bad) }
        }
        #expect(ByteRange.uploadProgress(offset: 0) == "0-0")
        #expect(ByteRange.uploadProgress(offset: 10) == "0-9")
    }
}

@Suite struct PaginationTests {
    @Test func pagesInLexicalOrderAfterLast() throws {
        let names = ["c", "a", "d", "b"]
        let first = try Pagination(query: ["n": "2"])
        #expect(first.page(names).entries == ["a", "b"])
        #expect(first.page(names).more)
        #expect(first.link(path: "/v2/x/tags/list", after: ["a", "b"]) == "</v2/x/tags/list?n=2&last=b>; rel=\"next\"")
        let second = try Pagination(query: ["n": "2", "last": "b"])
        #expect(second.page(names).entries == ["c", "d"])
        #expect(!second.page(names).more)
        #expect(try Pagination(query: [:]).page(names).entries == ["a", "b", "c", "d"])
        #expect(try Pagination(query: ["n": "0"]).page(names).entries == [])
    }

    @Test func refusesANegativeOrNonNumericN() {
        #expect(throws: RegistryServerError.self) { try Pagination(query: ["n": "-1"]) }
        #expect(throws: RegistryServerError.self) { try Pagination(query: ["n": "lots"]) }
    }
}

@Suite struct RegistryRouteTests {
    @Test func routesEveryEndpoint() {
        #expect(RegistryRoute.parse(path: "/v2/") == .base)
        #expect(RegistryRoute.parse(path: "/v2") == .base)
        #expect(RegistryRoute.parse(path: "/v2/_catalog") == .catalog)
        #expect(RegistryRoute.parse(path: "/v2/a/b/tags/list") == .tags(name: "a/b"))
        #expect(RegistryRoute.parse(path: "/v2/a/b/manifests/latest") == .manifest(name: "a/b", reference: "latest"))
        #expect(RegistryRoute.parse(path: "/v2/a/blobs/sha256:00") == .blob(name: "a", digest: "sha256:00"))
        #expect(RegistryRoute.parse(path: "/v2/a/blobs/uploads/") == .uploads(name: "a"))
        #expect(RegistryRoute.parse(path: "/v2/a/blobs/uploads") == .uploads(name: "a"))
        #expect(RegistryRoute.parse(path: "/v2/a/blobs/uploads/abc") == .upload(name: "a", id: "abc"))
        #expect(RegistryRoute.parse(path: "/v2/a/referrers/sha256:00") == .referrers(name: "a", digest: "sha256:00"))
    }

    @Test func refusesPathsOutsideTheAPI() {
        #expect(RegistryRoute.parse(path: "/v1/a/tags/list") == nil)
        #expect(RegistryRoute.parse(path: "/v2/manifests/x") == nil)
        #expect(RegistryRoute.parse(path: "/v2/a/tags/list/") == nil)
        #expect(RegistryRoute.parse(path: "/v2/a/unknown/x") == nil)
    }
}

@Suite struct RegistryNamesTests {
    @Test func acceptsTheSpecsNames() throws {
        for name in ["a", "library/busybox", "a.b/c_d/e__f/g-h", "x--y/1"] { try RegistryNames.validateName(name) }
    }

    @Test func refusesHostileNames() {
        for name in ["", "../x", "a/../b", "A", "Foo/bar", "a//b", "/a", "a/", ".", "a/.", "a%2f..", "_x", "a b", String(repeating: "a", count: 256)] {
            #expect(throws: RegistryServerError.nameInvalid(name: name)) { try RegistryNames.validateName(name) }
        }
    }

    @Test func tellsTagsFromDigestsAndRefusesBadOnes() throws {
        #expect(try RegistryNames.reference("v1.0_x-y") == .tag("v1.0_x-y"))
        let hex = String(repeating: "a", count: 64)
        #expect(try RegistryNames.reference("sha256:" + hex) == .digest(try Digest(sha256Hex: hex)))
        for bad in ["..", ".hidden", "a/b", "-x", String(repeating: "t", count: 129)] {
            #expect(throws: RegistryServerError.self) { try RegistryNames.reference(bad) }
        }
        for bad in ["sha256:../../etc", "sha256:ABC", "md5:00", "sha512:" + String(repeating: "a", count: 128)] {
            #expect(throws: RegistryServerError.self) { try RegistryNames.reference(bad) }
        }
        #expect(throws: RegistryServerError.self) { try RegistryNames.validateUploadID("../../x") }
        try RegistryNames.validateUploadID(String(repeating: "0", count: 32))
    }
}

@Suite struct ServerRequestTests {
    @Test func decodesTheQuery() {
        let request = ServerRequest(method: .POST, uri: "/v2/a/blobs/uploads/?digest=sha256%3Aab&mount=&from=x+y", headers: [:])
        #expect(request.path == "/v2/a/blobs/uploads/")
        #expect(request.query["digest"] == "sha256:ab")
        #expect(request.query["mount"] == "")
        #expect(request.query["from"] == "x y")
    }

    @Test func errorsHaveTheSpecsShapeAndStatus() {
        let error = RegistryServerError.blobUnknown(digest: "sha256:00")
        #expect(error.status == .notFound)
        #expect(String(decoding: error.body, as: UTF8.self).hasPrefix(#"{"errors":[{"code":"BLOB_UNKNOWN","detail":{},"message":"blob sha256:00"#))
        #expect(RegistryServerError.blobUploadInvalid(reason: "x", rangeNotSatisfiable: true).status == .rangeNotSatisfiable)
        #expect(RegistryServerError.manifestTooLarge(limit: 1).status == .payloadTooLarge)
    }
}

@Suite struct TemporaryNameTests {
    @Test func leftoverAtomicWriteFilesAreNotTags() {
        #expect(RegistryStorage.isTemporary("v1.tmp-1234-987654321"))
        #expect(RegistryStorage.isTemporary("1.0.tmp-1-2"))
        #expect(!RegistryStorage.isTemporary("v1.tmp"))
        #expect(!RegistryStorage.isTemporary("v1.tmp-x-2"))
        #expect(!RegistryStorage.isTemporary("latest"))
    }
}
