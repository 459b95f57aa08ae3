import AirlockSupport
import Foundation
import Testing

@testable import AirlockAudit

@Suite("Audit log: writing, chain and signatures")
struct AuditLogTests {
    @Test func chainAndSignaturesVerify() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let log = try await AuditLog.open(scratch.configuration(key: keys.key, checkpointEvery: 10))
        #expect(log.keyID == keys.keyID)
        for number in 1...40 {
            let receipt = try await log.recordDecision(
                sampleDecision(number),
                forwardedBody: Array("body \(number)".utf8)
            )
            #expect(receipt.seq >= number)
            try await log.recordOutcome(id: "req-\(number)", status: 200, durationMs: 12.5, error: nil)
        }
        try await log.close()

        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        #expect(summary.decisions == 40)
        #expect(summary.outcomes == 40)
        #expect(summary.signedCheckpoints == summary.checkpoints)
        #expect(summary.checkpoints >= 8)  // every 10 records, plus the shutdown checkpoint
        #expect(summary.keyIDs == [keys.keyID])
        #expect(summary.records == summary.lastSeq)
        #expect(summary.description.hasPrefix("OK: "))

        // The key id is the first 16 hex digits of SHA-256 over the public key DER, as `openssl` computes it.
        let der = try await pipe("/usr/bin/openssl", ["pkey", "-pubin", "-in", keys.pub.path, "-outform", "DER"])
        #expect(keys.keyID == String(SHA256.hex(der).prefix(16)))

