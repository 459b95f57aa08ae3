import AirlockProxy
import Foundation
import Testing

@testable import AirlockAudit

/// Compressed request bodies, judged by the bytes the vendor received rather than by the status alone: one with
/// nothing to hide leaves byte for byte as the lab compressed it, with its Content-Encoding; one with a codename
/// leaves without it.
@Suite(.timeLimit(.minutes(2)))
struct CompressedBodyTests {
    /// `json` gzip-compressed by the system's gzip (not by Airlock's own code).
    static func gzip(_ json: String) throws -> Data {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-gz-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = directory.appendingPathComponent("body.json")
        try json.write(to: plain, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-n", plain.path]
        try process.run()
        process.waitUntilExit()
        return try Data(contentsOf: directory.appendingPathComponent("body.json.gz"))
    }

    static func post(_ harness: ProxyHarness, _ body: Data) async throws -> CurlResult {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-gzbody-\(UUID())")
        try body.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await harness.curl([
            "-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip", "--data-binary", "@" + file.path,
            harness.url("/scale/v1/task/1"),
        ])
    }

    @Test func aCompressedBodyWithNothingToHideLeavesByteForByte() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        let harness = try await ProxyHarness(options)
        let compressed = try Self.gzip(#"{"instruction": "rank the answers", "n": 3}"#)
        let result = try await Self.post(harness, compressed)
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        let received = try #require(harness.vendor.requests.first)
        #expect(Data(received.body) == compressed, "the vendor got other bytes than the lab sent")
        #expect(received.header("content-encoding") == "gzip")
    }

    @Test func aCompressedBodyWithACodenameLeavesWithoutIt() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        let harness = try await ProxyHarness(options)
        let compressed = try Self.gzip(#"{"instruction": "rank the answers about Nightingale"}"#)
        let result = try await Self.post(harness, compressed)
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        let received = try #require(harness.vendor.requests.first)
        let encoding = received.header("content-encoding")
        let plain =
            encoding == "gzip"
            ? try BodyStore.gunzip(received.body, source: "vendor", allMembers: true) : received.body
        let text = String(decoding: plain, as: UTF8.self)
        #expect(!text.contains("Nightingale") && text.contains("rank the answers about "), "\(text)")
        #expect(!String(decoding: received.body, as: UTF8.self).contains("Nightingale"))
    }
}

/// The callback check on compressed bodies: a body whose callback is outside the lab, or whose text only mentions
/// callbacks, leaves as the lab compressed it (the old test checked one status and a count).
@Suite(.timeLimit(.minutes(2)))
struct CompressedCallbackBodyTests {
    @Test func compressedBodiesWithoutAnInternalCallbackLeaveByteForByte() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(policy: false))
        var sent: [Data] = []
        var statuses: [Int] = []
        for json in [#"{"callback_url": "https://hooks.example.org/x"}"#, #"{"prompt": "write a callback that logs"}"#]
        {
            let compressed = try CompressedBodyTests.gzip(json)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-cb-\(UUID())")
            try compressed.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try await harness.curl([
                "-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip", "--data-binary",
                "@" + file.path, harness.url("/labelbox/graphql"),
            ])
            sent.append(compressed)
            statuses.append(result.status)
        }
        let received = harness.vendor.requests
        await harness.close()
        #expect(statuses == [200, 200])
        #expect(received.map { Data($0.body) } == sent)
        #expect(received.allSatisfy { $0.header("content-encoding") == "gzip" })
    }
}
