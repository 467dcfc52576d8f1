import NIOCore
import NIOHTTP1
import Testing
@testable import EngineAPI

@Suite struct RequestTargetTests {
    @Test func versionPathAndQueryAreSplit() {
        let t = RequestTarget.parse("/v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fexample%2Fbb&tag=1&changes=A&changes=B")
        #expect(t.version == "1.41")
        #expect(t.path == "/images/create")
        #expect(t.query["fromImage"] == ["127.0.0.1:5000/example/bb"])
        #expect(t.query["changes"] == ["A", "B"])
    }

    @Test func unversionedPathsStayAsTheyAre() {
        let t = RequestTarget.parse("/_ping")
        #expect(t.version == nil)
        #expect(t.path == "/_ping")
    }

    @Test func plusIsASpaceInQueriesOnly() {
        let t = RequestTarget.parse("/commit?comment=a+b")
        #expect(t.query["comment"] == ["a b"])
    }
}

@Suite struct RouterTests {
    func request(_ method: HTTPMethod, _ path: String) -> APIRequest {
        APIRequest(method: method, path: path, version: nil, query: [:], headers: [:], body: .none)
    }

    func status(_ response: APIResponse) -> HTTPResponseStatus? {
        if case .data(let s, _, _, _) = response { return s }
        if case .empty(let s) = response { return s }
        return nil
    }

    @Test func greedyImageNamesWithSlashesAndPorts() async {
        var router = Router()
        router.add(.GET, "/images/{name*}/json") { _, p in .data(.ok, contentType: "text/plain", body: Array((p["name"] ?? "").utf8)) }
        let r = await router.respond(to: request(.GET, "/images/127.0.0.1:5000/example/bb:1/json"))
        guard case .data(_, _, let body, _) = r else { Issue.record("expected data"); return }
        #expect(String(decoding: body, as: UTF8.self) == "127.0.0.1:5000/example/bb:1")
    }

    @Test func unknownPathIs404AndWrongMethodIs405() async {
        var router = Router()
        router.add(.POST, "/containers/{id}/start") { _, _ in .empty(.noContent) }
        #expect(status(await router.respond(to: request(.GET, "/nothing"))) == .notFound)
        #expect(status(await router.respond(to: request(.GET, "/containers/x/start"))) == .methodNotAllowed)
        #expect(status(await router.respond(to: request(.POST, "/containers/x/start"))) == .noContent)
    }

    @Test func tooNewVersionIsRefused() async {
        let router = Router()
        var r = request(.GET, "/version")
        r.version = APIVersion(major: 1, minor: 99)
        #expect(status(await router.respond(to: r)) == .badRequest)
    }
}

@Suite struct StdCopyTests {
    @Test func frameHeaderCarriesStreamAndBigEndianLength() {
        let frame = StdCopy.frame(stream: 2, Array(repeating: 0x61, count: 258))
        #expect(Array(frame.prefix(8)) == [2, 0, 0, 0, 0, 0, 1, 2])
        #expect(frame.count == 266)
    }
}
