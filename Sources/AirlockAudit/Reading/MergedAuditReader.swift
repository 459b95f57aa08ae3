import Foundation

/// Several audit directories (several replicas' logs) read as one list of decisions, merged by time.
///
/// Each directory is read with ``AuditLogReader`` (its decisions completed with their outcomes, in its own log
/// order), then the lists are merged: the earliest time first, ties kept in the order the directories were given.
/// Each directory's own order is kept even where its clock stepped back.
public struct MergedAuditReader: Sendable {
    public let readers: [AuditLogReader]

    /// A decision and the index (in ``readers``) of the directory it was read from.
    public struct Sourced: Sendable {
        public var source: Int
        public var entry: AuditEntry
    }

    public init(directories: [URL]) {
        readers = directories.map(AuditLogReader.init(directory:))
    }

    /// The decisions of every directory matching `query`, merged by time.
    public func decisions(matching query: AuditQuery = AuditQuery()) throws(AuditError) -> [AuditEntry] {
        if readers.count == 1 { return try readers[0].decisions(matching: query) }
        return try sourcedDecisions(matching: query).map(\.entry)
    }

    /// As ``decisions(matching:)``, each with the directory it came from.
    public func sourcedDecisions(matching query: AuditQuery = AuditQuery()) throws(AuditError) -> [Sourced] {
        var lists: [[AuditEntry]] = []
        for reader in readers { lists.append(try reader.decisions(matching: query)) }
        return Self.merge(lists)
    }

    /// Merges lists each in its own order: repeatedly takes the head with the earliest time (the first list's on a
    /// tie). Times are fixed-width UTC, so they compare as strings.
    static func merge(_ lists: [[AuditEntry]]) -> [Sourced] {
        var merged: [Sourced] = []
        merged.reserveCapacity(lists.reduce(0) { $0 + $1.count })
        var next = [Int](repeating: 0, count: lists.count)
        while true {
            var earliest: Int?
            for (source, list) in lists.enumerated() where next[source] < list.count {
                guard let current = earliest else {
                    earliest = source
                    continue
                }
                if list[next[source]].time < lists[current][next[current]].time { earliest = source }
            }
            guard let source = earliest else { return merged }
            merged.append(Sourced(source: source, entry: lists[source][next[source]]))
            next[source] += 1
        }
    }
}
