import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// Embedded payloads through the real proxy: a labeling pipeline (python3, writing a real PNG with zlib) puts a
/// screenshot and a base64 context document into JSON tasks, and curl sends them through Airlock to the stand-in
/// vendor. The screenshot is refused 422 with nothing at the vendor and the decision in the audit log; the text
/// leaves with the codename redacted inside its re-encoded payload; look-alikes leave byte-identical.
@Suite(.timeLimit(.minutes(2)))
struct EmbeddedPayloadProxyTests {
    /// Writes the task bodies into `directory` the way a Python pipeline would: `screenshot.json` (a PNG whose text
    /// chunk names a codename, as a data URL), `context.json` (a data:text/plain;base64 naming it), `controls.json`.
    static func writeTasks(into directory: URL) async throws {
        let script = #"""
            import base64, json, os, random, struct, sys, zlib
            out = sys.argv[1]
            def chunk(kind, data):
                return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
            rows = b"".join(b"\x00" + bytes([200, 30, 30]) * 16 for _ in range(16))
            png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
                   + chunk(b"tEXt", b"Comment\x00Nightingale launch review") + chunk(b"IDAT", zlib.compress(rows))
                   + chunk(b"IEND", b""))
            screenshot = {"project": "ui-review", "tasks": [{"instruction": "Label the buttons",
                          "attachment": "data:image/png;base64," + base64.b64encode(png).decode()}]}
            text = "Release notes: Nightingale ships to beta testers next week."
            context = {"instruction": "Summarise", "context": "data:text/plain;base64," + base64.b64encode(text.encode()).decode()}
            rng = random.Random(7)
            controls = {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        "uuid": "123e4567-e89b-12d3-a456-426614174000",
                        "nonce": base64.b64encode(bytes(rng.getrandbits(8) for _ in range(512))).decode(),
                        "note": "the metadata: field is empty"}
            for name, body in [("screenshot", screenshot), ("context", context), ("controls", controls)]:
                with open(os.path.join(out, name + ".json"), "w") as f:
                    json.dump(body, f)
            """#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory.path]
        let result = try await Curl.execute(process, timeout: 30)
        try #require(result.exitCode == 0, "python3: \(result.stderr)")
    }

    @Test func aScreenshotIsRefusedTextIsRedactedInsideItsPayloadAndLookAlikesLeaveAsTheyAre() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-embedded-\(UUID())")
        let audit = directory.appendingPathComponent("audit")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.writeTasks(into: directory)
        let (harness, log) = try await PolicyEnforcementTests.auditedHarness(logIn: audit)
        func send(_ name: String) async throws -> CurlResult {
            try await harness.curl([
                "-H", "Content-Type: application/json", "--data-binary",
                "@" + directory.appendingPathComponent(name + ".json").path, harness.url("/scale/v1/task/\(name)"),
            ])
        }
        let screenshot = try await send("screenshot")
        let vendorConnectionsAfterScreenshot = harness.vendor.connectionCount
        let context = try await send("context")
        let controls = try await send("controls")
        await harness.close()
        try await log.close()

        // The screenshot: 422, nothing at the vendor, a reason naming the type only.
        #expect(screenshot.status == 422, "\(screenshot.body)")
        #expect(errorCode(screenshot.body) == "uninspectable_body")
        #expect(screenshot.body.contains("embedded image/png payload cannot be inspected"), "\(screenshot.body)")
        #expect(!screenshot.body.contains("attachment") && !screenshot.body.contains("iVBOR"))
        #expect(vendorConnectionsAfterScreenshot == 0)

        // The context document: forwarded, the codename pseudonymised inside the re-encoded payload.
        #expect(context.status == 200 && controls.status == 200)
        try #require(harness.vendor.requests.count == 2)
        let sent = harness.vendor.requests[0].body
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sent)) as? [String: Any])
        let url = try #require(object["context"] as? String)
        #expect(url.hasPrefix("data:text/plain;base64,"))
        let decoded = String(decoding: Data(base64Encoded: String(url.dropFirst(23))) ?? Data(), as: UTF8.self)
        #expect(decoded.hasPrefix("Release notes: CODENAME_") && decoded.hasSuffix(" ships to beta testers next week."))
        #expect(!decoded.contains("Nightingale"), "\(decoded)")

        // The look-alikes: byte-identical.
        let controlsFile = try Data(contentsOf: directory.appendingPathComponent("controls.json"))
        #expect(Data(harness.vendor.requests[1].body) == controlsFile)

        // The audit log has the refusal with its finding, and nothing of the payload or the codename.
        let decisions = try AuditLogReader(directory: audit).entries().filter { $0.event == .decision }
        try #require(decisions.count == 3)
        #expect(decisions[0].decision == .blocked, "\(decisions[0])")
        #expect(decisions[0].forwardedBytes == nil)
        #expect(decisions[0].findings?.contains { $0.id == "content.unknown" && $0.action == "block" } == true)
        #expect(decisions[1].decision == .forwarded && decisions[1].findings?.map(\.id) == ["codenames"])
        for (name, text) in try await PolicyEnforcementTests.everyFileAsText(under: audit) {
            #expect(!text.contains("Nightingale") && !text.contains("iVBOR"), "\(name)")
        }
    }
}
