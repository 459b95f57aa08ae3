import AirlockAudit
import AirlockSupport
import Foundation
import Synchronization

/// How many distinct pseudonyms and hashes of each label a vendor received, read from the stored bodies and counted
/// by a keyed fingerprint (SHA-256 of a key made at start-up and the token): the tokens themselves are neither kept
/// nor shown, and the fingerprints cannot be matched against a list of tokens made elsewhere.
public final class PseudonymCensus: Sendable {
    public struct Count: Sendable, Equatable {
        public var label: String
        public var distinct: Int
        public var occurrences: Int
    }

    public struct Result: Sendable {
        public var counts: [Count]
        /// Stored bodies read.
        public var bodies: Int
        /// Forwarded records of the vendor with a stored body, of which the newest `bodies` were read.
        public var stored: Int
    }

    /// The most bodies read for one vendor (the newest first).
    public let mostBodies: Int
    private let key: [UInt8]
    private let cache = Mutex<[String: Result]>([:])

    public init(mostBodies: Int = 5000) {
        self.mostBodies = mostBodies
        var generator = SystemRandomNumberGenerator()
        self.key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    public func census(of vendor: String, in index: ReviewIndex, directories: [URL]) -> Result {
        if let known = cache.withLock({ $0[vendor] }) { return known }
        let readers = directories.map(AuditLogReader.init(directory:))
        var stored: [Int] = []
        for position in (index.postings[ReviewIndex.Facet.vendor.rawValue][vendor] ?? []).reversed() {
            let entry = index.records[Int(position)].entry
            if entry.body != nil, entry.forwardedSHA256 != nil { stored.append(Int(position)) }
        }
        var seen: [String: Set<[UInt8]>] = [:]
        var occurrences: [String: Int] = [:]
        for position in stored.prefix(mostBodies) {
            let record = index.records[position]
            guard let location = record.entry.body, let sha256 = record.entry.forwardedSHA256,
                let body = try? readers[record.directory].storedBody(at: location, sha256: sha256)
            else { continue }
            let segments = BodySegments(body, for: record.entry)
            for (label, token) in segments.tokens {
                seen[label, default: []].insert(SHA256.hash(key + Array(token.utf8)))
                occurrences[label, default: 0] += 1
            }
        }
        let counts = seen.keys.sorted().map {
            Count(label: $0, distinct: seen[$0]?.count ?? 0, occurrences: occurrences[$0] ?? 0)
        }
        let result = Result(counts: counts, bodies: min(stored.count, mostBodies), stored: stored.count)
        cache.withLock { $0[vendor] = result }
        return result
    }
}
