import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import NIOConcurrencyHelpers

/// One owned reference to an `SSL_SESSION`.
final class SessionReference: @unchecked Sendable {
    // @unchecked: SSL_SESSION is reference counted by OpenSSL and only read once stored.
    let session: OpaquePointer

    init(_ session: OpaquePointer) {
        self.session = session
    }

    deinit {
        SSL_SESSION_free(self.session)
    }
}
