import AirlockPolicy
import AirlockRedaction
import Foundation
import Testing

/// The pattern library must find a match wherever it sits in memory. Debian 12's Vectorscan 5.4.9 does not: it
/// misses `@[a-z]`-style matches at most buffer alignments, which for Airlock means secrets leaving unredacted. These
/// tests fail on such a library.
@Suite struct MatchingLibraryTests {
    static func redactor() throws -> Redactor {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-align-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        try """
        version: 1
        name: alignment
        detectors:
          - email: {action: redact, domains: [lab.example.com]}
          - secret: {action: block}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try Redactor(
            policy: PolicyLoader.load(path: path),
            keys: PseudonymKeys(secret: Array(repeating: 7, count: 32))
        )
    }

    @Test func anEmailIsFoundAtEveryOffsetAndAlignment() throws {
        let redactor = try Self.redactor()
        var missed: [Int] = []
        for offset in 0..<130 {
            let text =
                String(repeating: "x", count: offset) + " lorem ipsum dolor sit amet ask jane.doe@lab.example.com"
            // A fresh array per offset: its storage lands at varying alignments too.
            let body = Array(text.utf8)
            let outcome = redactor.redact(body: body, contentType: "text/plain", contentEncoding: nil, vendor: "v")
            let forwarded = String(decoding: outcome.forwardedBody ?? [], as: UTF8.self)
            if forwarded.contains("jane.doe") || !forwarded.contains("[REDACTED:EMAIL]") { missed.append(offset) }
        }
        #expect(missed.isEmpty, "the email leaked at offsets \(missed)")
    }

    @Test func aKeyIsBlockedAtEveryOffset() throws {
        let redactor = try Self.redactor()
        var leaked: [Int] = []
        for offset in 0..<130 {
            let text = #"{"notes": "\#(String(repeating: "y", count: offset)) key AKIAIOSFODNN7EXAMPLE"}"#
            let outcome = redactor.redact(
                body: Array(text.utf8),
                contentType: "application/json",
                contentEncoding: nil,
                vendor: "v"
            )
            if case .block = outcome { continue }
            leaked.append(offset)
        }
        #expect(leaked.isEmpty, "the key was not blocked at offsets \(leaked)")
    }
}
