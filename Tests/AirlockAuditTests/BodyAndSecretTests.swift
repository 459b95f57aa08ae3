import AirlockSupport
import Foundation
import Testing

@testable import AirlockAudit

@Suite("Audit log: what left, and nothing secret")
struct BodyAndSecretTests {
    @Test func reusedDeflatersRoundTripEverySize() throws {
        // Small bodies go through a deflater's scratch buffer, large ones (incompressible, beyond the scratch) into
        // their own; each deflater is reset between bodies, so the members must not leak into one another.
        var generator = SystemRandomNumberGenerator()
        let bodies: [[UInt8]] = [
            [], Array("x".utf8), Array(String(repeating: "lorem ipsum ", count: 400).utf8),
            (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }, Array("after".utf8),
        ]
        for body in bodies + bodies.reversed() {
            let member = BodyStore.gzip(body)
            #expect(member.prefix(2) == [0x1f, 0x8b])
            #expect(try BodyStore.gunzip(member, source: "test") == body)
        }
        // Concurrent callers each take their own deflater from the pool.
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let body = Array(String(repeating: "body \(index) ", count: 300 + index).utf8)
            #expect((try? BodyStore.gunzip(BodyStore.gzip(body), source: "test")) == body)
        }
    }

    @Test func forwardedBodyIsStoredCompressedAndAddressedByHash() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        let body = Array(String(repeating: #"{"text":"hello vendor"}"#, count: 200).utf8)
        let receipt = try await log.recordDecision(sampleDecision(1), forwardedBody: body)
        let again = try await log.recordDecision(sampleDecision(2), forwardedBody: body)
        try await log.close()

        let sha = SHA256.hex(body)
        #expect(receipt.forwardedSHA256 == sha && again.forwardedSHA256 == sha)
        // Both records point at the one stored copy, a gzip member in the body pack.
        let decisions = try AuditLogReader(directory: scratch.audit).decisions()
        let text = try #require(decisions[0].body)
        let location = try #require(BodyStore.Reference(text))
        #expect(decisions[1].body == decisions[0].body)
        #expect(location.pack == "pack-000001.gz" && location.offset == 0)
        let stored = scratch.audit.appendingPathComponent("bodies/pack-000001.gz")
        let compressed = try Data(contentsOf: stored)
        #expect(compressed.count == location.length)
        #expect(compressed.prefix(2) == Data([0x1f, 0x8b]))  // gzip: `zcat bodies/pack-*.gz` reads the pack
        #expect(compressed.count < body.count / 4)
        #expect(log.statistics.bodiesStored == 1)  // the same bytes are stored once

        let reader = AuditLogReader(directory: scratch.audit)
        #expect(try reader.body(for: sha) == body)
        #expect(try reader.body(for: "req-1") == body)
        let missing = #expect(throws: AuditError.self) { _ = try reader.body(for: "req-404") }
        #expect(missing?.code == .notFound)

        let intact = try AuditVerifier.verify(directory: scratch.audit, checkBodies: true)
        #expect(intact.bodiesChecked == 1 && intact.bodiesMissing == 0)

        // A stored body that was altered is refused, not shown, and fails verification.
        var tampered = compressed
        tampered[tampered.count / 2] ^= 0x20
        try tampered.write(to: stored)
        let altered = #expect(throws: AuditError.self) { _ = try reader.body(for: sha) }
        #expect(altered?.code == .corrupt)
        do {
            _ = try AuditVerifier.verify(directory: scratch.audit, checkBodies: true)
            Issue.record("an altered body verified")
        } catch {
            #expect(error.kind == .alteredBody && error.seq == 1)
        }
    }

    @Test func bodiesAreNotStoredWhenTurnedOff() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration(storeBodies: false))
        let receipt = try await log.recordDecision(sampleDecision(1), forwardedBody: Array("abc".utf8))
        try await log.close()
        #expect(receipt.forwardedSHA256 == SHA256.hex(Array("abc".utf8)))
        #expect(!FileManager.default.fileExists(atPath: scratch.audit.appendingPathComponent("bodies").path))
        let error = #expect(throws: AuditError.self) {
            _ = try AuditLogReader(directory: scratch.audit).body(for: "req-1")
        }
        #expect(error?.message.contains("not stored") == true)
    }

    @Test func plantedSecretsAppearNowhereUnderTheAuditDirectory() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let log = try await AuditLog.open(scratch.configuration(key: keys.key, checkpointEvery: 2))
        let secrets = ["PROJECT-NIGHTINGALE", "sk-live-9f8e7d6c5b4a39281706", "alice@lab.internal", "gpt-7-preview"]
        // What the proxy hands over: the redacted body, and findings that name rules and places, not values.
        let original =
            #"{"prompt":"PROJECT-NIGHTINGALE ships gpt-7-preview; "#
            + #"key sk-live-9f8e7d6c5b4a39281706, ask alice@lab.internal"}"#
        let redacted = #"{"prompt":"[codename:3f2a] ships [model:91bc]; key [REDACTED], ask [email:77d0]"}"#
        var record = sampleDecision(
            1,
            findings: [
                AuditFinding(id: "codename", action: "pseudonymise", count: 1, paths: ["$.prompt"]),
                AuditFinding(id: "api-key", action: "redact", count: 1, paths: ["$.prompt"]),
            ]
        )
        record.requestBytes = original.utf8.count
        _ = try await log.recordDecision(record, forwardedBody: Array(redacted.utf8))
        _ = try await log.recordDecision(sampleDecision(2, decision: .blocked, rule: "roadmap"), forwardedBody: nil)
        try await log.recordOutcome(id: "req-1", status: 200, durationMs: 1, error: nil)
        try await log.close()

        let everything = String(decoding: try scratch.everythingStored(), as: UTF8.self)
        #expect(everything.contains("[codename:3f2a]"))  // the check can see inside stored bodies
        for secret in secrets { #expect(!everything.contains(secret), "\(secret) leaked into the audit directory") }
        #expect(everything.contains(SHA256.hex(Array(redacted.utf8))))
    }

    @Test func recordTypesHaveNoFieldForAMatchedValue() {
        // The record API is the whole surface the proxy can write through. If a field is added here, decide
        // deliberately that it cannot carry a matched value, then update this list.
        let record = sampleDecision(1, findings: [AuditFinding(id: "r", action: "redact", count: 1)])
        let recordFields = Mirror(reflecting: record).children.compactMap(\.label)
        #expect(
            recordFields == [
                "id", "client", "vendor", "method", "path", "decision", "reason", "rule", "category", "direction",
                "policy", "findings", "requestBytes", "forwardedBytes", "forwardedSHA256", "status", "durationMs",
                "refusals", "candidate",
            ]
        )
        // `category` and `direction` are closed enums of the proxy's own words: no room for a value.
        #expect(ReasonCategory.allCases.count == 9 && AuditDirection.allCases.map(\.rawValue) == ["egress", "inbound"])
        // A candidate policy's difference: its identity, decision and rule, and per rule two counts and paths as
        // they left (passed through the enforced policy).
        let candidate = CandidateDifference(
            policy: "p",
            decision: "blocked",
            findings: [.init(id: "r", action: "block", enforced: 0, candidate: 1)]
        )
        #expect(
            Mirror(reflecting: candidate).children.compactMap(\.label) == ["policy", "decision", "rule", "findings"]
        )
        #expect(
            Mirror(reflecting: candidate.findings[0]).children.compactMap(\.label)
                == ["id", "action", "enforced", "candidate", "paths"]
        )
        // An aggregated refusal's window: a count and two times the log writes itself.
        let window = RefusalWindow(count: 2, first: Date(), last: Date())
        #expect(Mirror(reflecting: window).children.compactMap(\.label) == ["count", "first", "last"])
        #expect(
            Mirror(reflecting: record.findings[0]).children.compactMap(\.label)
                == ["id", "action", "count", "paths", "mode"]
        )
        // `name` is a configured client's name (`clients:`), never taken from a request.
        #expect(Mirror(reflecting: record.client).children.compactMap(\.label) == ["ip", "subject", "name"])
    }
}
