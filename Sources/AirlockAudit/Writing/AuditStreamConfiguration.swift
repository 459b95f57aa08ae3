import Foundation

/// Where the JSON-lines decision stream goes (`audit.stream` in the config): a copy of each decision and outcome line,
/// as written to the durable log, that log shippers (Vector, fluent-bit, Filebeat) can follow. The durable log is
/// pre-allocated with zeros, so its size does not grow as records are added and followers miss records; the stream is
/// a plain appended file instead. It is written after the records are durable and is not the record of truth: a
/// failure to write it never holds up or fails a request (it is counted in ``AuditStatistics``).
public enum AuditStreamConfiguration: Sendable, Equatable {
    /// Appended to `path`; once it holds `maxBytes` or more, renamed to `path.1` (`path.1` to `path.2`, … up to
    /// `path.<keep>`, the oldest dropped) and started again, as logrotate and the shippers expect.
    case file(path: URL, maxBytes: Int, keep: Int)
    /// Written to standard output (for a container runtime or systemd's journal to collect).
    case standardOutput

    public static let defaultMaxBytes = 64 * 1024 * 1024
    public static let defaultKeep = 5
}
