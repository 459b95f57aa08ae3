import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One queued record. Its members (encoded by the caller: the writer thread only numbers, chains and writes them)
/// sit in the batch's byte buffer.
struct StagedRecord {
    enum Kind {
        /// Members: a decision's, everything after `time` but `body`, which goes at `bodyIndex`.
        case decision
        /// Members: an outcome's, everything after `time`.
        case outcome
    }

    var kind: Kind
    /// Someone waits for it to be durable: it wakes the writer. Outcomes nobody waits on ride the next commit.
    var needsSync: Bool
    var members: Range<Int>
    var bodyIndex: Int
    var body: PreparedBody?
    var completion: StagedCompletion
}
