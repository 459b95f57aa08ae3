import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The records queued since the writer last took them, their members back to back in one buffer. Queueing a record
/// copies its members in (under the queue's lock) instead of handing the writer thread objects to free; the writer
/// hands emptied batches back, so in steady state queueing allocates nothing.
struct StagedBatch {
    var bytes: [UInt8] = []
    var records: [StagedRecord] = []

    var isEmpty: Bool { records.isEmpty }

    mutating func append(
        _ kind: StagedRecord.Kind,
        members: some Collection<UInt8>,
        bodyIndex: Int = 0,
        body: PreparedBody? = nil,
        needsSync: Bool,
        completion: StagedCompletion
    ) {
        let start = bytes.count
        bytes.append(contentsOf: members)
        records.append(
            StagedRecord(
                kind: kind,
                needsSync: needsSync,
                members: start..<bytes.count,
                bodyIndex: start + bodyIndex,
                body: body,
                completion: completion
            )
        )
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
    }
}
