import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// The JSON-lines decision stream (`audit.stream`), followed the way log shippers follow files: a real `tail -F`
/// process started before Airlock writes anything, while a real `airlock serve` takes requests from curl and rotates
/// the stream every few records.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DecisionStreamTests {
    /// The decision and outcome lines of the durable log, in order (zero-filled tails and checkpoints left out).
    static func durableLines(_ directory: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("audit-") && $0.hasSuffix(".jsonl") }.sorted()
        var lines: [String] = []
        for name in names {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)).filter { $0 != 0 }
            lines += String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).filter {
                $0.hasPrefix(#"{"event":"decision""#) || $0.hasPrefix(#"{"event":"outcome""#)
            }
        }
        return lines
    }

    @Test func tailFollowsEveryRecordExactlyOnceWhileTheStreamRotates() async throws {
        let audit = "{directory: audit, stream: {path: decisions.jsonl, max_bytes: 4096, keep: 2}}"
        try await ServedAirlock.with(policy: RefusalFloodTests.policy, audit: audit) { airlock in
            let stream = airlock.directory + "/decisions.jsonl"
            let tailed = airlock.directory + "/tailed.jsonl"
            FileManager.default.createFile(atPath: tailed, contents: nil)
            let tail = Process()
            tail.executableURL = URL(fileURLWithPath: "/usr/bin/tail")
            tail.arguments = ["-F", "-n", "+1", "-s", "0.1", stream]
            tail.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: tailed))
            tail.standardError = FileHandle.nullDevice
            try tail.run()
            defer {
                // SIGKILL: the test process ignores SIGTERM (the service tests handle it), and so would its child.
                kill(tail.processIdentifier, SIGKILL)
                tail.waitUntilExit()
            }
            #expect(await RefusalFloodTests.waitUntilListening(airlock))

            // Rounds of forwarded requests (a pseudonymised codename each) and refusals, one curl per round, each
            // round more than the stream's max_bytes; a file is rotated once it is a second old, so rounds are
            // spaced by a little more for the stream to rotate between most of them.
            let task = "https://127.0.0.1:\(airlock.port)/scale/v1/task/"
            for round in 0..<6 {
                if round > 0 { try await Task.sleep(for: .milliseconds(1100)) }
                let urls = (0..<12).map { task + "\(round)-\($0)" }
                let result = try await Curl.run(
                    [
                        "--cacert", airlock.certificates.caCertificatePath, "-H", "Content-Type: application/json",
                        "-d", #"{"project": "Nightingale", "round": \#(round)}"#,
                    ] + urls,
                    timeout: 60
                )
                #expect(result.transfers.count == 12 && result.transfers.allSatisfy { $0.status == 200 })
                _ = try await Curl.run(
                    [
                        "--cacert", airlock.certificates.caCertificatePath,
                        task.replacingOccurrences(of: "task/", with: "nope"),
                    ]
                )
            }
            airlock.signal(SIGTERM)
            #expect(await eventually(timeout: 30) { !airlock.process.isRunning })

            let durable = try Self.durableLines(airlock.directory + "/audit")
            #expect(durable.count > 6 * 12 * 2, "every forwarded request has a decision and an outcome")
            let caughtUp = await eventually(timeout: 20) {
                let text = (try? String(contentsOfFile: tailed, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").count >= durable.count
            }
            #expect(caughtUp)
            let text = try String(contentsOfFile: tailed, encoding: .utf8)
            let followed = text.split(separator: "\n").map(String.init)
            // Exactly the durable records, each once, in order, byte for byte: no zeros, no gaps, no repeats.
            #expect(followed.count == durable.count)
            let firstDifference = (0..<min(followed.count, durable.count)).first { followed[$0] != durable[$0] }
            #expect(
                firstDifference == nil && followed.count == durable.count,
                "first difference at line \(firstDifference ?? -1)"
            )
            #expect(!text.utf8.contains(0))
            #expect(!text.contains("Nightingale"), "the stream holds what the log holds, nothing the policy hides")
            // It did rotate, and kept only the configured number of old files.
            let names = try FileManager.default.contentsOfDirectory(atPath: airlock.directory)
            #expect(names.contains("decisions.jsonl.1") && names.contains("decisions.jsonl.2"), "\(names)")
            #expect(!names.contains("decisions.jsonl.3"))
            let current = try Data(contentsOf: URL(fileURLWithPath: stream))
            #expect(current.count < 64 * 1024, "rotated by size")
        }
    }

    /// `stream: stdout`: the same lines on standard output, among nothing else that looks like them.
    @Test func theStreamCanGoToStandardOutput() async throws {
        try await ServedAirlock.with(policy: RefusalFloodTests.policy, audit: "{directory: audit, stream: stdout}") {
            airlock in
            #expect(await RefusalFloodTests.waitUntilListening(airlock))
            for number in 0..<3 {
                let sent = try await airlock.send(#"{"project": "Nightingale"}"#, path: "/scale/v1/task/\(number)")
                #expect(sent.status == 200)
            }
            airlock.signal(SIGTERM)
            #expect(await eventually(timeout: 30) { !airlock.process.isRunning })
            let output = try String(contentsOfFile: airlock.outputPath, encoding: .utf8)
            let streamed = output.split(separator: "\n").map(String.init).filter { $0.hasPrefix(#"{"event":"#) }
            let durable = try Self.durableLines(airlock.directory + "/audit")
            #expect(durable.count == 6 && streamed == durable)
        }
    }

    @Test func theStreamIsConfiguredUnderAudit() throws {
        func parse(_ stream: String) throws -> AuditStreamConfiguration? {
            let yaml = """
                listen: {address: 127.0.0.1:0, tls: {certificate: a.crt, key: a.key}}
                vendors:
                  - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:1", routes: ["POST /x"], policy: none}
                audit: {directory: audit, stream: \(stream)}
                """
            return try ProxyConfiguration.parse(yaml: yaml, file: "t.yaml", baseDirectory: "/srv/airlock").audit?.log
                .stream
        }
        #expect(try parse("stdout") == .standardOutput)
        #expect(
            try parse("{path: log/decisions.jsonl}")
                == .file(
                    path: URL(fileURLWithPath: "/srv/airlock/log/decisions.jsonl"),
                    maxBytes: AuditStreamConfiguration.defaultMaxBytes,
                    keep: AuditStreamConfiguration.defaultKeep
                )
        )
        #expect(
            try parse("{path: /var/log/d.jsonl, max_bytes: 1048576, keep: 3}")
                == .file(path: URL(fileURLWithPath: "/var/log/d.jsonl"), maxBytes: 1_048_576, keep: 3)
        )
        for bad in [
            "stderr", "{path: d.jsonl, max_bytes: 100}", "{path: d.jsonl, keep: 0}", "{max_bytes: 5000}",
            "{path: d.jsonl, colour: red}",
        ] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try parse(bad) }
        }
    }
}
