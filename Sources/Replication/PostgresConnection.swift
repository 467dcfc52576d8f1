import CPostgres
import Glibc
import NIOPosix
import Synchronization

/// One libpq connection. Not safe to use from two threads at once: `PostgresPool` hands each
/// connection to one caller at a time, which is what makes the `@unchecked Sendable` true.
///
/// libpq (Debian's libpq-dev) rather than postgres-nio: the queue's calls are short
/// request/answer exchanges run on a thread pool, which libpq does well, and postgres-nio with
/// its dependencies would add minutes to every clean build (see DESIGN.md, "Differences").
final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Connects to `url` (a libpq connection URI, `postgres://user:password@host:port/database`).
    init(url: String, shownAs location: String) throws {
        guard let handle = PQconnectdb(url) else {
            throw ReplicationError.queueUnavailable(location: location, reason: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = PostgresConnection.message(PQerrorMessage(handle))
            PQfinish(handle)
            throw ReplicationError.queueUnavailable(location: location, reason: reason)
        }
        self.handle = handle
    }

    deinit { PQfinish(handle) }

    /// Whether the connection can still be used (the server did not go away).
    var isUsable: Bool { PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// Runs one statement with text parameters (`$1`, `$2`, …; nil is NULL), or several
    /// statements without parameters, and returns the (last) rows as text, or throws
    /// `PostgresFailure` with the server's message and SQLSTATE.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws -> PostgresRows {
        let result = parameters.isEmpty ? PQexec(handle, sql) : withCStrings(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        guard let result else { throw PostgresFailure(message: PostgresConnection.message(PQerrorMessage(handle)), state: nil) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresFailure(message: PostgresConnection.message(PQresultErrorMessage(result)), state: state)
        }
        var rows: [[String?]] = []
        let columns = PQnfields(result)
        for row in 0..<PQntuples(result) {
            rows.append((0..<columns).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(rows: rows, affected: affected)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// A deadlock or serialization failure is retried a few times, as PostgreSQL advises.
    func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            try execute("BEGIN")
            do {
                let value = try body(self)
                try execute("COMMIT")
                return value
            } catch let failure as PostgresFailure where failure.isRetryable && attempt < 5 {
                _ = try? execute("ROLLBACK")
            } catch {
                _ = try? execute("ROLLBACK")
                throw error
            }
        }
    }

    private func withCStrings<T>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { for copy in copies { free(copy) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }

    private static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown libpq error" }
        return String(cString: text).split(whereSeparator: \.isNewline).joined(separator: "; ")
    }
}

/// The rows a statement returned, as text, and how many rows it changed.
struct PostgresRows {
    var rows: [[String?]]
    var affected: Int
}

/// A statement PostgreSQL refused: its message and SQLSTATE.
struct PostgresFailure: Error, CustomStringConvertible {
    var message: String
    var state: String?

    /// Deadlocks and serialization failures, which succeed when tried again.
    var isRetryable: Bool { state == "40P01" || state == "40001" }

    var description: String { state.map { "\(message) (SQLSTATE \($0))" } ?? message }
}

/// Connections to one database, opened when needed and reused; blocking libpq calls run on
/// NIO's shared thread pool so no Swift concurrency thread waits on the network.
final class PostgresPool: Sendable {
    private let url: String
    /// The URL with its password replaced, for messages.
    let location: String
    private let idle = Mutex<[PostgresConnection]>([])

    init(url: String) {
        self.url = url
        location = PostgresPool.redacted(url)
    }

    /// Runs `body` on a connection of the pool, on the calling thread. A kept connection the
    /// server has closed meanwhile (it restarted) is dropped and `body` runs once more on a new
    /// one; so `body` must be safe to repeat (the queue's transactions are).
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if let kept = idle.withLock({ $0.popLast() }) {
            do {
                return try use(kept, body)
            } catch where !kept.isUsable {
                // The server went away since this connection was last used.
            }
        }
        return try use(PostgresConnection(url: url, shownAs: location), body)
    }

    private func use<T>(_ connection: PostgresConnection, _ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            let value = try body(connection)
            idle.withLock { $0.append(connection) }
            return value
        } catch {
            if connection.isUsable { idle.withLock { $0.append(connection) } }
            throw error
        }
    }

    /// Runs `body` on a connection of the pool, on a thread of NIO's pool.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.withConnection(body) }
    }

    /// `url` with the password in its user part replaced by `***`.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let user = url[scheme.upperBound..<at]
        guard let colon = user.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
