import AirlockAudit
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Refusals made before any policy saw the request (unknown prefix, route not allowed, a callback's failed auth, a
/// bad request line, a body over the limit, a timeout) cost whoever sends them nothing, so each cannot be worth an
/// fsync'd record: one keep-alive connection could write tens of thousands a second and fill the audit disk. They
/// are counted here instead, per cause, client, vendor, method and recorded path, and written as one record per key
/// per ``flush()`` (once a second), carrying the count and the times of the first and last refusal. The refused
/// request is answered at once; nothing waits for the log.
///
/// Keys are bounded: past ``maxKeys`` distinct keys in one window, further clients are counted under the address
/// ``overflowAddress``. While the recorder is unavailable (the audit disk nearly full) the counts wait here, and a
/// flush whose records fail puts them back: refusals are delayed, never dropped, as long as the process runs.
final class RefusalAggregator: Sendable {
    struct Key: Hashable {
        var code: String
        var status: Int
        var rule: String?
        var category: ReasonCategory
        /// A request of the lab, or a callback refused on its way in.
        var direction: AuditDirection
        /// A vendor name, or ``noVendor``.
        var vendor: String
        var method: String
        /// The path recorded: a callback's configured path, or ``EgressDecisionRecord/withheldPath``.
        var path: String
        var address: String?
        var subject: String?
        /// The `clients:` entry the request was recognised as (a configured name, so it multiplies no keys).
        var name: String?
    }

    struct Tally {
        var count: Int
        var first: Date
        var last: Date

        mutating func merge(_ other: Tally) {
            self.count += other.count
            self.first = min(self.first, other.first)
            self.last = max(self.last, other.last)
        }
    }

    /// The vendor recorded for a refusal that matched no vendor (unknown prefix, a malformed request line).
    static let noVendor = "(none)"
    /// The method recorded when the refusal came before a request head was read (a head timeout).
    static let noMethod = "-"
    /// The client address recorded for clients beyond ``maxKeys``.
    static let overflowAddress = "(other clients)"
    static let maxKeys = 4096

    private let pending = Mutex<[Key: Tally]>([:])
    private let recorder: any EgressRecorder
    private let logger: Logger
    private let idPrefix = String(UInt64.random(in: 0..<(1 << 40)), radix: 16)
    private let sequence = Atomic<Int>(0)

    init(recorder: any EgressRecorder, logger: Logger) {
        self.recorder = recorder
        self.logger = logger
    }

    /// Counts one refusal. Cheap and non-blocking: one short lock, no I/O.
    func count(
        _ refusal: EgressRefusal,
        vendor: String?,
        method: HTTPMethod?,
        path: String,
        client: EgressClient,
        direction: AuditDirection,
        at time: Date = Date()
    ) {
        guard !self.recorder.isPassThrough else { return }
        var key = Key(
            code: refusal.code,
            status: Int(refusal.status.code),
            rule: refusal.rule,
            category: refusal.category,
            direction: direction,
            vendor: vendor ?? Self.noVendor,
            method: Self.methodName(method),
            path: path,
            address: client.address,
            subject: client.certificateCommonName,
            name: client.name
        )
        let tally = Tally(count: 1, first: time, last: time)
        self.pending.withLock { pending in
            if pending[key] == nil && pending.count >= Self.maxKeys {
                key.address = Self.overflowAddress
                key.subject = nil
                key.name = nil
            }
            pending[key, default: Tally(count: 0, first: time, last: time)].merge(tally)
        }
    }

    /// Methods a client can make up are recorded as one name, so they cannot multiply the keys.
    private static func methodName(_ method: HTTPMethod?) -> String {
        guard let method else { return Self.noMethod }
        if case .RAW = method { return "(other)" }
        return method.rawValue
    }

    /// Writes one record per key counted since the last flush. The future succeeds once they are written (or their
    /// counts were put back after a failure, which is logged). While the recorder is unavailable, nothing is taken.
    func flush(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if self.recorder.unavailableReason != nil { return eventLoop.makeSucceededVoidFuture() }
        let taken = self.pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !taken.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        let written = taken.map { key, tally in
            let promise = eventLoop.makePromise(of: Void.self)
            self.recorder.recordDecision(self.record(key, tally), completing: promise)
            return promise.futureResult.flatMapErrorThrowing { error in
                self.putBack(key, tally)
                throw error
            }
        }
        return EventLoopFuture.whenAllComplete(written, on: eventLoop).map { results in
            let failed = results.filter { if case .failure = $0 { true } else { false } }.count
            if failed > 0 {
                self.logger.error(
                    "aggregated refusals could not be recorded; they are kept and retried",
                    metadata: ["airlock.records": "\(failed)"]
                )
            }
        }
    }

    private func putBack(_ key: Key, _ tally: Tally) {
        self.pending.withLock { pending in
            guard var existing = pending[key] else {
                pending[key] = tally
                return
            }
            existing.merge(tally)
            pending[key] = existing
        }
    }

    private func record(_ key: Key, _ tally: Tally) -> EgressDecisionRecord {
        let number = self.sequence.wrappingAdd(1, ordering: .relaxed).newValue
        return EgressDecisionRecord(
            requestID: "\(self.idPrefix)-refusals-\(String(number, radix: 16))",
            vendor: key.vendor,
            method: HTTPMethod(rawValue: key.method),
            path: key.path,
            client: EgressClient(address: key.address, certificateCommonName: key.subject, name: key.name),
            decision: key.status >= 500 ? .error : .blocked,
            reason: key.code,
            rule: key.rule,
            category: key.category,
            direction: key.direction,
            requestBytes: 0,
            forwarded: nil,
            status: key.status,
            aggregated: EgressDecisionRecord.AggregatedRefusals(
                count: tally.count,
                first: tally.first,
                last: tally.last
            )
        )
    }
}
