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
    /// Group-commit window (like PostgreSQL's `commit_delay`, MySQL's `binlog_group_commit_sync_delay`): under
    /// concurrent load, the writer waits up to this long after the first record of a group was queued before it
    /// makes the group durable, so that one fsync covers more records. It costs the waiting requests up to this much
    /// latency and saves CPU (fsync work and wake-ups) per request. Only applies while recent groups held at least
    /// `commitSiblings` records: a lone request never waits. Zero turns the window off.
    ///
    /// Trade-off measured with the proxy benchmark (64 connections, 2 cores, virtio disk): without the window a
    /// group held about 10 decisions; with 1 ms about 25, the log's CPU per request fell by a third, and latency
    /// rose by at most the window. 2 ms made groups of 50 but cost throughput (requests wait longer than the CPU
    /// saved).
    public var commitDelay: Duration
    /// The group size (a running average over recent commits) from which the commit window applies: below it
    /// (light load, a few concurrent requests) nobody waits for the window.
    public var commitSiblings: Int
    /// A group this large is committed at once, without waiting out the window.
    public var commitBatch: Int
    /// The id of the Airlock replica writing this log, put in every line it writes (`"replica"`), so the logs of
    /// several replicas stay attributable once shipped together. Nil: no `replica` member.
    public var replica: String?
    /// A JSON-lines copy of the decisions for log shippers; nil: none.
    public var stream: AuditStreamConfiguration?
    /// The writes and syncs of log files and body packs: the system calls, or a test's recording or failing layer.
    var fileOperations = FileOperations.system

    /// The defaults, shared with the proxy configuration's `audit:` section.
    public static let defaultRotateBytes = 64 * 1024 * 1024
    public static let defaultCheckpointEvery = 1000
    public static let defaultCheckpointInterval: Double = 60
    public static let defaultCommitDelay = Duration.microseconds(1000)
    public static let defaultCommitSiblings = 4
    public static let defaultCommitBatch = 256

    public init(
        directory: URL,
        signingKeyPath: URL? = nil,
        storeBodies: Bool = true,
        rotateBytes: Int = Self.defaultRotateBytes,
        checkpointEvery: Int = Self.defaultCheckpointEvery,
        checkpointInterval: Double = Self.defaultCheckpointInterval,
        commitDelay: Duration = Self.defaultCommitDelay,
        commitSiblings: Int = Self.defaultCommitSiblings,
        commitBatch: Int = Self.defaultCommitBatch
    ) {
        self.directory = directory
        self.signingKeyPath = signingKeyPath
        self.storeBodies = storeBodies
        self.rotateBytes = rotateBytes
        self.checkpointEvery = checkpointEvery
        self.checkpointInterval = checkpointInterval
        self.commitDelay = commitDelay
        self.commitSiblings = commitSiblings
        self.commitBatch = commitBatch
    }

    /// The longest commit window `AuditLog.open` accepts.
    public static let maximumCommitDelay = Duration.seconds(1)

    func validated(maximumCommitDelay: Duration = Self.maximumCommitDelay) throws(AuditError) -> AuditConfiguration {
        guard rotateBytes >= 4096 else {
            throw AuditError(.invalidArgument, "rotate_bytes must be at least 4096 (got \(rotateBytes))")
        }
        guard checkpointEvery >= 1 else {
            throw AuditError(.invalidArgument, "checkpoint_every must be at least 1 (got \(checkpointEvery))")
        }
        guard checkpointInterval > 0, checkpointInterval.isFinite else {
            throw AuditError(.invalidArgument, "checkpoint_interval must be a positive number of seconds")
        }
        guard commitDelay >= .zero, commitDelay <= maximumCommitDelay else {
            throw AuditError(
                .invalidArgument,
                "commit_delay must be between 0 and \(maximumCommitDelay) (got \(commitDelay))"
            )
        }
        guard commitSiblings >= 1 else {
            throw AuditError(.invalidArgument, "commit_siblings must be at least 1 (got \(commitSiblings))")
        }
        guard commitBatch >= 1 else {
            throw AuditError(.invalidArgument, "commit_batch must be at least 1 (got \(commitBatch))")
        }
        if case .file(let path, let maxBytes, let keep) = stream {
            guard maxBytes >= 4096, keep >= 1 else {
                throw AuditError(.invalidArgument, "stream max_bytes must be at least 4096 and keep at least 1")
            }
            // The stream must never be taken for (or written over) a file of the durable log.
            guard LogFiles.index(of: path.lastPathComponent) == nil else {
                throw AuditError(.invalidArgument, "the stream cannot be named like a log file (audit-NNNNNN.jsonl)")
            }
        }
        return self
    }
}
