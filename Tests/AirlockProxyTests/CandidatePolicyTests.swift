import AirlockAudit
import AirlockPolicy
import AirlockProxy
import AirlockRedaction
import Foundation
import Testing

/// A vendor's candidate policy (`policy_candidate`) beside the enforced one, through the proxy with curl: it never
/// decides, and where it would have decided otherwise the audit record and /metrics say so without a value.
@Suite(.timeLimit(.minutes(2)))
struct CandidatePolicyTests {
    static let enforced = """
        version: 1
        name: lab
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
        detectors:
          - email: {action: redact, domains: [lab.example.com]}
        content:
          unknown: block
        """

    /// Blocks the roadmap, and no longer has the codenames nor redacts e-mail addresses.
    static let candidate = """
        version: 1
        name: lab-next
        terms:
          - {id: roadmap, action: block, values: ["Q3 launch"]}
        content:
          unknown: block
        """

    static let keys = PseudonymKeys(secret: Array(repeating: 9, count: 32))

    static func load(_ text: String) throws -> VendorPolicy {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-candidate-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try VendorPolicy.load(path: path, keys: Self.keys)
    }

    static let body =
        #"{"Nightingale": {"plan": "the Q3 launch"}, "owner": "jane@lab.example.com", "Q3 launch": 1}"#

    /// Sends the body through a proxy enforcing `enforced` with or without the candidate; what the vendor received,
    /// the status, the metrics and the decisions recorded.
    static func send(
        withCandidate: Bool
    ) async throws -> (
        received: [UInt8], status: Int, metrics: String, decisions: [AuditEntry]
    ) {
        var policy = try Self.load(Self.enforced)
        if withCandidate {
            let next = try Self.load(Self.candidate)
            policy.candidate = CandidatePolicy(redactor: next.redactor, identity: next.identity)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-candidate-log-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try await AuditLog.open(AuditConfiguration(directory: directory))
        var options = ProxyHarness.Options()
        options.inspector = PolicyInspector(policies: ["scale": policy])
        options.recorder = AuditRecorder(log: log)
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", Self.body, harness.url("/scale/v1/task/x"),
        ])
        let metrics = try await Curl.run(["http://127.0.0.1:\(harness.adminPort)/metrics"]).body
        let received = harness.vendor.requests.first?.body ?? []
        await harness.close()
        try await log.close()
        return (received, result.status, metrics, try AuditLogReader(directory: directory).decisions())
    }

    @Test func aCandidateThatBlocksNeverBlocksAndTheDifferenceIsRecorded() async throws {
        let without = try await Self.send(withCandidate: false)
        let with = try await Self.send(withCandidate: true)
        #expect(without.status == 200 && with.status == 200)
        #expect(with.received == without.received && !with.received.isEmpty)
        let decision = try #require(with.decisions.first)
        #expect(decision.decision == .forwarded)
        let candidate = try #require(decision.candidate, "\(decision)")
        #expect(
            candidate.decision == "blocked" && candidate.rule == "roadmap" && candidate.policy.hasPrefix("lab-next@")
        )
        let email = try #require(candidate.findings.first { $0.id == "email" }, "\(candidate.findings)")
        #expect(email.enforced == 1 && email.candidate == 0 && email.paths == ["$.owner"])
        let roadmap = try #require(candidate.findings.first { $0.id == "roadmap" }, "\(candidate.findings)")
        #expect(roadmap.action == "block" && roadmap.enforced == 0 && roadmap.candidate >= 1)
        // Paths as they left: the key the enforced policy pseudonymised is written as it left, never as sent.
        #expect(
            roadmap.paths.allSatisfy { !$0.contains("Nightingale") && !$0.contains("Q3 launch") },
            "\(roadmap.paths)"
        )
        // The candidate would have named that key as the lab wrote it (it has no codenames rule).
        #expect(
            roadmap.paths.count == 1
                && roadmap.paths.allSatisfy { $0.hasPrefix("$.CODENAME_") && $0.hasSuffix(".plan") }
        )
        let codenames = try #require(candidate.findings.first { $0.id == "codenames" })
        #expect(codenames.enforced >= 1 && codenames.candidate == 0)
        #expect(without.decisions.first?.candidate == nil)
        let lines = with.metrics.split(separator: "\n")
        #expect(
            lines.contains {
                $0.hasPrefix("airlock_candidate_decisions_total{") && $0.contains(#"enforced="forwarded""#)
                    && $0.contains(#"candidate="blocked""#) && $0.hasSuffix(" 1")
            },
            "\(with.metrics)"
        )
        #expect(lines.contains { $0.hasPrefix("airlock_candidate_findings_total{") && $0.contains(#"rule="email""#) })
        #expect(!with.metrics.contains("Nightingale") && !with.metrics.contains("Q3 launch"))
    }

    @Test func anInvalidCandidateIsIgnoredAndEnforcementIsUnchanged() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-candidate-cfg-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.enforced.write(to: directory.appendingPathComponent("lab.yaml"), atomically: true, encoding: .utf8)
        try "version: 1\nname: broken\nterms:\n  - {id: x, action: explode, values: [a]}\n".write(
            to: directory.appendingPathComponent("lab-next.yaml"),
            atomically: true,
            encoding: .utf8
        )
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key}
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://127.0.0.1:9
                routes: ["POST /v1/task/*"]
                policy: lab.yaml
                policy_candidate: lab-next.yaml
            """
        let configuration = try ProxyConfiguration.parse(
            yaml: yaml,
            file: "airlock.yaml",
            baseDirectory: directory.path
        )
        #expect(configuration.vendors.first?.policyCandidate == directory.appendingPathComponent("lab-next.yaml").path)
        let compiled = try EgressSetup.compile(configuration, keys: Self.keys)
        // Reported where it is wrong, its quoted values withheld (the problem goes to the service log).
        #expect(compiled.candidateProblems.count == 1 && compiled.candidateProblems[0].contains("lab-next.yaml:"))
        #expect(compiled.candidateProblems.first?.contains("explode") == false)
        #expect(compiled.versions["scale"]?.hasPrefix("lab@sha256:") == true)
        #expect(compiled.sourceFiles.contains { $0.hasSuffix("lab.yaml") })
    }
}
