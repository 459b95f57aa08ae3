import AirlockAudit
import NIOCore

/// The egress audit log at the proxy's recording seam.
///
/// A decision is durable (fsync'd, with the forwarded body when bodies are stored) before the proxy sends the first
/// byte to the vendor; if the log cannot be written, `recordDecision` throws and the proxy answers 503 with nothing
/// forwarded. Only the path as forwarded, the proxy's own reason codes, rule ids, counts and JSONPaths are recorded.
public struct AuditRecorder: EgressRecorder {
    public let log: AuditLog

    public init(log: AuditLog) {
        self.log = log
    }

    public func recordDecision(_ record: EgressDecisionRecord) async throws {
        let inspection = record.forwarded?.inspection ?? record.inspection
        let decision: AuditDecision
        switch record.decision {
        case .forwarded: decision = .forwarded
        case .blocked: decision = .blocked
        case .error: decision = .error
        }
        let entry = DecisionRecord(
            id: record.requestID,
            client: AuditClient(
                ip: record.client.address ?? "unknown",
                subject: record.client.certificateCommonName
            ),
            vendor: record.vendor,
            method: record.method.rawValue,
            path: record.path,
            decision: decision,
            reason: record.reason,
            rule: record.rule,
            policy: inspection?.policy ?? "none",
            findings: (inspection?.findings ?? []).map {
                AuditFinding(id: $0.rule, action: $0.action, count: $0.count, paths: $0.paths)
            },
            requestBytes: record.requestBytes,
            status: record.status
        )
        let body = record.forwarded.map { Array($0.body.readableBytesView) }
        _ = try await self.log.recordDecision(entry, forwardedBody: body)
    }

    public func recordOutcome(_ record: EgressOutcomeRecord) async throws {
        try await self.log.recordOutcome(
            id: record.requestID,
            status: record.vendorStatus,
            durationMs: Double(record.durationNanoseconds) / 1_000_000,
            error: record.error
        )
    }
}
