/// What `airlock log hunt` found, as printed with `--json` and written (then signed) with `--report`.
///
/// Never holds a matched value: rule ids, labels, counts, and paths as they left with every match of the hunted
/// policy replaced by `[REDACTED:LABEL]`. The policy is named by its content hash, which pins the term list without
/// spelling it out.
public struct HuntReport: Sendable, Codable, Equatable {
    public struct Rule: Sendable, Codable, Equatable {
        public var id: String
        public var label: String
        public var action: String
    }

    public struct Match: Sendable, Codable, Equatable {
        public var time: String
        public var seq: Int
        public var vendor: String
        public var id: String
        public var rule: String
        public var label: String
        public var count: Int
        /// `body` (the stored forwarded body), `path` (the URL as forwarded), `reason` or `finding` (a recorded
        /// finding's path).
        public var place: String
        /// Where in the body (JSONPaths as they left), or the recorded text with the matches replaced.
        public var paths: [String]
    }

    public struct Checkpoint: Sendable, Codable, Equatable {
        public var seq: Int
        public var time: String
        public var reason: String
        /// The chain hash of the last record it covers.
        public var head: String
        /// The records it covers: seq 1 to `count`.
        public var count: Int
        public var keyID: String?

        enum CodingKeys: String, CodingKey {
            case seq, time, reason, head, count
            case keyID = "key_id"
        }
    }

    public struct Uninspected: Sendable, Codable, Equatable {
        public var seq: Int
        public var id: String
        public var reason: String
    }

    public struct Coverage: Sendable, Codable, Equatable {
        /// Decisions in the range (after `--vendor`).
        public var decisions = 0
        public var firstSeq: Int?
        public var lastSeq: Int?
        public var firstTime: String?
        public var lastTime: String?
        /// Distinct stored bodies read, checked against their hashes and scanned; their decompressed bytes.
        public var bodies = 0
        public var bodyBytes = 0
        /// Decisions whose body left but was not stored (`audit.store_bodies: false`): only their paths were read.
        public var notStored: [String] = []
        /// Bodies no reading of the hunt engine could parse: not covered.
        public var uninspected: [Uninspected] = []
        /// Embedded payloads (images, archives...) inside scanned bodies that the engine cannot read.
        public var unreadablePayloads = 0
        /// Checkpoints that pin the scanned decisions (from the first after `firstSeq` to the first covering
        /// `lastSeq`).
        public var checkpoints: [Checkpoint] = []
        /// Scanned decisions after the log's last checkpoint (a log still being written): chained, not yet signed.
        public var afterLastCheckpoint = 0

        enum CodingKeys: String, CodingKey {
            case decisions, bodies, uninspected, checkpoints
            case firstSeq = "first_seq"
            case lastSeq = "last_seq"
            case firstTime = "first_time"
            case lastTime = "last_time"
            case bodyBytes = "body_bytes"
            case notStored = "not_stored"
            case unreadablePayloads = "unreadable_payloads"
            case afterLastCheckpoint = "after_last_checkpoint"
        }
    }

    public var format = "airlock-hunt-report/v1"
    public var policy: String
    public var rules: [Rule]
    public var terms: Int
    public var since: String?
    public var until: String?
    public var vendor: String?
    /// The log verification the hunt started with (`airlock log verify`'s summary).
    public var verification: String
    public var coverage: Coverage
    public var matches: [Match]
    /// One sentence a reviewer can quote.
    public var statement: String

    enum CodingKeys: String, CodingKey {
        case format, policy, rules, terms, since, until, vendor, verification, coverage, matches, statement
    }
}
