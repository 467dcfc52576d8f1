import OCI

/// Creating a container as `run` and `create` do: on `404 No such image` say
/// `Unable to find image 'x' locally`, pull it (progress on stderr) and create again.
struct ContainerCreation {
    let client: DaemonClient
    /// `run` or `create`, for error messages.
    let commandName: String

    /// Creates the container and returns its full ID; warnings go to stderr. Daemon errors are
    /// reported as docker reports them for `run`/`create` (exit status 125).
    func create(_ body: ContainerCreateBody, name: String?) throws -> String {
        var query = Query()
        if let name { query.add("name", name) }
        let request = try DaemonClient.json(body)
        do {
            return try attempt(request, query: query)
        } catch let error as CLIError where error.isConnectionFailure {
            throw error
        } catch CLIError.daemon(let status, let message) where status == 404 && message.lowercased().contains("no such image") {
            let shown = (try? Reference(parsing: body.image).familiar) ?? body.image
            Console.err("Unable to find image '\(shown)' locally\n")
            do {
                try ImagePull.pull(client, reference: body.image, outputFD: 2)
                return try attempt(request, query: query)
            } catch let error as CLIError where !error.isConnectionFailure {
                throw CLIError.runFailed(command: commandName, message: error.description, status: 125)
            }
        } catch let error as CLIError {
            throw CLIError.runFailed(command: commandName, message: error.description, status: 125)
        }
    }

    private func attempt(_ request: HTTPRequestBody, query: Query) throws -> String {
        let created = try client.decode(IDResponse.self, "POST", "/containers/create", query: query, body: request)
        for warning in created.warnings ?? [] { Console.err("WARNING: \(warning)\n") }
        return created.id
    }

    /// The exit status docker uses when starting the container failed with `message`:
    /// 127 when the command was not found, 126 when it could not be executed, else 125.
    static func startFailureStatus(_ message: String) -> Int32 {
        let lower = message.lowercased()
        if lower.contains("executable file not found") || lower.contains("no such file or directory") { return 127 }
        if lower.contains("permission denied") { return 126 }
        return 125
    }
}
