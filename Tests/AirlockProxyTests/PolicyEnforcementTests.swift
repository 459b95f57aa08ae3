import AirlockAudit
import AirlockProxy
import AirlockRedaction
import Foundation
import Testing

/// The redaction engine and the audit log at the proxy's seams, through real curl and a real vendor socket.
@Suite(.timeLimit(.minutes(2)))
struct PolicyEnforcementTests {
    static let policyText = """
        version: 1
        name: enforcement-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale", "Project Falcon"]}
        detectors:
          - email: {action: redact, domains: [lab.example.com]}
          - secret: {action: block}
        content:
          unknown: block
        """

    /// Compiles the test policy with a fresh key into an inspector for vendor "scale".
    static func inspector() throws -> PolicyInspector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-policy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        try Self.policyText.write(toFile: path, atomically: true, encoding: .utf8)
        let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        return PolicyInspector(policies: ["scale": try VendorPolicy.load(path: path, keys: keys)])
    }

    /// A harness with the test policy whose decisions go to a real audit log in `directory` (created; the caller
    /// removes it). Close the harness, then the log, before reading it.
    static func auditedHarness(
        logIn directory: URL,
        options: ProxyHarness.Options = ProxyHarness.Options()
    ) async throws -> (ProxyHarness, AuditLog) {
        let log = try await AuditLog.open(AuditConfiguration(directory: directory))
        var options = options
        options.inspector = try Self.inspector()
        options.recorder = AuditRecorder(log: log)
        return (try await ProxyHarness(options), log)
    }

    @Test func whatLeavesIsRedactedAndWhatComesBackIsRestored() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector()
        let harness = try await ProxyHarness(options)
        let body = #"{"project": "Project Falcon", "notes": "ask jane.doe@lab.example.com about nightingale"}"#
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", body, harness.url("/scale/v1/task/x"),
        ])
        let metrics = try await Curl.run(["http://127.0.0.1:\(harness.adminPort)/metrics"]).body
        await harness.close()
        #expect(result.status == 200)
        // Decisions and findings by rule id; never a value.
        let lines = metrics.split(separator: "\n")
        #expect(
            lines.contains {
                $0.hasPrefix("airlock_findings_total{") && $0.contains(#"rule="codenames""#) && $0.hasSuffix(" 2")
            },
            "\(metrics)"
        )
        #expect(
            lines.contains {
                $0.hasPrefix("airlock_decisions_total{") && $0.contains(#"decision="forwarded""#) && $0.hasSuffix(" 1")
            }
        )
        #expect(metrics.contains("airlock_inspection_seconds"))
        #expect(!metrics.contains("Falcon") && !metrics.contains("jane.doe"))
        let received = try #require(harness.vendor.requests.first).bodyText
        #expect(!received.contains("Falcon") && !received.lowercased().contains("nightingale"), "\(received)")
        #expect(!received.contains("jane.doe"))
        #expect(received.contains("CODENAME_") && received.contains("[REDACTED:EMAIL]"), "\(received)")
        // The stand-in vendor echoes what it received: the lab gets its own names back, the redaction stays.
        #expect(
            result.body.contains("Project Falcon") && result.body.lowercased().contains("nightingale"),
            "\(result.body)"
        )
        #expect(!result.body.contains("CODENAME_"))
        #expect(result.body.contains("[REDACTED:EMAIL]"))
    }

    @Test func aSecretBlocksTheRequestAndTheVendorSeesNothing() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector()
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"key": "AKIAIOSFODNN7EXAMPLE"}"#,
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(result.status == 403)
        #expect(errorCode(result.body) == "blocked_by_policy")
        #expect(!result.body.contains("AKIAIOSFODNN7EXAMPLE"))
        #expect(harness.vendor.connectionCount == 0)
    }

    /// Each body Airlock cannot inspect is refused with its status and code, and nothing reaches the vendor.
    @Test(
        arguments: [
            ("application/json", Data(#"{"project": "Nightingale""#.utf8), nil, 422, "uninspectable_body"),
            ("application/json", Data(#"{"a": 1} trailing"#.utf8), nil, 422, "uninspectable_body"),
            ("application/json", Data([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]), "gzip", 422, "uninspectable_body"),
            ("text/plain", Data([0x4e, 0x69, 0xff, 0xfe, 0x67]), nil, 422, "uninspectable_body"),
            ("application/octet-stream", Data([0, 1, 2, 3]), nil, 403, "blocked_by_policy"),
            ("application/json", Data(#"{"a": 1}"#.utf8), "br", 422, "uninspectable_body"),
        ] as [(String, Data, String?, Int, String)]
    )
    func uninspectableBodiesAreRefused(
        contentType: String,
        body: Data,
        encoding: String?,
        status: Int,
        code: String
    ) async throws {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector()
        let harness = try await ProxyHarness(options)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-body-\(UUID())")
        try body.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var arguments = ["-H", "Content-Type: \(contentType)", "--data-binary", "@\(file.path)"]
        if let encoding { arguments += ["-H", "Content-Encoding: \(encoding)"] }
        let result = try await harness.curl(arguments + [harness.url("/scale/v1/task/x")])
        await harness.close()
        #expect(result.status == status, "\(result.body)")
        #expect(errorCode(result.body) == code)
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func pathSegmentsAndQueryValuesAreRedactedToo() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector()
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl([
            harness.url("/scale/v1/task/Nightingale-run?q=Project%20Falcon&owner=jane.doe%40lab.example.com&page=2")
        ])
        await harness.close()
        #expect(result.status == 200)
        let uri = try #require(harness.vendor.requests.first).uri
        #expect(!uri.contains("Nightingale") && !uri.contains("Falcon") && !uri.contains("jane.doe"), "\(uri)")
        #expect(
            uri.hasPrefix("/v1/task/CODENAME_") && uri.contains("q=CODENAME_") && uri.hasSuffix("&page=2"),
            "\(uri)"
        )
    }

    @Test(arguments: [
        ("/scale/v1/task/x?key=AKIAIOSFODNN7EXAMPLE", 403, "blocked_by_policy"),
        ("/scale/v1/task/x?name=%zz", 422, "uninspectable_request"),
        ("/scale/v1/task/x?name=%C3%28", 422, "uninspectable_request"),
    ])
    func aQueryThatMustNotLeaveIsRefused(path: String, status: Int, code: String) async throws {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector()
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl([harness.url(path)])
        await harness.close()
        #expect(result.status == status, "\(result.body)")
        #expect(errorCode(result.body) == code)
        #expect(!result.body.contains("AKIAIOSFODNN7EXAMPLE"))
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func policyNoneAllowsOnlyContentlessRequests() async throws {
        var options = ProxyHarness.Options()
        options.inspector = PolicyInspector(policies: [:])
        let harness = try await ProxyHarness(options)
        let post = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/x")])
        let get = try await harness.curl([harness.url("/scale/v1/task/x")])
        await harness.close()
        #expect(post.status == 403)
        #expect(errorCode(post.body) == "no_policy_for_content")
        #expect(get.status == 200)
        #expect(harness.vendor.requests.count == 1)
    }

    @Test func theAuditLogRecordsDecisionsWithoutTheSecrets() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-audit-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (harness, log) = try await Self.auditedHarness(logIn: directory)
        let forwarded = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"project": "Project Falcon"}"#,
            harness.url("/scale/v1/task/x"),
        ])
        let blocked = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"key": "AKIAIOSFODNN7EXAMPLE", "p": "Nightingale"}"#,
            harness.url("/scale/v1/task/y"),
        ])
        let headers = try await harness.curl([
            "-o", "/dev/null", "-D", "-", "-H", "Content-Type: application/json", "-d", #"{"a": 1}"#,
            harness.url("/scale/v1/task/z"),
        ])
        await harness.close()
        try await log.close()
        #expect(forwarded.status == 200 && blocked.status == 403)
        // Each response names its request; the log knows it by that id.
        let idLine = headers.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("airlock-request-id:") }
        let requestID = try #require(idLine.map { $0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces) })

        let decisions = try AuditLogReader(directory: directory).entries().filter { $0.event == .decision }
        // Required: the checks below index the three decisions.
        try #require(decisions.map(\.decision) == [.forwarded, .blocked, .forwarded])
        #expect(decisions.last?.id == requestID)
        #expect(Set(decisions.compactMap(\.id)).count == 3)
        #expect(decisions[0].findings?.map(\.id) == ["codenames"])
        #expect(decisions[0].policy?.hasPrefix("enforcement-test@sha256:") == true)
        #expect(decisions[0].forwardedBytes == harness.vendor.requests.first?.body.count)
        #expect(decisions[1].rule == "secret")
        #expect(decisions[1].forwardedBytes == nil)

        // Not the codenames, not the key: anywhere under the audit directory, compressed bodies included.
        for (name, text) in try await Self.everyFileAsText(under: directory) {
            #expect(
                !text.contains("Falcon") && !text.contains("Nightingale") && !text.contains("AKIAIOSFODNN7"),
                "\(name)"
            )
        }
    }

    /// Every file under `directory` as text, gzip packs decompressed by `zcat` (bounded, off the Swift pool).
    static func everyFileAsText(under directory: URL) async throws -> [(name: String, text: String)] {
        var files: [(name: String, text: String)] = []
        for name in FileManager.default.enumerator(atPath: directory.path)?.compactMap({ $0 as? String }) ?? [] {
            let path = directory.appendingPathComponent(name).path
            if name.hasSuffix(".gz") {
                let zcat = Process()
                zcat.executableURL = URL(fileURLWithPath: "/bin/sh")
                zcat.arguments = ["-c", "zcat '\(path)'"]
                let result = try await Curl.execute(zcat, timeout: 30)
                #expect(result.exitCode == 0, "zcat \(name): \(result.stderr)")
                files.append((name, result.stdout))
            } else {
                let data = FileManager.default.contents(atPath: path) ?? Data()
                files.append((name, String(decoding: data, as: UTF8.self)))
            }
        }
        return files
    }

    /// A refused request's path can hold what made it refused (a key in the path, a codename next to a blocked
    /// body, a route outside the allowlist): the log records the policy's redaction of it, or nothing of it.
    @Test func refusedRequestsNeverPutTheirPathInTheLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-audit-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (harness, log) = try await Self.auditedHarness(logIn: directory)
        let json = ["-H", "Content-Type: application/json", "-d"]
        // Blocked by the body; the path carries a codename.
        let body = try await harness.curl(
            json + [#"{"k": "AKIAIOSFODNN7EXAMPLE"}"#, harness.url("/scale/v1/task/Nightingale-7")]
        )
        // Blocked by the path itself.
        let path = try await harness.curl(json + [#"{"a": 1}"#, harness.url("/scale/v1/task/AKIAIOSFODNN7EXAMPLE")])
        // Outside the route allowlist, refused before any policy ran.
        let route = try await harness.curl(
            json + [#"{"a": 1}"#, harness.url("/scale/v2/Nightingale/AKIAIOSFODNN7EXAMPLE")]
        )
        await harness.close()
        try await log.close()
        #expect(body.status == 403 && path.status == 403 && route.status == 403)
        #expect(harness.vendor.connectionCount == 0)

        let decisions = try AuditLogReader(directory: directory).entries().filter { $0.event == .decision }
        try #require(decisions.map(\.decision) == [AuditDecision.blocked, .blocked, .blocked])
        let paths = decisions.map { $0.path ?? "" }
        #expect(paths[0].hasPrefix("/v1/task/CODENAME_"), "\(paths)")
        // The route refusal names the route the path came nearest to, never the path.
        #expect(paths[1] == EgressDecisionRecord.withheldPath)
        #expect(paths[2] == "(withheld; no route pattern is near the path)", "\(paths)")
        for (name, text) in try await Self.everyFileAsText(under: directory) {
            #expect(!text.contains("Nightingale") && !text.contains("AKIAIOSFODNN7"), "\(name)")
        }
    }

    /// A chunked upload from the lab leaves as one fixed-length body: the vendor sees `Content-Length` equal to the
    /// redacted body's size and no `Transfer-Encoding`.
    @Test func chunkedRequestBodiesLeaveWithAFixedLength() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector()
        let harness = try await ProxyHarness(options)
        let body = #"{"notes": "Project Falcon \#(String(repeating: "filler ", count: 3000)) ends"}"#
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-H", "Transfer-Encoding: chunked", "--data-binary", body,
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(result.status == 200)
        let received = try #require(harness.vendor.requests.first)
        #expect(received.header("transfer-encoding") == nil)
        #expect(received.header("content-length") == String(received.body.count))
        #expect(received.body.count > 20_000)
        #expect(!received.bodyText.contains("Falcon") && received.bodyText.contains("CODENAME_"))
        #expect(received.bodyText.hasSuffix(" ends\"}"))
    }
}
