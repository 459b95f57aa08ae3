import AirlockAudit
import AirlockPolicy
import AirlockProxy
import AirlockRedaction
import Foundation
import Testing

/// `airlock log hunt`'s engine over real audit logs: bodies stored in rotated packs, found by a term added after
/// they left; a clean log; a tampered pack.
@Suite(.timeLimit(.minutes(2)))
struct RetroHuntTests {
    /// A log in a fresh directory, rotating files and packs every few KiB, with `count` forwarded decisions; the
    /// bodies at `planted` carry the new codename "Bluebird" (as a value, and as a JSON key), and when any body does,
    /// so does the recorded path of request 7. Returns the
    /// directory (the caller removes it) and the request ids.
    static func makeLog(
        count: Int = 60,
        planted: Set<Int>,
        signingKey: URL? = nil
    ) async throws -> (URL, [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-hunt-\(UUID())")
        let log = try await AuditLog.open(
            AuditConfiguration(directory: directory, signingKeyPath: signingKey, rotateBytes: 8 * 1024)
        )
        var ids: [String] = []
        for index in 0..<count {
            let id = "req-\(index)"
            ids.append(id)
            let filler = (0..<40).map { "word\(index)x\($0)" }.joined(separator: " ")
            let body: String
            if planted.contains(index) {
                body = #"{"task": {"note": "ship Bluebird next", "Bluebird v2": "x"}, "filler": "\#(filler)"}"#
            } else {
                body = #"{"task": {"note": "nothing to see", "n": \#(index)}, "filler": "\#(filler)"}"#
            }
            let record = DecisionRecord(
                id: id,
                client: AuditClient(ip: "10.0.0.1", subject: nil),
                vendor: index % 2 == 0 ? "scale" : "labelbox",
                method: "POST",
                path: index == 7 && !planted.isEmpty ? "/v1/task/bluebird-intake" : "/v1/task/\(index)",
                decision: .forwarded,
                policy: "old@sha256:0",
                requestBytes: body.utf8.count
            )
            _ = try await log.recordDecision(record, forwardedBody: Array(body.utf8))
        }
        try await log.close()
        return (directory, ids)
    }

    static func policy(_ terms: [String]) throws -> HuntPolicy {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-hunt-policy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("new.yaml").path
        let values = terms.map { "\"\($0)\"" }.joined(separator: ", ")
        try """
        version: 1
        name: lab-next
        terms:
          - {id: codenames, label: CODENAME, action: block, values: [\(values)]}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try HuntPolicy(try PolicyLoader.load(path: path))
    }

    @Test func findsATermThatLeftBeforeItWasAddedAcrossRotatedFilesAndPacks() async throws {
        let (directory, ids) = try await Self.makeLog(planted: [3, 52])
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let packs = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("bodies").path)
        #expect(names.filter { $0.hasSuffix(".jsonl") }.count >= 3, "\(names)")
        #expect(packs.count >= 2, "\(packs)")

        let outcome = try RetroHunt.run(try Self.policy(["Bluebird"]), options: RetroHunt.Options(directory: directory))
        let report = outcome.report
        let bodyMatches = report.matches.filter { $0.place == "body" }
        #expect(Set(bodyMatches.map(\.id)) == [ids[3], ids[52]], "\(report.matches)")
        let first = try #require(bodyMatches.first)
        #expect(first.rule == "codenames" && first.label == "CODENAME" && first.count == 2)
        #expect(first.vendor == "labelbox" && first.seq > 0)
        // Where it matched, as it left, with the match itself never printed: the key is redacted in the path.
        #expect(first.paths.contains("$.task.note"), "\(first.paths)")
        // "Bluebird v2" is the term with a version suffix: the whole key is the match.
        #expect(first.paths.contains("$.task['[REDACTED:CODENAME]']"), "\(first.paths)")
        // The recorded path of another request holds it too.
        let path = try #require(report.matches.first { $0.place == "path" })
        #expect(path.id == ids[7] && path.paths == ["/v1/task/[REDACTED:CODENAME]-intake"], "\(path.paths)")
        let encoded = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!encoded.lowercased().contains("bluebird"))
        #expect(report.coverage.decisions == 60 && report.coverage.bodies == 60 && report.coverage.uninspected.isEmpty)
        #expect(!report.coverage.checkpoints.isEmpty && report.coverage.afterLastCheckpoint == 0)

        // Only one vendor, only a time range: the other planted body is out of range.
        var options = RetroHunt.Options(directory: directory)
        options.query.vendor = "scale"
        let scale = try RetroHunt.run(try Self.policy(["Bluebird"]), options: options).report
        #expect(Set(scale.matches.map(\.id)) == [ids[52]], "\(scale.matches)")
    }

    @Test func aCleanLogReportsNothingAndSaysWhatItCovered() async throws {
        let (directory, _) = try await Self.makeLog(count: 20, planted: [])
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = try RetroHunt.run(
            try Self.policy(["Bluebird", "Kestrel"]),
            options: RetroHunt.Options(directory: directory)
        )
        .report
        #expect(report.matches.isEmpty, "\(report.matches)")
        #expect(report.coverage.decisions == 20 && report.coverage.bodies == 20)
        #expect(report.coverage.firstSeq == 1 && report.coverage.lastSeq != nil)
        #expect(report.statement.contains("no stored body and no recorded path matched"), "\(report.statement)")
        #expect(report.statement.contains("20 decisions") && report.policy.hasPrefix("lab-next@sha256:"))
        #expect(!report.statement.contains("Kestrel"))
    }

    @Test func aTamperedBodyPackFailsTheHuntNamingTheRecord() async throws {
        let (directory, ids) = try await Self.makeLog(count: 20, planted: [])
        defer { try? FileManager.default.removeItem(at: directory) }
        // Rewrite one stored body in its pack: a different body of the same length, validly compressed.
        let entries = try AuditLogReader(directory: directory).entries().filter { $0.event == .decision }
        let victim = entries[11]
        let location = try #require(victim.body).split(separator: ":")
        let pack = directory.appendingPathComponent("bodies").appendingPathComponent(String(location[0]))
        var bytes = Array(try Data(contentsOf: pack))
        let offset = try #require(Int(location[1]))
        let length = try #require(Int(location[2]))
        // Flip one byte of the deflate data (past the 10-byte gzip header).
        bytes[offset + length / 2] ^= 0x20
        try Data(bytes).write(to: pack)
        #expect(throws: RetroHunt.Failure.self) {
            _ = try RetroHunt.run(try Self.policy(["Bluebird"]), options: RetroHunt.Options(directory: directory))
        }
        do {
            _ = try RetroHunt.run(try Self.policy(["Bluebird"]), options: RetroHunt.Options(directory: directory))
        } catch {
            #expect("\(error)".contains("seq \(victim.seq), request \(ids[11])"), "\(error)")
        }
    }

    @Test func anAlteredRecordFailsTheHuntBeforeAnyBodyIsRead() async throws {
        let (directory, _) = try await Self.makeLog(count: 10, planted: [4])
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("audit-000001.jsonl")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "/v1/task/4", with: "/v1/task/5").write(
            to: file,
            atomically: true,
            encoding: .utf8
        )
        do {
            _ = try RetroHunt.run(try Self.policy(["Bluebird"]), options: RetroHunt.Options(directory: directory))
            Issue.record("the hunt answered over an edited log")
        } catch {
            #expect("\(error)".contains("does not verify"), "\(error)")
        }
    }
}

extension RetroHuntTests {
    /// `gzip` run as a process: the bytes a vendor receives for a gzip-encoded request.
    static func gzip(_ text: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    /// Stored bodies are read as the bytes say: a term escaped in JSON, inside a gzip-encoded body, in a form body
    /// (percent-encoded, `+` for spaces) and in a multipart part is found; the same bodies without it are clean.
    @Test func findsTheTermHowEverTheStoredBodyIsEncoded() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-hunt-enc-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try await AuditLog.open(AuditConfiguration(directory: directory))
        let bodies: [[UInt8]] = [
            Array(#"{"note": "ship Blue\u0062ird"}"#.utf8),
            try Self.gzip(#"{"items": [{"text": "Bluebird launch"}]}"#),
            Array("title=x&note=ship+Blue%62ird+now".utf8),
            Array(
                "--b0undary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nBluebird\r\n--b0undary--\r\n".utf8
            ),
            Array(#"{"note": "nothing here"}"#.utf8),
        ]
        for (index, body) in bodies.enumerated() {
            let record = DecisionRecord(
                id: "enc-\(index)",
                client: AuditClient(ip: "10.0.0.1", subject: nil),
                vendor: "scale",
                method: "POST",
                path: "/v1/task/\(index)",
                decision: .forwarded,
                policy: "old@sha256:0",
                requestBytes: body.count
            )
            _ = try await log.recordDecision(record, forwardedBody: body)
        }
        try await log.close()
        let report = try RetroHunt.run(try Self.policy(["Bluebird"]), options: RetroHunt.Options(directory: directory))
            .report
        #expect(Set(report.matches.map(\.id)) == ["enc-0", "enc-1", "enc-2", "enc-3"], "\(report.matches)")
        #expect(report.matches.first { $0.id == "enc-1" }?.paths == ["$.items[0].text"])
        #expect(report.matches.first { $0.id == "enc-3" }?.paths == ["$.note"], "\(report.matches)")
        #expect(report.coverage.uninspected.isEmpty)
    }
}
