import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// Pseudonym keys as a keyring: new pseudonyms use the current key, restoration accepts every key still listed,
/// retiring is explicit, and a key file other users can read is refused.
@Suite struct PseudonymKeyringTests {
    static let old = PseudonymKeyFile.Entry(id: "2026-q3", secret: Array(repeating: 3, count: 32))
    static let new = PseudonymKeyFile.Entry(id: "2026-q4", secret: Array(repeating: 4, count: 32))

    static func redactor(_ ring: [PseudonymKeyFile.Entry]) throws -> Redactor {
        var policy = makePolicy(
            terms: [
                TermRule(id: "codenames", label: "CODENAME", action: .pseudonymize, values: ["Nightingale", "Falcon"])
            ],
            patterns: [PatternRule(id: "runs", label: "RUN", action: .pseudonymize, regex: #"run-[0-9]{6}"#)],
            detectors: [DetectorRule(kind: .email, action: .pseudonymize)]
        )
        policy.pseudonyms = PseudonymOptions(length: .capped, emails: .address)
        return try Redactor(policy: policy, keys: PseudonymKeys(ring: ring))
    }

    static let task = #"{"t":"Nightingale, Falcon, nightingale-v2, run-123456, jane@lab.example.com"}"#

    @Test func pseudonymsOfARetainedKeyStillRestoreAndNewOnesUseTheCurrentKey() throws {
        let lastQuarter = try Self.redactor([Self.old])
        let sentLastQuarter = try #require(forwarded(lastQuarter, Self.task))
        #expect(!sentLastQuarter.contains("Nightingale") && !sentLastQuarter.contains("run-123456"))

        let rotated = try Self.redactor([Self.new, Self.old])
        let sentNow = try #require(forwarded(rotated, Self.task))
        #expect(sentNow != sentLastQuarter, "new pseudonyms use the new key")
        #expect(sentNow == forwarded(try Self.redactor([Self.new]), Self.task), "minted by the current key alone")
        for sent in [sentLastQuarter, sentNow] {
            let back = try rotated.restore(
                body: Array(sent.utf8),
                contentType: "application/json",
                contentEncoding: nil,
                vendor: "scale"
            )
            #expect(String(decoding: back, as: UTF8.self) == Self.task)
        }

        // Retired: last quarter's pseudonyms stay pseudonyms.
        let retired = try Self.redactor([Self.new])
        let back = try retired.restore(
            body: Array(sentLastQuarter.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        )
        #expect(String(decoding: back, as: UTF8.self) == sentLastQuarter)
    }

    @Test func theKeyFileRotatesAndRetiresExplicitly() throws {
        var file = try PseudonymKeyFile.parse(Data(Self.old.secret).base64EncodedString() + "\n", path: "k")
        #expect(file.entries.map(\.id) == ["default"])
        try file.rotate(newID: "2026-q4")
        #expect(file.entries.map(\.id) == ["2026-q4", "default"])
        #expect(throws: RedactionError.self) { try file.rotate(newID: "2026-q4") }
        #expect(throws: RedactionError.self) { try file.retire(id: "2026-q4") }
        #expect(try PseudonymKeyFile.parse(file.render(), path: "k") == file)
        try file.retire(id: "default")
        #expect(file.entries.map(\.id) == ["2026-q4"])
        #expect(throws: RedactionError.self) { try file.retire(id: "nope") }
        let twice =
            "a \(Data(Self.old.secret).base64EncodedString())\na \(Data(Self.new.secret).base64EncodedString())\n"
        #expect(throws: RedactionError.self) { try PseudonymKeyFile.parse(twice, path: "k") }
    }

    @Test func aKeyFileOthersCanReadIsRefused() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-ring-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(PseudonymKeys.generateKeyFileContents().utf8).write(to: url)
        for mode in [0o644, 0o640, 0o604, 0o660] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
            let error = #expect(throws: RedactionError.self) { try PseudonymKeys(contentsOf: url) }
            #expect(error?.message.contains("chmod 600") == true, "\(String(describing: error))")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        #expect(try PseudonymKeys(contentsOf: url).currentID == "default")
    }
}
