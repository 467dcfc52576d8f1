#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An image manifest (image-spec manifest.md), OCI or Docker schema 2: one config and an ordered
/// list of layers, base first.
public struct Manifest: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// Decodes and validates a manifest. Refuses documents that also carry `manifests` (the
    /// ambiguity of CVE-2021-41190), a schema version other than 2, or a layer media type Berth
    /// cannot unpack.
    public static func decode(_ data: Data) throws -> Manifest {
        try DocumentShape.refuseAmbiguous(data, expecting: .manifest)
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw OCIError.malformedDocument(kind: "manifest", reason: DocumentShape.reason(error))
        }
        guard manifest.schemaVersion == 2 else {
            throw OCIError.malformedDocument(kind: "manifest", reason: "schemaVersion \(manifest.schemaVersion) is not 2")
        }
        if let mt = manifest.mediaType, !MediaType.isManifest(mt) {
            throw OCIError.unsupportedMediaType(mt)
        }
        for layer in manifest.layers where !MediaType.isLayer(layer.mediaType) {
            throw OCIError.unsupportedMediaType(layer.mediaType)
        }
        return manifest
    }
}

/// An image index or Docker manifest list (image-spec image-index.md).
public struct Index: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// Decodes and validates an index; refuses documents that also carry `config` or `layers`.
    public static func decode(_ data: Data) throws -> Index {
        try DocumentShape.refuseAmbiguous(data, expecting: .index)
        do {
            let index = try JSONDecoder().decode(Index.self, from: data)
            guard index.schemaVersion == 2 else {
                throw OCIError.malformedDocument(kind: "index", reason: "schemaVersion \(index.schemaVersion) is not 2")
            }
            return index
        } catch let error as OCIError {
            throw error
        } catch {
            throw OCIError.malformedDocument(kind: "index", reason: DocumentShape.reason(error))
        }
    }

    /// The manifest for `platform`, or nil when the index has none for it.
    public func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { d in
            guard let p = d.platform, MediaType.isManifest(d.mediaType) else { return false }
            return p.os == platform.os && p.architecture == platform.architecture
        }
    }
}

/// Tells manifests from indexes by their keys, before trusting either.
enum DocumentShape {
    enum Kind { case manifest, index }

    private struct Keys: Decodable {
        var manifests: AnyDecodable?
        var layers: AnyDecodable?
        var config: AnyDecodable?
    }

    private struct AnyDecodable: Decodable {
        init(from decoder: Decoder) throws {}
    }

    static func refuseAmbiguous(_ data: Data, expecting kind: Kind) throws {
        let name = kind == .manifest ? "manifest" : "index"
        guard let keys = try? JSONDecoder().decode(Keys.self, from: data) else {
            throw OCIError.malformedDocument(kind: name, reason: "not a JSON object")
        }
        let hasManifests = keys.manifests != nil
        let hasImageKeys = keys.layers != nil || keys.config != nil
        if hasManifests && hasImageKeys {
            throw OCIError.malformedDocument(kind: name, reason: "document has both \"manifests\" and \"layers\"/\"config\"")
        }
    }

    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _):
            return "missing required field \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context):
            if let underlying = context.underlyingError as? OCIError { return underlying.description }
            return context.debugDescription
        case let error as OCIError:
            return error.description
        default:
            return "\(error)"
        }
    }
}
