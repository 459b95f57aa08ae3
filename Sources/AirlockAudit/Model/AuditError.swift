/// Why the audit log could not do what was asked.
///
/// The proxy treats every `AuditError` from ``AuditLog/recordDecision(_:forwardedBody:)`` the same way: it answers 503
/// and forwards nothing. The message is one line that says what failed, where, and what to do; it never carries request
/// content.
public struct AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable category, for callers and tests that branch on the kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unwritable, writeFailed, syncFailed, closed, inUse, signingKey, corrupt, notFound, invalidArgument
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The directory or a file in it cannot be created or opened for writing.
        public static let unwritable = Code(.unwritable)
        /// A write failed (disk full, read-only file system, I/O error). Nothing of the failed batch was kept.
        public static let writeFailed = Code(.writeFailed)
        /// fsync failed: the log stops accepting records until it is reopened, since what reached the disk is unknown.
        public static let syncFailed = Code(.syncFailed)
        /// The log was closed, or stopped after an earlier unrecoverable failure.
        public static let closed = Code(.closed)
        /// Another process holds the log open.
        public static let inUse = Code(.inUse)
        /// The signing or public key cannot be read or is not Ed25519.
        public static let signingKey = Code(.signingKey)
        /// A file of the log is not in the expected format.
        public static let corrupt = Code(.corrupt)
        /// A stored body or request id does not exist.
        public static let notFound = Code(.notFound)
        /// An argument was rejected before anything was written.
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "audit log: \(message)" }

    static func posix(_ code: Code, _ what: String, path: String, errno value: Int32) -> AuditError {
        AuditError(code, "\(what) \(path): \(String(cString: strerror(value))) (errno \(value))")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
