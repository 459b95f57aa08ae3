import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import NIOConcurrencyHelpers

/// Resumable client sessions by vendor host name. Holds one reference on each stored session.
final class TLSSessionCache: Sendable {
    private let sessions = NIOLockedValueBox<[String: SessionReference]>([:])
    private static let capacity = 1024

    /// Takes ownership of one reference to `session`.
    func store(_ session: OpaquePointer, for key: String) {
        let reference = SessionReference(session)
        self.sessions.withLockedValue { sessions in
            if sessions.count >= Self.capacity, sessions[key] == nil, let victim = sessions.keys.first {
                sessions[victim] = nil
            }
            sessions[key] = reference
        }
    }

    /// Applies the cached session for `key`, if any, to a connection that has not started its handshake.
    func apply(to ssl: OpaquePointer, key: String) {
        self.sessions.withLockedValue { sessions in
            if let reference = sessions[key] {
                _ = SSL_set_session(ssl, reference.session)
            }
        }
    }
}
