import AirlockAudit
import AirlockRedaction
import Metrics
import NIOCore

/// The metrics the proxy publishes. Labels carry vendor names and status codes only: never paths, queries or bodies.
///
/// Handles are created up front per vendor; the per-status request counters are cached per event loop
/// (`LoopMetrics`) so the request path neither locks nor allocates once warm.
public final class ProxyMetrics: Sendable {
    public let registry: PrometheusRegistry
    let vendorNames: [String]
    let upstreamLatency: [Timer]
    let upstreamConnections: [Meter]
    let labToAirlockBytes: [Counter]
    let airlockToVendorBytes: [Counter]
    let vendorToAirlockBytes: [Counter]
    let airlockToLabBytes: [Counter]
    let clientConnections: Meter
    /// Per vendor: forwarded, blocked, error (the audit log's decisions).
    let decisions: [[Counter]]
    /// Per vendor: time spent inspecting (redacting) a request.
    let inspectionTime: [Timer]
    /// Policy reloads (SIGHUP or a changed file): applied, refused.
    let reloads: [Counter]
    /// Open lab connections, connections refused at a cap, requests cut at a deadline.
    let connections: ConnectionMetrics

    /// `vendorNames` in configuration order; index `vendorNames.count` stands for "no vendor" (e.g. 404s).
    public init(registry: PrometheusRegistry, vendorNames: [String]) {
        self.registry = registry
        self.vendorNames = vendorNames + ["none"]
        registry.setHelp("Requests answered, by vendor and HTTP status.", for: "airlock_requests_total")
        registry.setHelp(
            "Time from forwarding a request to the vendor's full response.",
            for: "airlock_upstream_latency_seconds"
        )
        registry.setHelp("Open TLS connections to the vendor.", for: "airlock_upstream_connections")
        registry.setHelp("Body bytes, by vendor and direction.", for: "airlock_body_bytes_total")
        registry.setHelp("Open connections from the lab.", for: "airlock_client_connections")
        self.upstreamLatency = vendorNames.map {
            Timer(label: "airlock_upstream_latency_seconds", dimensions: [("vendor", $0)], factory: registry)
        }
        self.upstreamConnections = vendorNames.map {
            Meter(label: "airlock_upstream_connections", dimensions: [("vendor", $0)], factory: registry)
        }
        func bytes(_ direction: String) -> [Counter] {
            vendorNames.map {
                Counter(
                    label: "airlock_body_bytes_total",
                    dimensions: [("vendor", $0), ("direction", direction)],
                    factory: registry
                )
            }
        }
        self.labToAirlockBytes = bytes("lab_to_airlock")
        self.airlockToVendorBytes = bytes("airlock_to_vendor")
        self.vendorToAirlockBytes = bytes("vendor_to_airlock")
        self.airlockToLabBytes = bytes("airlock_to_lab")
        self.clientConnections = Meter(label: "airlock_client_connections", factory: registry)
        registry.setHelp("Egress decisions, by vendor and decision.", for: "airlock_decisions_total")
        registry.setHelp(
            "Policy findings, by vendor, rule id and action (counts of matches; never the values); mode=\"report\" for "
                + "report-only rules, whose action was not applied.",
            for: "airlock_findings_total"
        )
        registry.setHelp("Time to inspect and redact one request.", for: "airlock_inspection_seconds")
        registry.setHelp(
            "Requests where the vendor's candidate policy would have decided differently, by vendor, the enforced "
                + "decision and the candidate's.",
            for: "airlock_candidate_decisions_total"
        )
        registry.setHelp(
            "Matches the candidate policy would have made beyond (more) or short of (fewer) the enforced policy, by "
                + "vendor, rule id and action.",
            for: "airlock_candidate_findings_total"
        )
        self.decisions = self.vendorNames.map { vendor in
            ["forwarded", "blocked", "error"].map {
                Counter(
                    label: "airlock_decisions_total",
                    dimensions: [("vendor", vendor), ("decision", $0)],
                    factory: registry
                )
            }
        }
        self.inspectionTime = self.vendorNames.map {
            Timer(label: "airlock_inspection_seconds", dimensions: [("vendor", $0)], factory: registry)
        }
        registry.setHelp(
            "Policy reloads (SIGHUP or a changed file), by result: applied, or refused (the previous policies serve).",
            for: "airlock_policy_reloads_total"
        )
        self.reloads = ["applied", "refused"].map {
            Counter(label: "airlock_policy_reloads_total", dimensions: [("result", $0)], factory: registry)
        }
        self.connections = ConnectionMetrics(registry: registry)
    }

    /// Counts one policy reload attempt.
    public func recordReload(applied: Bool) {
        self.reloads[applied ? 0 : 1].increment()
    }

    /// Counts one decision and its findings. Findings are rare, so their counters are looked up when needed.
    func recordDecision(
        vendorIndex: Int,
        forwarded: Bool,
        error: Bool,
        findings: [Finding],
        candidate: CandidateDifference? = nil
    ) {
        let index = min(vendorIndex, self.vendorNames.count - 1)
        if let candidate {
            self.recordCandidate(
                candidate,
                vendor: self.vendorNames[index],
                enforced: forwarded ? "forwarded" : (error ? "error" : "blocked")
            )
        }
        self.decisions[index][forwarded ? 0 : (error ? 2 : 1)].increment()
        for finding in findings {
            var dimensions = [("vendor", self.vendorNames[index]), ("rule", finding.rule), ("action", finding.action)]
            if let mode = finding.mode { dimensions.append(("mode", mode.rawValue)) }
            Counter(label: "airlock_findings_total", dimensions: dimensions, factory: self.registry)
                .increment(by: Int64(finding.count))
        }
    }

    /// Counts where a candidate policy disagreed: the request when its decision differs, and each rule's extra or
    /// missing matches.
    private func recordCandidate(_ candidate: CandidateDifference, vendor: String, enforced: String) {
        if candidate.decision != enforced {
            Counter(
                label: "airlock_candidate_decisions_total",
                dimensions: [("vendor", vendor), ("enforced", enforced), ("candidate", candidate.decision)],
                factory: self.registry
            ).increment()
        }
        for rule in candidate.findings {
            Counter(
                label: "airlock_candidate_findings_total",
                dimensions: [
                    ("vendor", vendor), ("rule", rule.id), ("action", rule.action),
                    ("direction", rule.candidate > rule.enforced ? "more" : "fewer"),
                ],
                factory: self.registry
            ).increment(by: Int64(abs(rule.candidate - rule.enforced)))
        }
    }

    func requestCounter(vendorIndex: Int, status: Int) -> Counter {
        Counter(
            label: "airlock_requests_total",
            dimensions: [("vendor", self.vendorNames[vendorIndex]), ("status", String(status))],
            factory: self.registry
        )
    }
}

/// Event-loop-local cache of the per-(vendor, status) request counters. Only touched on its event loop.
final class LoopMetrics {
    private let metrics: ProxyMetrics
    private var counters: [Int: Counter] = [:]

    init(metrics: ProxyMetrics) {
        self.metrics = metrics
    }

    func countRequest(vendorIndex: Int, status: Int) {
        let key = vendorIndex &* 1000 &+ status
        if let counter = self.counters[key] {
            counter.increment()
            return
        }
        let counter = self.metrics.requestCounter(vendorIndex: vendorIndex, status: status)
        self.counters[key] = counter
        counter.increment()
    }
}

@available(*, unavailable)
extension LoopMetrics: Sendable {}
