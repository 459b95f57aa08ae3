import AirlockAudit
import Foundation
import Metrics
import Synchronization

/// Keeps the audit log from filling its disk. Once a second it measures the audit directory (``AuditDiskUsage``):
/// when its file system has less than `audit.min_free_bytes` left, or the directory holds `audit.max_directory_bytes`
/// or more, the guard trips. While tripped, ``AuditRecorder`` refuses every decision at once (the lab gets 503
/// `audit_unavailable`, the vendor nothing), `/readyz` answers 503 with the reason, and aggregated refusals wait
/// in memory; it clears by itself once a measurement is back within bounds. A directory that cannot be measured
/// trips it too: fail closed.
///
/// The request path only loads one atomic; measuring happens on its own task.
public final class AuditSpaceGuard: Sendable {
    public struct Thresholds: Sendable, Equatable {
        /// Trip when the file system has fewer bytes free than this (0: never).
        public var minFreeBytes: Int
        /// Trip when the directory holds this many bytes or more (nil: no cap).
        public var maxDirectoryBytes: Int?

        public init(minFreeBytes: Int, maxDirectoryBytes: Int?) {
            self.minFreeBytes = minFreeBytes
            self.maxDirectoryBytes = maxDirectoryBytes
        }
    }

    private struct Status {
        var usage: AuditDiskUsage?
        var problem: String?
    }

    public let directory: URL
    public let thresholds: Thresholds
    private let tripped = Atomic<Bool>(false)
    private let status = Mutex(Status())
    private let poller = Mutex<Task<Void, Never>?>(nil)

    public init(directory: URL, thresholds: Thresholds) {
        self.directory = directory
        self.thresholds = thresholds
    }

    /// Why the guard is tripped, or nil while there is room.
    public var problem: String? {
        guard self.tripped.load(ordering: .relaxed) else { return nil }
        return self.status.withLock { $0.problem }
    }

    /// The error decisions fail with while tripped; nil (one atomic load) otherwise.
    var refusal: AuditSpaceExhausted? {
        guard self.tripped.load(ordering: .relaxed) else { return nil }
        return AuditSpaceExhausted(reason: self.problem ?? "the audit disk is nearly full")
    }

    /// The last measurement, if any.
    public var usage: AuditDiskUsage? { self.status.withLock { $0.usage } }

    /// Measures now and trips or clears the guard. Blocking (a `statvfs` and a walk of the directory).
    public func check() {
        let status: Status
        do {
            let usage = try AuditDiskUsage.measure(self.directory)
            status = Status(usage: usage, problem: Self.problem(with: usage, thresholds: self.thresholds))
        } catch {
            status = Status(usage: nil, problem: "the audit directory cannot be measured (\(error.message))")
        }
        self.status.withLock { $0 = status }
        self.tripped.store(status.problem != nil, ordering: .relaxed)
    }

    static func problem(with usage: AuditDiskUsage, thresholds: Thresholds) -> String? {
        if usage.freeBytes < thresholds.minFreeBytes {
            return "the audit disk has \(usage.freeBytes) bytes free, below audit.min_free_bytes "
                + "(\(thresholds.minFreeBytes))"
        }
        if let cap = thresholds.maxDirectoryBytes, usage.directoryBytes >= cap {
            return "the audit directory holds \(usage.directoryBytes) bytes, at or over audit.max_directory_bytes "
                + "(\(cap))"
        }
        return nil
    }

    /// Checks now, then every `interval` until ``stop()``.
    public func start(interval: Duration = .seconds(1)) {
        self.check()
        let task = Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                self.check()
            }
        }
        let previous = self.poller.withLock { poller in
            defer { poller = task }
            return poller
        }
        previous?.cancel()
    }

    public func stop() {
        self.poller.withLock { poller in
            poller?.cancel()
            poller = nil
        }
    }

    /// `airlock_audit_free_bytes`, `airlock_audit_directory_bytes` and `airlock_audit_space_ok` on `/metrics`,
    /// from the last measurement.
    public func register(in registry: PrometheusRegistry) {
        registry.setHelp("Bytes free on the audit directory's file system.", for: "airlock_audit_free_bytes")
        registry.setHelp("Bytes the audit directory takes on disk.", for: "airlock_audit_directory_bytes")
        registry.setHelp(
            "1 while the audit disk has room (audit.min_free_bytes, audit.max_directory_bytes); 0 while requests "
                + "are refused 503 audit_unavailable for lack of it.",
            for: "airlock_audit_space_ok"
        )
        let free = Gauge(label: "airlock_audit_free_bytes", factory: registry)
        let used = Gauge(label: "airlock_audit_directory_bytes", factory: registry)
        let ok = Gauge(label: "airlock_audit_space_ok", factory: registry)
        registry.addCollector { [self] in
            let usage = self.usage
            free.record(usage?.freeBytes ?? 0)
            used.record(usage?.directoryBytes ?? 0)
            ok.record(self.tripped.load(ordering: .relaxed) ? 0 : 1)
        }
    }
}

/// A decision refused because the audit disk is nearly full (see ``AuditSpaceGuard``).
public struct AuditSpaceExhausted: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "audit log unavailable: \(self.reason)" }
}
