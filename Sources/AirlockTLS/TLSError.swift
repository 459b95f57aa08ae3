internal import COpenSSL

/// A failure of the TLS layer, with OpenSSL's own error stack attached.
///
/// Handlers deliver it through `errorCaught` and then close the channel. `message` is one line meant for people and
/// never carries application data.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A certificate, key or CA file could not be used, a pin is malformed, or OpenSSL could not be set up.
        case configuration
        /// The handshake failed at the protocol level: garbage instead of TLS, no shared version, cipher or ALPN,
        /// or an alert from the peer.
        case handshakeFailed
        /// The peer's certificate chain, expiry or name did not verify, or a required client certificate is missing.
        case verificationFailed
        /// The chain verified but no certificate in it matched a configured SPKI pin.
        case pinMismatch
        /// The peer closed the connection without sending close_notify.
        case uncleanShutdown
        /// OpenSSL failed in a way that says nothing about the peer.
        case internalError
    }

    public var code: Code
    public var message: String
    public var openSSLErrors: [String]

    public init(code: Code, message: String, openSSLErrors: [String] = []) {
        self.code = code
        self.message = message
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        if self.openSSLErrors.isEmpty {
            return "TLS \(self.code): \(self.message)"
        }
        return "TLS \(self.code): \(self.message) [\(self.openSSLErrors.joined(separator: "; "))]"
    }

    /// Builds an error from OpenSSL's thread-local error queue, draining it.
    static func fromOpenSSL(_ code: Code, _ message: String) -> TLSError {
        TLSError(code: code, message: message, openSSLErrors: OpenSSLErrorQueue.drain())
    }
}