        let other = try scratch.keyPair("other")
        expectFailure(scratch.audit, publicKeys: [other.pub], kind: .forgedCheckpoint, seq: nil)
        expectFailure(scratch.audit, publicKeys: [], kind: .noPublicKey, seq: nil)
    }

    @Test func opensslGeneratedKeysSign() async throws {
        // `airlock certs init` may create the pair with the openssl CLI; both PEM forms must load.
        let scratch = try Scratch()
        let key = scratch.root.appendingPathComponent("cli.key")
        let pub = scratch.root.appendingPathComponent("cli.pub")
        #expect(run("/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out", key.path) == 0)
        #expect(run("/usr/bin/openssl", "pkey", "-in", key.path, "-pubout", "-out", pub.path) == 0)
        let log = try await AuditLog.open(scratch.configuration(key: key))
        _ = try await log.recordDecision(sampleDecision(1), forwardedBody: nil)
        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [pub])
        #expect(summary.signedCheckpoints == 1)
        // A non-Ed25519 key is refused with a clear error before anything is written.
        let rsa = scratch.root.appendingPathComponent("rsa.key")
        #expect(
            run(
                "/usr/bin/openssl",
                "genpkey",
                "-algorithm",
                "rsa",
                "-pkeyopt",
                "rsa_keygen_bits:1024",
                "-out",
                rsa.path
            ) == 0
        )
        let error = await #expect(throws: AuditError.self) {
            _ = try await AuditLog.open(
                AuditConfiguration(directory: scratch.root.appendingPathComponent("x"), signingKeyPath: rsa)
            )
        }
        #expect(error?.code == .signingKey)
    }

    @Test func garbageKeyIsRefusedWithOpenSSLsReasonAndAnEmptyQueue() async throws {
        let scratch = try Scratch()
        let garbage = scratch.root.appendingPathComponent("garbage.key")
        try Data("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n".utf8).write(to: garbage)
        let error = await #expect(throws: AuditError.self) {
            _ = try await AuditLog.open(
                AuditConfiguration(directory: scratch.root.appendingPathComponent("x"), signingKeyPath: garbage)
            )
        }
        #expect(error?.code == .signingKey)
        // OpenSSL's own reason is carried, in its `error:XXXXXXXX:lib:func:reason` form ...
        #expect(error?.message.contains("error:") == true)
        // ... and the thread's queue is left empty (no suspension between the two calls: same thread).
        #expect(throws: AuditError.self) { _ = try SigningKey(pem: Array(try Data(contentsOf: garbage)), source: "x") }
        #expect(openSSLErrors() == "no OpenSSL error reported")
    }

    @Test func unsignedLogVerifiesAsHashChain() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        #expect(log.keyID == nil)
        for number in 1...5 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions == 5 && summary.signedCheckpoints == 0 && summary.checkpoints == 1)
        // Asking for signatures on an unsigned log fails: the operator expected proof that is not there.
        let keys = try scratch.keyPair()
        expectFailure(scratch.audit, publicKeys: [keys.pub], kind: .forgedCheckpoint, seq: 6)
    }

    @Test func recordLayoutIsTheDocumentedOne() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        var record = sampleDecision(
            7,
            findings: [AuditFinding(id: "codename", action: "redact", count: 2, paths: ["$.a", "$.b[0]"])]
        )
        record.path = "/v1/t?q=\"quoted\"\n\u{1}é"
        record.client.subject = "CN=labeler,O=Lab"
        record.forwardedSHA256 = "caller value is replaced"
        let receipt = try await log.recordDecision(record, forwardedBody: Array("hello".utf8))
        try await log.recordOutcome(id: "req-7", status: 201, durationMs: 3.14159, error: nil)
        try await log.close()

        let lines = try readLines(scratch.file(1))
        let helloSHA = SHA256.hex(Array("hello".utf8))
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix(#"{"event":"decision","seq":1,"time":""#))
        #expect(lines[0].contains(#""client":{"ip":"127.0.0.1","subject":"CN=labeler,O=Lab"}"#))
        #expect(lines[0].contains(#""path":"/v1/t?q=\"quoted\"\n\u0001é""#))
        #expect(
            lines[0].contains(#""findings":[{"id":"codename","action":"redact","count":2,"paths":["$.a","$.b[0]"]}]"#)
        )
        #expect(
            lines[0].contains(
                #""request_bytes":107,"forwarded_bytes":5,"forwarded_sha256":"\#(helloSHA)""#
            )
        )
        #expect(lines[0].contains(#""prev":"\#(ChainLine.genesis)","hash":"\#(receipt.hash)"}"#))
        #expect(
            lines[1].contains(#""event":"outcome","seq":2"#)
                && lines[1].contains(#""status":201,"duration_ms":3.142,"error":null"#)
        )
        #expect(lines[2].hasPrefix(#"{"event":"checkpoint","seq":3,"#) && lines[2].contains(#""reason":"shutdown""#))
        #expect(receipt.time.count == 24 && receipt.time.hasSuffix("Z"))  // 2026-11-26T23:04:05.123Z

        // The reader gets back what was written.
        let rows = try AuditLogReader(directory: scratch.audit).decisions()
        #expect(rows.count == 1)
        #expect(rows[0].path == record.path && rows[0].status == 201 && rows[0].durationMs == 3.142)
        #expect(rows[0].findings == record.findings)
    }

    @Test func concurrentAppendsAreDurableChainedAndGroupCommitted() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let log = try await AuditLog.open(scratch.configuration(key: keys.key, checkpointEvery: 64))
        let receipts = try await withThrowingTaskGroup(of: AuditReceipt.self) { group in
            for number in 1...200 {
                group.addTask {
                    try await log.recordDecision(sampleDecision(number), forwardedBody: Array("b\(number)".utf8))
                }
            }
            var all: [AuditReceipt] = []
            for try await receipt in group { all.append(receipt) }
            return all
        }
        // Durable before return: every acknowledged record is already in the file, before close.
        let text = try String(contentsOf: scratch.file(1), encoding: .utf8)
        for receipt in receipts { #expect(text.contains(#""hash":"\#(receipt.hash)""#)) }
        let statistics = log.statistics
        try await log.close()

        #expect(Set(receipts.map(\.seq)).count == 200)
        #expect(Set(receipts.map(\.id)).count == 200)
        #expect(statistics.records == 200)
        #expect(statistics.logSyncs < 200, "group commit: \(statistics.logSyncs) fsyncs for 200 records")
        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        #expect(summary.decisions == 200)
        // Every body of the batched appends is stored where its record says, under its own hash.
        let decisions = try AuditLogReader(directory: scratch.audit).decisions()
        #expect(decisions.count == 200)
        for decision in decisions {
            let location = try #require(decision.body)
            let sha256 = try #require(decision.forwardedSHA256)
            let number = try #require(decision.id).dropFirst("req-".count)
            let body = try BodyStore.read(root: scratch.audit.path, reference: location, sha256: sha256)
            #expect(body == Array("b\(number)".utf8))
        }
        #expect(statistics.bodiesStored == 200)
    }

    @Test func rotationKeepsTheChain() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let configuration = scratch.configuration(key: keys.key, rotateBytes: 4096)
        var log = try await AuditLog.open(configuration)
        for number in 1...60 {
            // Random bytes do not compress, so the body packs rotate too.
            let body = number % 2 == 0 ? (0..<700).map { _ in UInt8.random(in: 0...255) } : nil
            _ = try await log.recordDecision(sampleDecision(number), forwardedBody: body)
        }
        try await log.close()
        let files = try scratch.logFiles()
        #expect(files.count >= 5)
        let bodies = scratch.audit.appendingPathComponent("bodies").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: bodies).count >= 3)
        for file in files.dropLast() {
            let lines = try readLines(file)
            #expect(lines.last?.contains(#""reason":"rotate""#) == true)
        }
        // The first record of each file links to the last record of the previous one.
        for (earlier, later) in zip(files, files.dropFirst()) {
            let previous = try readLines(earlier).last!
            let first = try readLines(later).first!
            #expect(first.contains(#""prev":"\#(hashOf(previous))""#))
        }
        // Reopening continues the chain in the newest file.
        log = try await AuditLog.open(configuration)
        let receipt = try await log.recordDecision(sampleDecision(61), forwardedBody: nil)
        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub], checkBodies: true)
        #expect(summary.bodiesChecked == 30 && summary.bodiesMissing == 0)
        let fileCount = try scratch.logFiles().count
        #expect(summary.decisions == 61 && summary.files == fileCount)
        #expect(receipt.seq == summary.lastSeq - 1)
        #expect(log.statistics.rotations == 0)  // the second session wrote too little to rotate
    }

    @Test func timeBasedCheckpointSignsAnIdleLog() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let log = try await AuditLog.open(scratch.configuration(key: keys.key, checkpointInterval: 0.2))
        _ = try await log.recordDecision(sampleDecision(1), forwardedBody: nil)
        let deadline = ContinuousClock.now + .seconds(10)
        while log.statistics.checkpoints == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(log.statistics.checkpoints == 1)
        // While the writer holds the log, a tail without a shutdown checkpoint is fine.
        let live = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        #expect(live.openByWriter && live.unsignedTail == 0 && live.signedCheckpoints == 1)
        try await log.close()
        let lines = try readLines(scratch.file(1))
        #expect(lines[1].contains(#""reason":"interval""#))
    }

    @Test func secondWriterAndClosedLogAreRefused() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        let inUse = await #expect(throws: AuditError.self) { _ = try await AuditLog.open(scratch.configuration()) }
        #expect(inUse?.code == .inUse)
        try await log.close()
        let closed = await #expect(throws: AuditError.self) {
            _ = try await log.recordDecision(sampleDecision(1), forwardedBody: nil)
        }
        #expect(closed?.code == .closed)
        let empty = await #expect(throws: AuditError.self) {
            _ = try await log.recordDecision(
                DecisionRecord(
                    id: "",
                    client: .init(ip: "::1"),
                    vendor: "v",
                    method: "GET",
                    path: "/",
                    decision: .blocked,
                    policy: "p",
                    requestBytes: 0
                ),
                forwardedBody: nil
            )
        }
        #expect(empty?.code == .invalidArgument)
    }
}

func pipe(_ executable: String, _ arguments: [String]) async throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}
