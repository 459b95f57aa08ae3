import Foundation

/// Where and how the audit log is written.
public struct AuditConfiguration: Sendable {
    /// The directory holding `audit-NNNNNN.jsonl` files, `bodies/pack-NNNNNN.gz`, `torn/` and the `.lock` file.
    /// Created if missing.
    public var directory: URL
    /// An Ed25519 private key (PEM, PKCS#8) that signs checkpoints. Without it checkpoints are written unsigned and
    /// `airlock log verify` can only check the hash chain.
    public var signingKeyPath: URL?
    /// Store each distinct forwarded (already redacted) body, gzip-compressed, in append-only packs under `bodies/`;
    /// records find it by SHA-256 and location. Packs rotate at `rotateBytes` like the log.
    public var storeBodies: Bool
    /// Start a new file once the current one reaches this many bytes.
    public var rotateBytes: Int
    /// Write a signed checkpoint after this many records ...
    public var checkpointEvery: Int
    /// ... or after this many seconds with unsigned records, whichever comes first.
    public var checkpointInterval: Double

    /// The defaults, shared with the proxy configuration's `audit:` section.
    public static let defaultRotateBytes = 64 * 1024 * 1024
    public static let defaultCheckpointEvery = 1000
    public static let defaultCheckpointInterval: Double = 60

    public init(
        directory: URL,
        signingKeyPath: URL? = nil,
        storeBodies: Bool = true,
        rotateBytes: Int = Self.defaultRotateBytes,
        checkpointEvery: Int = Self.defaultCheckpointEvery,
        checkpointInterval: Double = Self.defaultCheckpointInterval
    ) {
        self.directory = directory
        self.signingKeyPath = signingKeyPath
        self.storeBodies = storeBodies
        self.rotateBytes = rotateBytes
        self.checkpointEvery = checkpointEvery
        self.checkpointInterval = checkpointInterval
    }

    func validated() throws(AuditError) -> AuditConfiguration {
        guard rotateBytes >= 4096 else {
            throw AuditError(.invalidArgument, "rotate_bytes must be at least 4096 (got \(rotateBytes))")
        }
        guard checkpointEvery >= 1 else {
            throw AuditError(.invalidArgument, "checkpoint_every must be at least 1 (got \(checkpointEvery))")
        }
        guard checkpointInterval > 0, checkpointInterval.isFinite else {
            throw AuditError(.invalidArgument, "checkpoint_interval must be a positive number of seconds")
        }
        return self
    }
}
