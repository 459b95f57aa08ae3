import Synchronization

/// Inspection results of fetched assets by content: the same bytes for the same vendor under the same policy are
/// inspected once (an image task's attachment is fetched by every labeler). Bounded: when full, it starts over.
final class AssetInspectionCache: Sendable {
    struct Key: Hashable {
        var vendor: String
        var policy: String
        var mediaType: String
        /// SHA-256 of the fetched bytes, hex.
        var content: String
    }

    private let entries = Mutex<[Key: EgressDecision]>([:])
    private let maxEntries: Int

    init(maxEntries: Int = 4096) {
        self.maxEntries = maxEntries
    }

    func decision(for key: Key) -> EgressDecision? {
        self.entries.withLock { $0[key] }
    }

    func store(_ decision: EgressDecision, for key: Key) {
        self.entries.withLock { entries in
            if entries.count >= self.maxEntries { entries.removeAll(keepingCapacity: true) }
            entries[key] = decision
        }
    }
}
