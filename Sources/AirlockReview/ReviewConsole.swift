import AirlockAudit
import Foundation

/// What the console serves from: the directories, their index and chain status, the reviewers' tokens and the
/// sessions. Built once at start-up; the index does not change while the console runs.
public final class ReviewConsole: Sendable {
    public let directories: [URL]
    public let index: ReviewIndex
    public let chains: ChainStatus
    public let tokens: ReviewTokens
    public let sessions: SessionTable
    public let census: PseudonymCensus
    /// Whether the console is served over HTTPS (cookies are then `Secure` and `__Host-` named).
    public let isHTTPS: Bool
    /// Seconds spent reading the logs.
    public let readSeconds: Double

    public convenience init(
        directories: [URL],
        tokens: ReviewTokens,
        isHTTPS: Bool,
        sessions: SessionTable = SessionTable(),
        census: PseudonymCensus = PseudonymCensus()
    ) throws(AuditError) {
        let started = Date()
        let records = try ReviewSource.decisions(in: directories)
        self.init(
            records: records,
            directories: directories,
            tokens: tokens,
            isHTTPS: isHTTPS,
            sessions: sessions,
            census: census,
            readSeconds: Date().timeIntervalSince(started)
        )
    }

    /// A console over records already read (the benchmark's synthetic ones).
    public init(
        records: [SourcedDecision],
        directories: [URL],
        tokens: ReviewTokens,
        isHTTPS: Bool,
        sessions: SessionTable = SessionTable(),
        census: PseudonymCensus = PseudonymCensus(),
        readSeconds: Double = 0
    ) {
        self.readSeconds = readSeconds
        self.directories = directories
        self.index = ReviewIndex(records)
        self.chains = ChainStatus(directories: directories)
        self.tokens = tokens
        self.sessions = sessions
        self.census = census
        self.isHTTPS = isHTTPS
    }

    /// The session cookie's name: `__Host-` prefixed over HTTPS, so the browser only accepts it Secure, for this
    /// host and path `/`.
    var sessionCookie: String { isHTTPS ? "__Host-airlock-review" : "airlock-review" }
    var loginCookie: String { isHTTPS ? "__Host-airlock-review-login" : "airlock-review-login" }
}
