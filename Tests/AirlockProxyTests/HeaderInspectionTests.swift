import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// The values of the headers that reach the vendor are inspected with its policy like the URL and the body;
/// credentials meant for the vendor leave untouched and are never logged or recorded.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HeaderInspectionTests {
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-headers-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func headerValuesAreRedactedInPlaceAndCredentialsLeaveUntouched() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let captured = CapturedLog()
        var options = ProxyHarness.Options()
        options.headers = ["x-project"]
        options.logger = captured.logger
        let (harness, log) = try await PolicyEnforcementTests.auditedHarness(logIn: directory, options: options)
        let result = try await harness.curl([
            "-H", "User-Agent: Nightingale-client/1.0", "-H", "Idempotency-Key: nightingale-eval-0001",
            "-H", "X-Project: Project Falcon", "-H",
            "Content-Type: application/json; charset=utf-8; project=Nightingale",
            "-H", "Authorization: Bearer nightingale-token-Falcon", "-H", "X-Api-Key: Project Falcon key",
            "-d", #"{"a": 1}"#, harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        try await log.close()
        #expect(result.status == 200, "\(result.body)")
        let received = try #require(harness.vendor.requests.first)
        for name in ["user-agent", "idempotency-key", "x-project", "content-type"] {
            let value = received.header(name) ?? ""
            #expect(value.contains("CODENAME_"), "\(name): \(value)")
            #expect(!value.lowercased().contains("nightingale") && !value.contains("Falcon"), "\(name): \(value)")
        }
        #expect(received.header("user-agent")?.hasSuffix("-client/1.0") == true)
        #expect(
            received.header("content-type")?.hasPrefix("application/json; charset=utf-8; project=CODENAME_") == true
        )
        // Credentials are the vendor's: as the lab sent them.
        #expect(received.header("authorization") == "Bearer nightingale-token-Falcon")
        #expect(received.header("x-api-key") == "Project Falcon key")
        #expect(received.bodyText == #"{"a": 1}"#)

        // Findings by rule and header name; no value anywhere in the log, the audit records or the stored bodies.
        let decision = try #require(try AuditLogReader(directory: directory).entries().first { $0.event == .decision })
        #expect(decision.decision == .forwarded)
        let paths = Set((decision.findings ?? []).filter { $0.id == "codenames" }.flatMap(\.paths))
        #expect(
            paths == ["header:user-agent", "header:idempotency-key", "header:x-project", "header:content-type"],
            "\(decision.findings ?? [])"
        )
        for (name, text) in try await PolicyEnforcementTests.everyFileAsText(under: directory) {
            let lower = text.lowercased()
            #expect(!lower.contains("nightingale") && !lower.contains("falcon") && !lower.contains("bearer"), "\(name)")
        }
        let logged = captured.text.lowercased()
        #expect(!logged.isEmpty)
        #expect(
            !logged.contains("nightingale") && !logged.contains("falcon") && !logged.contains("bearer"),
            "\(logged)"
        )
    }

    @Test func aHeaderValueMatchingABlockRuleRefusesTheRequest() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = ProxyHarness.Options()
        options.headers = ["x-project"]
        let (harness, log) = try await PolicyEnforcementTests.auditedHarness(logIn: directory, options: options)
        let result = try await harness.curl([
            "-H", "X-Project: key AKIAIOSFODNN7EXAMPLE", "-H", "Content-Type: application/json", "-d", "{}",
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        try await log.close()
        #expect(result.status == 403)
        #expect(errorCode(result.body) == "blocked_by_policy")
        #expect(!result.body.contains("AKIA"))
        #expect(harness.vendor.connectionCount == 0)
        let decision = try #require(try AuditLogReader(directory: directory).entries().first { $0.event == .decision })
        #expect(decision.decision == .blocked && decision.rule == "secret")
        #expect((decision.findings ?? []).flatMap(\.paths).contains("header:x-project"))
    }

    @Test func aMultipartBoundaryThePolicyWouldChangeIsRefused() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        let harness = try await ProxyHarness(options)
        let boundary = "nightingale-0001"
        let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--\(boundary)--\r\n"
        let result = try await harness.curl([
            "-H", "Content-Type: multipart/form-data; boundary=\(boundary)", "--data-binary", body,
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(result.status == 422, "\(result.body)")
        #expect(errorCode(result.body) == "uninspectable_request")
        #expect(harness.vendor.connectionCount == 0)
    }
}
