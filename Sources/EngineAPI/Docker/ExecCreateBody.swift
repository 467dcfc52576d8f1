#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Engine

/// The body of `POST /containers/{id}/exec`.
public struct ExecConfig: Codable, Sendable, Equatable {
    public var AttachStdin: Bool?
    public var AttachStdout: Bool?
    public var AttachStderr: Bool?
    public var Tty: Bool?
    public var Env: [String]?
    public var Cmd: [String]?
    public var User: String?
    public var WorkingDir: String?
    public var Privileged: Bool?
    public var DetachKeys: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case AttachStdin, AttachStdout, AttachStderr, Tty, Env, Cmd, User, WorkingDir, Privileged, DetachKeys
        /// docker-py's spelling (dockerd's JSON decoding ignores case).
        case detachKeys
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        AttachStdin = try c.decodeIfPresent(Bool.self, forKey: .AttachStdin)
        AttachStdout = try c.decodeIfPresent(Bool.self, forKey: .AttachStdout)
        AttachStderr = try c.decodeIfPresent(Bool.self, forKey: .AttachStderr)
        Tty = try c.decodeIfPresent(Bool.self, forKey: .Tty)
        Env = try c.decodeIfPresent([String].self, forKey: .Env)
        Cmd = try c.decodeStringOrArray(forKey: .Cmd)
        User = try c.decodeIfPresent(String.self, forKey: .User)
        WorkingDir = try c.decodeIfPresent(String.self, forKey: .WorkingDir)
        Privileged = try c.decodeIfPresent(Bool.self, forKey: .Privileged)
        DetachKeys = try c.decodeIfPresent(String.self, forKey: .DetachKeys) ?? c.decodeIfPresent(String.self, forKey: .detachKeys)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(AttachStdin, forKey: .AttachStdin)
        try c.encodeIfPresent(AttachStdout, forKey: .AttachStdout)
        try c.encodeIfPresent(AttachStderr, forKey: .AttachStderr)
        try c.encodeIfPresent(Tty, forKey: .Tty)
        try c.encodeIfPresent(Env, forKey: .Env)
        try c.encodeIfPresent(Cmd, forKey: .Cmd)
        try c.encodeIfPresent(User, forKey: .User)
        try c.encodeIfPresent(WorkingDir, forKey: .WorkingDir)
        try c.encodeIfPresent(Privileged, forKey: .Privileged)
        try c.encodeIfPresent(DetachKeys, forKey: .DetachKeys)
    }
}

extension ExecConfig {
    /// The exec in Berth's terms.
    var spec: ExecSpec {
        var spec = ExecSpec(cmd: Cmd ?? [])
        spec.env = Env ?? []
        spec.user = User ?? ""
        spec.workingDir = WorkingDir ?? ""
        spec.tty = Tty ?? false
        spec.attachStdin = AttachStdin ?? false
        spec.attachStdout = AttachStdout ?? false
        spec.attachStderr = AttachStderr ?? false
        spec.privileged = Privileged ?? false
        spec.detachKeys = DetachKeys ?? ""
        return spec
    }
}
