import AirlockProxy
import AirlockStandIns
import Foundation
import Testing

/// The `airlock` executable's documented behaviours, through the built binary: `airlock test` on the repository's
/// policy test cases, `redact` exit codes, the `log` commands on a log a real `serve` wrote, and the
/// refusals at startup.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs the built `airlock` with `arguments`; stdout, stderr and exit code.
    static func airlock(_ arguments: [String], timeout: TimeInterval = 60) async throws -> CurlResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        process.arguments = arguments
        return try await Curl.execute(process, timeout: timeout)
    }

    // MARK: airlock test

    @Test func theRepositorysPolicyTestCasesAllPass() async throws {
        let result = try await Self.airlock(["test", Self.root.appendingPathComponent("Policies/tests").path])
        #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let passed = summary.split(separator: " ").first.flatMap { Int($0) } ?? 0
        #expect(summary == "\(passed) passed, 0 failed" && passed >= 20, "\(result.stdout)")
    }

    @Test func aBrokenPolicyTestCaseFailsTheRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-cases-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        policy: \(Self.root.appendingPathComponent("Policies/demo.yaml").path)
        vendor: scale
        content_type: application/json
        cases:
          - name: the codename leaves pseudonymized
            input: '{"a": "Nightingale"}'
            not_contains: ["Nightingale"]
          - name: a case that expects the codename to leave as it is
            input: '{"a": "Nightingale"}'
            output: '{"a": "Nightingale"}'
        """.write(to: directory.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let result = try await Self.airlock(["test", directory.path])
        #expect(result.exitCode == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.last == "1 passed, 1 failed", "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("FAIL ") && $0.contains("expects the codename") }, "\(result.stdout)")
    }

    // MARK: airlock redact

    @Test func redactExitsZeroTwoOrOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-redact-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("pseudonym.key").path
        try ThrowawayCertificates.write(
            Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() + "\n",
            to: key,
            mode: 0o600
        )
        let demo = Self.root.appendingPathComponent("Policies/demo.yaml").path
        func redact(_ body: String, policy: String = demo, key: String = key) async throws -> CurlResult {
            let input = directory.appendingPathComponent("body-\(UUID()).json")
            try body.write(to: input, atomically: true, encoding: .utf8)
            return try await Self.airlock([
                "redact", "--policy", policy, "--key-file", key, "--content-type", "application/json", input.path,
            ])
        }
        let forwarded = try await redact(#"{"project": "Nightingale"}"#)
        #expect(forwarded.exitCode == 0, "\(forwarded.stderr)")
        #expect(forwarded.stdout.contains("CODENAME_") && !forwarded.stdout.contains("Nightingale"))

        // A block rule (GitHub token) and an uninspectable body: exit 2, nothing on standard output.
        let blocked = try await redact(#"{"token": "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"}"#)
        #expect(blocked.exitCode == 2, "\(blocked.stdout)\(blocked.stderr)")
        #expect(blocked.stdout.isEmpty && !blocked.stderr.contains("ghp_0123456789"))
        let malformed = try await redact(#"{"project": "Nightingale""#)
        #expect(malformed.exitCode == 2, "\(malformed.stdout)\(malformed.stderr)")
        #expect(malformed.stdout.isEmpty && !malformed.stderr.contains("Nightingale"))

        // Could not run: an invalid policy, a missing key.
        let badPolicy = directory.appendingPathComponent("bad.yaml").path
        try "version: 1\nname: bad\nterms:\n  - {id: t, action: wipe, values: [x]}\n"
            .write(toFile: badPolicy, atomically: true, encoding: .utf8)
        let invalid = try await redact(#"{"project": "Nightingale"}"#, policy: badPolicy)
        #expect(invalid.exitCode == 1 && invalid.stdout.isEmpty, "\(invalid.stderr)")
        let keyless = try await redact(
            #"{"project": "Nightingale"}"#,
            key: directory.appendingPathComponent("none").path
        )
        #expect(keyless.exitCode == 1 && keyless.stdout.isEmpty, "\(keyless.stderr)")
    }

    /// `redact` reads the whole body into one buffer, from a file (sized by its length) or a pipe (grown as it
    /// fills), and writes what leaves in full: the input itself when nothing changes, the engine's output otherwise.
    @Test func redactReadsWholeBodiesFromFilesAndPipesAndWritesThemInFull() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-redact-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("pseudonym.key").path
        let secret = Data(repeating: 7, count: 32).base64EncodedString()
        try ThrowawayCertificates.write(secret + "\n", to: key, mode: 0o600)
        let demo = Self.root.appendingPathComponent("Policies/demo.yaml").path
        // ~5 MiB, numbered entries (a lost or repeated block of the input changes the output), the codename last: a
        // pipe fills the reader's first buffer several times over.
        let entries = (0..<120_000).map { #""entry \#($0) lorem ipsum dolor sit amet""# }.joined(separator: ",")
        let plain = #"{"lines": [\#(entries)]}"#
        let named = #"{"lines": [\#(entries)], "end": "Nightingale"}"#
        #expect(plain.utf8.count > 4 << 20)
        func redact(_ body: String, throughPipe: Bool) async throws -> CurlResult {
            let input = directory.appendingPathComponent("body-\(UUID()).json").path
            try body.write(toFile: input, atomically: true, encoding: .utf8)
            let command = [
                ServeCommandTests.airlockBinary, "redact", "--policy", demo, "--key-file", key, "--content-type",
                "application/json",
            ]
            let process = Process()
            if throughPipe {
                // sh -c 'f=$1; shift; cat "$f" | "$@" -' sh FILE airlock redact ...: the body arrives through a pipe.
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", #"f="$1"; shift; cat "$f" | "$@" -"#, "sh", input] + command
            } else {
                process.executableURL = URL(fileURLWithPath: command[0])
                process.arguments = Array(command.dropFirst()) + [input]
            }
            return try await Curl.execute(process, timeout: 60)
        }
        for throughPipe in [false, true] {
            let unchanged = try await redact(plain, throughPipe: throughPipe)
            #expect(unchanged.exitCode == 0, "\(unchanged.stderr)")
            let identical = unchanged.stdout == plain  // not in the expectation: a failure would print 5 MiB twice
            #expect(identical, "pipe: \(throughPipe), \(unchanged.stdout.utf8.count) of \(plain.utf8.count) bytes out")
            let rewritten = try await redact(named, throughPipe: throughPipe)
            #expect(rewritten.exitCode == 0, "\(rewritten.stderr)")
            #expect(!rewritten.stdout.contains("Nightingale"))
            let whole = rewritten.stdout.hasPrefix(#"{"lines": [\#(entries)], "end": "CODENAME_"#)
            #expect(whole, "pipe: \(throughPipe), \(rewritten.stdout.utf8.count) bytes out")
        }
        let missing = try await Self.airlock([
            "redact", "--policy", demo, "--key-file", key, directory.appendingPathComponent("none.json").path,
        ])
        #expect(missing.exitCode == 1 && missing.stdout.isEmpty && missing.stderr.contains("cannot read"))
    }

    // MARK: airlock log, on a log a real serve wrote

    @Test func logCommandsReadWhatServeWroteAndVerifyRefusesATamperedLog() async throws {
        let policy = """
            version: 1
            name: cli-log
            terms:
              - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
              - {id: forbidden, label: FORBIDDEN, action: block, values: ["Blackbird"]}
            """
        try await ServedAirlock.with(policy: policy, audit: "{directory: audit}") { airlock in
            var forwarded: CurlResult?
            for _ in 0..<200 {
                forwarded = try await airlock.send(#"{"project": "Nightingale", "n": 1}"#)
                if forwarded?.exitCode == 0 { break }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            #expect(forwarded?.status == 200)
            let blocked = try await airlock.send(#"{"project": "Blackbird"}"#)
            #expect(blocked.status == 403 && errorCode(blocked.body) == "blocked_by_policy", "\(blocked.body)")
            let uninspectable = try await airlock.send(#"{"project": "Nightingale""#)
            #expect(uninspectable.status == 422 && errorCode(uninspectable.body) == "uninspectable_body")
            #expect(airlock.vendor.requests.count == 1)
            airlock.signal(SIGTERM)
            airlock.process.waitUntilExit()
            #expect(airlock.process.terminationStatus == 0)
            let directory = airlock.directory + "/audit"

            // show: the 422 is in the log as a refusal, with the reason and no value.
            let shown = try await Self.airlock(["log", "show", "--json", "--dir", directory])
            #expect(shown.exitCode == 0, "\(shown.stderr)")
            let records = shown.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(records.count == 3, "\(shown.stdout)")
            #expect(
                records.map { $0["decision"] as? String } == ["forwarded", "blocked", "blocked"],
                "\(shown.stdout)"
            )
            let refused = records.last ?? [:]
            #expect((refused["reason"] as? String)?.contains("uninspectable") == true, "\(refused)")
            #expect(refused["forwarded_bytes"] == nil || refused["forwarded_bytes"] is NSNull, "\(refused)")
            #expect((records[1]["rule"] as? String) == "forbidden", "\(records[1])")

            // stats: per decision and per rule, no values.
            let stats = try await Self.airlock(["log", "stats", "--json", "--dir", directory])
            #expect(stats.exitCode == 0, "\(stats.stderr)")
            let counted = try #require(
                try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any],
                "\(stats.stdout)"
            )
            let byDecision = counted["by_decision"] as? [String: [String: Any]]
            #expect(byDecision?["forwarded"]?["requests"] as? Int == 1, "\(stats.stdout)")
            #expect(byDecision?["blocked"]?["requests"] as? Int == 2, "\(stats.stdout)")
            let byRule = counted["by_rule"] as? [String: [String: Any]]
            #expect(byRule?["forbidden"]?["blocked"] as? Int == 1, "\(stats.stdout)")
            #expect(byRule?["codenames"]?["matches"] as? Int == 1, "\(stats.stdout)")
            let table = try await Self.airlock(["log", "stats", "--dir", directory])
            #expect(table.exitCode == 0 && table.stdout.contains("TOTAL"))
            for output in [shown.stdout, stats.stdout, table.stdout] {
                #expect(!output.contains("Nightingale") && !output.contains("Blackbird"))
            }

            // body: byte for byte what the vendor received, by request id and by hash.
            let id = try #require(records.first?["id"] as? String)
            let sha = try #require(records.first?["forwarded_sha256"] as? String)
            let vendorGot = String(decoding: airlock.vendor.requests[0].body, as: UTF8.self)
            for reference in [id, sha] {
                let body = try await Self.airlock(["log", "body", "--dir", directory, reference])
                #expect(body.exitCode == 0 && body.stdout == vendorGot, "\(body.stdout) vs \(vendorGot)")
            }
            let unknown = try await Self.airlock(["log", "body", "--dir", directory, "req-that-never-was"])
            #expect(unknown.exitCode == 1 && unknown.stdout.isEmpty)

            // verify: 0 as written; 1 naming the record once a byte of it changed.
            #expect(try await Self.airlock(["log", "verify", "--dir", directory]).exitCode == 0)
            let file = try #require(
                try FileManager.default.contentsOfDirectory(atPath: directory).sorted().first { $0.hasSuffix(".jsonl") }
            )
            var bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))
            let range = try #require(bytes.range(of: Data(#""vendor":"scale""#.utf8)))
            bytes[range.upperBound - 2] = UInt8(ascii: "x")  // "scale" -> "scaxe"
            try bytes.write(to: URL(fileURLWithPath: directory + "/" + file))
            let tampered = try await Self.airlock(["log", "verify", "--dir", directory])
            #expect(tampered.exitCode == 1, "\(tampered.stdout)\(tampered.stderr)")
            #expect((tampered.stdout + tampered.stderr).contains("seq 1"), "\(tampered.stdout)\(tampered.stderr)")
        }
    }

    // MARK: refusals at startup

    /// `airlock serve` on a configuration that differs from a good one by `edit`: it must exit 1 before listening and
    /// say why on standard error.
    func expectRefusedAtStartup(
        _ reason: String,
        policy: String = "version: 1\nname: ok\nterms:\n  - {id: c, action: redact, values: [Nightingale]}\n",
        key: Bool = true,
        auditDirectory: String = "audit"
    ) async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let directory = certificates.directory
        let port = try closedPort()
        try policy.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        if key {
            try ThrowawayCertificates.write(
                Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() + "\n",
                to: directory + "/pseudonym.key",
                mode: 0o600
            )
        }
        try """
        listen:
          address: 127.0.0.1:\(port)
          tls: {certificate: airlock.crt, key: airlock.key}
        vendors:
          - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:1", ca: ca.crt,
             routes: ["POST /v1/task/*"], policy: policy.yaml}
        pseudonym_key: pseudonym.key
        audit: {directory: \(auditDirectory)}
        """.write(toFile: directory + "/airlock.yaml", atomically: true, encoding: .utf8)
        let result = try await Self.airlock(["serve", "--config", directory + "/airlock.yaml"], timeout: 30)
        #expect(result.exitCode == 1, "\(reason): exit \(result.exitCode), \(result.stderr)")
        #expect(result.stderr.contains("error:") && result.stderr.contains(reason), "\(result.stderr)")
        #expect(!result.stderr.contains("Nightingale"))
        #expect(try await Curl.run(["-k", "https://127.0.0.1:\(port)/"], timeout: 5).exitCode != 0)
    }

    @Test func serveRefusesToStartWithAnInvalidPolicy() async throws {
        try await self.expectRefusedAtStartup(
            // Where, not what: the policy's quoted values are withheld from the service's output.
            "unknown action '…'",
            policy: "version: 1\nname: bad\nterms:\n  - {id: c, action: wipe, values: [Nightingale]}\n"
        )
    }

    @Test func serveRefusesToStartWithoutItsPseudonymKey() async throws {
        try await self.expectRefusedAtStartup("pseudonym.key", key: false)
    }

    @Test func serveRefusesToStartWithAnUnwritableAuditDirectory() async throws {
        // A path through a regular file cannot become a directory, even for root.
        try await self.expectRefusedAtStartup("airlock.crt/audit", auditDirectory: "airlock.crt/audit")
    }
}
