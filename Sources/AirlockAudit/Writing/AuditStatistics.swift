import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Counters for tests and metrics.
public struct AuditStatistics: Sendable, Equatable {
    /// Decision and outcome records made durable.
    public var records = 0
    /// fsyncs of log files; with concurrent appends this stays well below `records` (group commit).
    public var logSyncs = 0
    public var checkpoints = 0
    public var rotations = 0
    public var bodiesStored = 0
    public var recoveries = 0
    /// Lines copied to the decision stream (``AuditStreamConfiguration``), and writes of it that failed.
    public var streamLines = 0
    public var streamFailures = 0

    public init() {}
}
