import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What became of one staged record.
enum StagedResult {
    case written(seq: Int, hash: SHA256Digest)
    case failed(AuditError)
}
