import AirlockAudit
import AirlockReview
import AirlockSupport
import AirlockTLS
import Foundation
import Logging

/// An audit log written by AirlockAudit's own writer, holding what a reviewer must see and what an attacker would
/// plant: placeholders and pseudonyms in stored bodies, a blocked and a refused request, markup and spreadsheet
/// formulas in fields and bodies, and enough plain records for three pages. Served by a real console on 127.0.0.1.
final class ReviewFixture: @unchecked Sendable {
    static let token = "reviewer-token-0123456789"
    static let xssBody =
        #"{"note":"<script>document.title='pwned'</script>","html":"\"><img src=x onerror=\"document.title='pwned'\">","#
        + #""who":"[REDACTED:CODENAME] met EMAIL_ABCDEFG234 and CODENAME_QWERTY7"}"#
    static let plainRecords = 110

    let root: URL
    let audit: URL
    let tokenFile: URL
    private(set) var port = 0
    private var server: Task<Void, Error>?

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-review-\(UUID().uuidString)")
        audit = root.appendingPathComponent("audit")
        tokenFile = root.appendingPathComponent("tokens")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try "# reviewers\n\(SHA256.hex(Self.token))\n".write(to: tokenFile, atomically: true, encoding: .utf8)
    }

    deinit {
        server?.cancel()
        try? FileManager.default.removeItem(at: root)
    }

    static func decision(
        _ id: String,
        vendor: String = "scale",
        path: String = "/v1/task/comparison",
        client: AuditClient = AuditClient(ip: "10.0.0.7", name: "labeling-pipeline"),
        decision: AuditDecision = .forwarded,
        reason: String? = nil,
        rule: String? = nil,
        findings: [AuditFinding] = [],
        status: Int? = nil
    ) -> DecisionRecord {
        DecisionRecord(
            id: id,
            client: client,
            vendor: vendor,
            method: "POST",
            path: path,
            decision: decision,
            reason: reason,
            rule: rule,
            policy: "demo@sha256:00",
            findings: findings,
            requestBytes: 120,
            status: status
        )
    }

    /// Writes the log.
    func write() async throws {
        let log = try await AuditLog.open(AuditConfiguration(directory: audit, checkpointEvery: 50))
        for number in 1...Self.plainRecords {
            _ = try await log.recordDecision(
                Self.decision("plain-\(number)", vendor: number % 2 == 0 ? "scale" : "labelbox"),
                forwardedBody: Array(#"{"text":"plain task \#(number)"}"#.utf8)
            )
            try await log.recordOutcome(id: "plain-\(number)", status: 200, durationMs: 3, error: nil)
        }
        let findings = [
            AuditFinding(id: "codename", action: "redact", count: 1, paths: ["$.who"]),
            AuditFinding(id: "email", action: "pseudonymize", count: 1, paths: ["$.who"]),
            AuditFinding(id: "codename-variant", action: "pseudonymize", count: 1, paths: ["$.who"]),
        ]
        _ = try await log.recordDecision(
            Self.decision("marked-1", findings: findings),
            forwardedBody: Array(Self.xssBody.utf8)
        )
        try await log.recordOutcome(id: "marked-1", status: 201, durationMs: 5, error: nil)
        _ = try await log.recordDecision(
            Self.decision(
                "hostile-1",
                vendor: "scale",
                path: #"/v1/"><img src=x onerror="document.title='pwned'">"#,
                client: AuditClient(
                    ip: "10.0.0.9",
                    subject: "<script>document.title='pwned'</script>",
                    name: "=cmd|' /C calc'!A0"
                )
            ),
            forwardedBody: Array(Self.xssBody.utf8)
        )
        _ = try await log.recordDecision(
            Self.decision("blocked-1", decision: .blocked, reason: "blocked_by_policy", rule: "codename", status: 403),
            forwardedBody: nil
        )
        _ = try await log.recordDecision(
            Self.decision("route-1", decision: .blocked, reason: "route_not_allowed", status: 403),
            forwardedBody: nil
        )
        _ = try await log.recordDecision(
            Self.decision(
                "vendor-<b>bold</b>",
                vendor: "<b>vendor</b>",
                decision: .error,
                reason: "vendor_timeout",
                status: 504
            ),
            forwardedBody: nil
        )
        try await log.close()
    }

    /// Starts a console over the log on a free port, over HTTPS with `tls`.
    func serve(tls: TLSServerContext? = nil) async throws {
        let console = try ReviewConsole(
            directories: [audit],
            tokens: ReviewTokens(file: tokenFile.path),
            isHTTPS: tls != nil
        )
        console.chains.verify(publicKeys: [])
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        server = Task {
            try await ReviewServer.run(
                console: console,
                host: "127.0.0.1",
                port: 0,
                tls: tls,
                logger: Self.quietLogger
            ) { port in continuation.yield(port) }
        }
        for await port in stream {
            self.port = port
            break
        }
    }

    /// Cancelling the server at the end of a test is logged as an error by Hummingbird; only worse is shown.
    static let quietLogger: Logger = {
        var logger = Logger(label: "review-test")
        logger.logLevel = .critical
        return logger
    }()

    var base: String { "http://127.0.0.1:\(port)" }

    static func started() async throws -> ReviewFixture {
        let fixture = try ReviewFixture()
        try await fixture.write()
        try await fixture.serve()
        return fixture
    }
}
