/// `{"Id": …, "Warnings": […]}`, returned by container create, exec create and commit.
struct IDResponse: Decodable {
    let id: String
    let warnings: [String]?
}

/// `{"StatusCode": n, "Error": {"Message": …}}` from `POST /containers/{id}/wait`.
struct WaitResponse: Decodable {
    struct WaitError: Decodable {
        let message: String?
    }
    let statusCode: Int64
    let error: WaitError?
}

/// The parts of `GET /containers/{id}/json` the CLI acts on.
struct ContainerInspect: Decodable {
    struct Config: Decodable {
        let tty: Bool?
        let openStdin: Bool?
    }
    struct HostConfig: Decodable {
        let autoRemove: Bool?
    }
    let id: String
    let config: Config?
    let hostConfig: HostConfig?
}

/// One entry of `GET /containers/json`.
struct ContainerSummary: Decodable {
    struct Port: Decodable {
        let iP: String?
        let privatePort: Int?
        let publicPort: Int?
        let type: String?
    }
    let id: String
    let names: [String]?
    let image: String?
    let imageID: String?
    let command: String?
    let created: Int64?
    let ports: [Port]?
    let status: String?
    let state: String?
    let labels: [String: String]?
    let mounts: [Mount]?

    struct Mount: Decodable {
        let name: String?
        let source: String?
    }
}

/// One entry of `GET /images/json`.
struct ImageSummary: Decodable {
    let id: String
    let repoTags: [String]?
    let repoDigests: [String]?
    let created: Int64?
    let size: Int64?
}

/// `GET /exec/{id}/json`: how the process ended.
struct ExecInspect: Decodable {
    let exitCode: Int64?
}

/// One entry of `GET /containers/{id}/changes`.
struct ContainerChange: Decodable {
    let path: String
    let kind: Int
}

/// `GET /containers/{id}/top`.
struct TopResponse: Decodable {
    let titles: [String]?
    let processes: [[String]]?
}

/// One entry of `DELETE /images/{name}`.
struct ImageDeleteItem: Decodable {
    let untagged: String?
    let deleted: String?
}

/// One entry of `GET /images/{name}/history`.
struct HistoryItem: Decodable {
    let id: String?
    let created: Int64?
    let createdBy: String?
    let size: Int64?
    let comment: String?
}
