/// A failure while creating, loading or writing keys and certificates.
///
/// `message` is one line for people: what failed, on which file or name, and what to do. It never carries key
/// material. `openSSLErrors` is OpenSSL's own error stack for the failing call, as text.
public struct CertificateError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The input (PEM text, a name, an address, a validity window, a key/certificate pair) is not usable.
        case invalidInput
        /// A file could not be read or written.
        case io
        /// A file exists and overwriting it was not allowed.
        case alreadyExists
        /// OpenSSL failed in a way that says nothing about the input.
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

    /// One line: the message, then OpenSSL's innermost reason if there is one.
    public var description: String {
        guard let reason = self.openSSLErrors.last else { return self.message }
        return "\(self.message) (OpenSSL: \(reason))"
    }

    /// Builds an error from OpenSSL's thread-local error queue, draining it.
    static func openSSL(_ code: Code, _ message: String) -> CertificateError {
        CertificateError(code: code, message: message, openSSLErrors: OpenSSLErrorQueue.drain())
    }
}
