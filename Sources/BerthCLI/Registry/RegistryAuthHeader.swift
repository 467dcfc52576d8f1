#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DockerConfig

extension AuthConfigFile {
    /// docker's `X-Registry-Auth` value for pulling from or pushing to `domain`: base64url of
    /// the stored login, or of `{}` when there is none.
    func registryAuthHeader(forDomain domain: String) throws -> String {
        guard let login = try credentials(forDomain: domain) else { return ImagePull.emptyAuth }
        struct Header: Encodable {
            var username: String
            var password: String
            var serveraddress: String
            var identitytoken: String?
        }
        let header = Header(username: login.username, password: login.password,
                            serveraddress: AuthConfigFile.key(forDomain: domain), identitytoken: login.identityToken)
        let json = (try? JSONEncoder().encode(header)) ?? Data("{}".utf8)
        return json.base64EncodedString().replacing("+", with: "-").replacing("/", with: "_")
    }
}
