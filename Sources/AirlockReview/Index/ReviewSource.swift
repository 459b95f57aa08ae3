import AirlockAudit
import AirlockSupport
import Foundation

/// A decision as the console reads it: the record (completed with its outcome) and which audit directory holds it.
public struct SourcedDecision: Sendable {
    public var entry: AuditEntry
    /// The position of the directory in the console's `--dir` list.
    public var directory: Int

    public init(entry: AuditEntry, directory: Int) {
        self.entry = entry
        self.directory = directory
    }
}

/// Where the console's records come from: the one place that reads audit directories, so a shared multi-directory
/// reader can replace it without touching the index or the pages.
public enum ReviewSource {
    /// Every decision of every directory, each completed with its outcome, merged by time (records of the same
    /// millisecond keep their directory order, then their log order).
    public static func decisions(in directories: [URL]) throws(AuditError) -> [SourcedDecision] {
        var perDirectory: [[SourcedDecision]] = []
        for (index, directory) in directories.enumerated() {
            let rows = try AuditLogReader(directory: directory).decisions()
            perDirectory.append(rows.map { SourcedDecision(entry: $0, directory: index) })
        }
        guard perDirectory.count > 1 else { return perDirectory.first ?? [] }
        // Each log is in time order already; a stable sort of the concatenation merges them.
        let merged = perDirectory.joined().enumerated().sorted { left, right in
            left.element.entry.time != right.element.entry.time
                ? left.element.entry.time < right.element.entry.time : left.offset < right.offset
        }
        return merged.map(\.element)
    }
}
