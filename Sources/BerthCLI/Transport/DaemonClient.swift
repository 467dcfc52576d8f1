import FoundationEssentials

/// The Engine API as the CLI uses it: versioned paths (`/v1.44/…`), JSON bodies, and daemon
/// errors (`{"message": …}`) turned into `CLIError.daemon`.
struct DaemonClient {
    /// The API version every path is prefixed with.
    static let apiVersion = "1.44"

    /// Where the daemon listens.
    let host: DaemonHost

    /// A response whose status was below 400; its body has not been read yet.
    struct Response {
        /// The connection, for hijacking after `101`.
        let connection: HTTPConnection
        /// Status and headers.
        let head: HTTPResponseHead
        /// The body reader.
        let body: ResponseBody
    }

    /// Sends a request and reads the response head. Statuses of 400 and above throw
    /// `CLIError.daemon` with the daemon's message.
    func send(_ method: String, _ path: String, query: Query = Query(), body: HTTPRequestBody = .none,
              headers: [(String, String)] = [], upgrade: Bool = false) throws -> Response {
        let connection = try begin(method, path, query: query, body: body, headers: headers, upgrade: upgrade)
        return try receive(connection, method: method)
    }

    /// Sends a request without waiting for the response, for requests whose answer comes later
    /// (`wait`, registered before `start`). Read it with `receive`.
    func begin(_ method: String, _ path: String, query: Query = Query(), body: HTTPRequestBody = .none,
               headers: [(String, String)] = [], upgrade: Bool = false) throws -> HTTPConnection {
        let connection = try HTTPConnection(socketPath: host.socketPath, host: host.address)
        let request = HTTPRequest(method: method, target: "/v\(DaemonClient.apiVersion)\(path)\(query.encoded)",
                                  headers: headers, body: body, upgrade: upgrade)
        try connection.send(request)
        return connection
    }

    /// Reads the response to a request sent with `begin`; statuses of 400 and above throw.
    func receive(_ connection: HTTPConnection, method: String) throws -> Response {
        let head = try connection.readHead()
        let reader = connection.body(for: head, method: method)
        if head.status >= 400 {
            let bytes = try reader.readAll()
            throw CLIError.daemon(status: head.status, message: DaemonClient.errorMessage(bytes, status: head.status))
        }
        return Response(connection: connection, head: head, body: reader)
    }

    /// Sends a request and returns the whole body.
    @discardableResult
    func call(_ method: String, _ path: String, query: Query = Query(), body: HTTPRequestBody = .none,
              headers: [(String, String)] = []) throws -> [UInt8] {
        try send(method, path, query: query, body: body, headers: headers).body.readAll()
    }

    /// Sends a request and decodes the PascalCase JSON body as `T`.
    func decode<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, query: Query = Query(),
                              body: HTTPRequestBody = .none) throws -> T {
        try DaemonClient.decodeJSON(T.self, from: call(method, path, query: query, body: body), what: "\(method) \(path)")
    }

    /// Decodes a PascalCase JSON body received for `what`.
    static func decodeJSON<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
        do {
            return try APICoding.decoder.decode(T.self, from: Data(bytes))
        } catch {
            throw CLIError.protocolViolation("unexpected JSON from \(what): \(error)")
        }
    }

    /// A JSON request body encoded from `value`.
    static func json<T: Encodable>(_ value: T) throws -> HTTPRequestBody {
        let data = try APICoding.encoder.encode(value)
        return .bytes(Array(data), contentType: "application/json")
    }

    /// The daemon's error text: `message` from a JSON body, else the body itself, else the status.
    static func errorMessage(_ body: [UInt8], status: Int) -> String {
        struct ErrorBody: Decodable { let message: String }
        if let decoded = try? APICoding.plainDecoder.decode(ErrorBody.self, from: Data(body)) {
            return decoded.message
        }
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: " \r\n\t")
        return text.isEmpty ? "status \(status)" : text
    }
}
