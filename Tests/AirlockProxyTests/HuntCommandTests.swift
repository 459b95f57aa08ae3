import AirlockAudit
import Foundation
import Testing

/// `airlock log hunt` and `airlock log hunt-verify` through the built binary, on a log signed with a fresh audit key:
/// the exit codes, a report someone else verifies, and a report that no longer verifies once altered.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HuntCommandTests {
    @Test func huntExitCodesAndASignedReportThatSomeoneElseVerifies() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-hunt-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let pair = try AuditKeys.generateEd25519()
        let key = scratch.appendingPathComponent("audit-signing.key")
        let pub = scratch.appendingPathComponent("audit-signing.pub")
        try pair.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        try pair.publicKeyPEM.write(to: pub, atomically: true, encoding: .utf8)
        let (directory, ids) = try await RetroHuntTests.makeLog(count: 30, planted: [5, 21], signingKey: key)
        defer { try? FileManager.default.removeItem(at: directory) }
        func policy(_ name: String, _ term: String) throws -> String {
            let path = scratch.appendingPathComponent(name).path
            try "version: 1\nname: \(name)\nterms:\n  - {id: codenames, action: block, values: [\"\(term)\"]}\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let report = scratch.appendingPathComponent("hunt.json").path

        let found = try await CommandLineTests.airlock([
            "log", "hunt", "--dir", directory.path, "--policy", try policy("next", "Bluebird"), "--public-key",
            pub.path, "--report", report, "--sign-key", key.path,
        ])
        #expect(found.exitCode == 1, "\(found.stdout)\(found.stderr)")
        let rows = found.stdout.split(separator: "\n")
        #expect(rows.contains { $0.contains(ids[5]) && $0.contains("codenames") && $0.contains("$.task.note") })
        #expect(rows.contains { $0.contains(ids[21]) && $0.contains("body") }, "\(found.stdout)")
        #expect(found.stdout.contains("MB/s"), "\(found.stdout)")
        #expect(!found.stdout.lowercased().contains("bluebird"), "\(found.stdout)")
        let written = try String(contentsOfFile: report, encoding: .utf8)
        #expect(!written.lowercased().contains("bluebird") && written.contains("\"checkpoints\""))

        let verified = try await CommandLineTests.airlock([
            "log", "hunt-verify", report, "--public-key", pub.path, "--dir", directory.path,
        ])
        #expect(verified.exitCode == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("OK: report signed by key_id \(pair.keyID)"), "\(verified.stdout)")

        // Someone edits the report to say nothing matched: the signature no longer holds.
        try written.replacingOccurrences(of: ids[21], with: "req-x").write(
            toFile: report,
            atomically: true,
            encoding: .utf8
        )
        let altered = try await CommandLineTests.airlock(["log", "hunt-verify", report, "--public-key", pub.path])
        #expect(altered.exitCode == 1 && altered.stderr.contains("signature does not match"), "\(altered.stderr)")

        let clean = try await CommandLineTests.airlock([
            "log", "hunt", "--dir", directory.path, "--policy", try policy("clean", "Kestrel"), "--public-key",
            pub.path,
        ])
        #expect(clean.exitCode == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("no stored body and no recorded path matched"), "\(clean.stdout)")

        let broken = try await CommandLineTests.airlock([
            "log", "hunt", "--dir", directory.path, "--policy", scratch.appendingPathComponent("missing.yaml").path,
        ])
        #expect(broken.exitCode == 2, "\(broken.stdout)\(broken.stderr)")
        // A log whose checkpoints are signed is not taken on trust without the key that signed them.
        let unsigned = try await CommandLineTests.airlock([
            "log", "hunt", "--dir", directory.path, "--policy", try policy("next", "Bluebird"),
        ])
        #expect(unsigned.exitCode == 2 && unsigned.stderr.contains("no public key"), "\(unsigned.stderr)")
    }
}
