import AirlockSupport
import NIOHTTP1

/// The client's token from `Proxy-Authorization`: `Bearer <token>`, or `Basic` with the token as the password (or
/// as the user name when the password is empty: `curl -U token:`, `https://token@proxy`). Never logged; the reason
/// of a failure names no part of it.
enum ProxyAuthorization {
    /// The challenge a 407 carries.
    static let challenge = "Basic realm=\"airlock\", Bearer realm=\"airlock\""

    enum Credentials: Equatable {
        case token(String)
        case refused(RefusalCause)
    }

    static func token(_ headers: HTTPHeaders) -> Credentials {
        let values = headers["proxy-authorization"]
        guard values.count == 1, let value = values.first else {
            return .refused(
                .proxyAuthenticationRequired(
                    reason: values.isEmpty
                        ? "the forward listener needs Proxy-Authorization with a client token of clients:"
                        : "more than one Proxy-Authorization header"
                )
            )
        }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { return .refused(Self.malformed) }
        let credentials = parts[1].trimmingCharacters(in: " \t")
        switch parts[0].lowercased() {
        case "bearer":
            return credentials.isEmpty ? .refused(Self.malformed) : .token(credentials)
        case "basic":
            guard let decoded = Base64.decode(credentials).map({ String(decoding: $0, as: UTF8.self) }),
                let colon = decoded.firstIndex(of: ":")
            else { return .refused(Self.malformed) }
            let user = decoded[..<colon]
            let password = decoded[decoded.index(after: colon)...]
            let token = password.isEmpty ? user : password
            return token.isEmpty ? .refused(Self.malformed) : .token(String(token))
        default:
            return .refused(Self.malformed)
        }
    }

    private static let malformed = RefusalCause.proxyAuthenticationRequired(
        reason: "Proxy-Authorization must be Basic (the token as password) or Bearer <token>"
    )
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let skip = Set(set.utf8)
        let utf8 = self.utf8
        let start = utf8.firstIndex { !skip.contains($0) } ?? utf8.endIndex
        let end = utf8.lastIndex { !skip.contains($0) }.map { utf8.index(after: $0) } ?? start
        return String(self[start..<Swift.max(start, end)])
    }
}
