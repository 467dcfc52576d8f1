import OCI
import Registry

/// Compares a destination with the source (catalog, tags and the digests they point to) and
/// names the changes that make it agree: a tag the destination lacks or has elsewhere is sent
/// again, a tag only the destination has is removed. Blobs no tag reaches are not compared (the
/// distribution API cannot list them).
public enum ReplicationResync {
    /// The changes to queue for `destination` to agree with `source`.
    public static func differences(source: any ReplicationSource, destination: ReplicationDestination) async throws -> [ReplicationChange] {
        let catalog = RegistryClient(endpoint: destination.endpoint, repository: "", credentials: destination.credentials)
        let theirs = Set(try await catalog.listRepositories())
        let ours = try await source.repositories()
        var changes: [ReplicationChange] = []
        for repository in Set(ours).union(theirs).sorted() {
            let client = RegistryClient(endpoint: destination.endpoint, repository: repository, credentials: destination.credentials)
            let sourceTags = Set(try await source.tags(repository))
            let destinationTags = theirs.contains(repository) ? Set(try await client.listTags()) : []
            for tag in sourceTags.sorted() {
                guard let digest = try await source.tag(repository, tag) else { continue }
                if destinationTags.contains(tag), try await client.manifestDigest(tag) == digest { continue }
                changes.append(ReplicationChange(repository: repository, action: .tag(tag, digest)))
            }
            for tag in destinationTags.subtracting(sourceTags).sorted() {
                changes.append(ReplicationChange(repository: repository, action: .deleteTag(tag)))
            }
        }
        return changes
    }
}
