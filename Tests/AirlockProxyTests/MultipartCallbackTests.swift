import AirlockRedaction
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// Callback URLs in multipart/form-data uploads leaving for a vendor, through real curl (`-F` where it can build the
/// body, hand-built bodies where the test needs exact part headers), a real Airlock and a real stand-in vendor.
///
/// Multipart parts are held to the same callback rules as JSON and form bodies: an internal callback URL that is a
/// route's `deliver_to` leaves as the route's public URL; any other is refused 403 `callback-url` with nothing sent.
@Suite(.timeLimit(.minutes(2)))
struct MultipartCallbackTests {
    static let scalePublic = CallbackHarness.publicURL + "/callbacks/scale"
    static let batchPublic = CallbackHarness.publicURL + "/callbacks/scale-batch"
    static let labelStudioPublic = CallbackHarness.publicURL + "/callbacks/labelstudio"
    static let boundary = "airlock-test-7MA4YWxkTrZu0gW"
    static let multipartType = "Content-Type: multipart/form-data; boundary=\(boundary)"

    /// A multipart/form-data body (CRLF line ends) of parts given as header lines and content.
    static func multipart(_ parts: [(headers: [String], content: String)]) -> String {
        var body = ""
        for part in parts {
            body +=
                "--\(Self.boundary)\r\n" + part.headers.map { $0 + "\r\n" }.joined() + "\r\n" + part.content + "\r\n"
        }
        return body + "--\(Self.boundary)--\r\n"
    }

    /// The content of the part named `name` in a multipart body the vendor received (any boundary): the bytes after
    /// its header block up to the CRLF before the next delimiter.
    static func part(_ name: String, of body: String) -> String? {
        let bytes = Array(body.utf8)
        guard let firstLineEnd = Self.find(Array("\r\n".utf8), in: bytes, from: 0) else { return nil }
        let delimiter = Array("\r\n".utf8) + bytes[0..<firstLineEnd]
        guard let disposition = Self.find(Array("name=\"\(name)\"".utf8), in: bytes, from: 0),
            let headersEnd = Self.find(Array("\r\n\r\n".utf8), in: bytes, from: disposition),
            let end = Self.find(delimiter, in: bytes, from: headersEnd + 2)
        else { return nil }
        return String(decoding: bytes[(headersEnd + 4)..<end], as: UTF8.self)
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard needle.count <= bytes.count, from <= bytes.count - needle.count else { return nil }
        for start in from...(bytes.count - needle.count)
        where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    static func rule(_ body: String) -> String? {
        guard let data = body.data(using: .utf8),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return nil }
        return (object["error"] as? [String: Any])?["rule"] as? String
    }

    /// A directory for files curl uploads, removed at the end of the test.
    final class Files {
        let directory: URL

        init() throws {
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-mp-\(UUID())")
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let path = self.directory.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// `gzip -n` of the file: its path.
        func gzip(_ path: String) throws -> String {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
            gzip.arguments = ["-n", "-k", path]
            try gzip.run()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
            return path + ".gz"
        }

        deinit {
            try? FileManager.default.removeItem(at: self.directory)
        }
    }

    /// POSTs a hand-built multipart body to `path`.
    static func postMultipart(
        _ harness: CallbackHarness,
        _ path: String,
        _ body: String,
        files: Files,
        headers: [String] = []
    ) async throws -> CurlResult {
        let file = try files.write("body-\(UUID()).bin", body)
        var arguments = ["-H", Self.multipartType, "--data-binary", "@" + file]
        for header in headers { arguments += ["-H", header] }
        return try await harness.curl(arguments + [harness.url(path)])
    }

    // MARK: Rewritten

    @Test func internalCallbackFieldsAreRewrittenToThePublicEndpoint() async throws {
        let harness = try await CallbackHarness()
        let port = harness.receiver.port
        let result = try await harness.curl([
            "--form-string", "instruction=Label for Nightingale",
            "--form-string", "callback_url=https://127.0.0.1:\(port)/hooks/scale",
            "--form-string", "callback=https://labeling.corp.example.com/hooks/batch",
            "--form-string", "n=1",
            harness.url("/scale/v1/task/text"),
        ])
        let received = harness.vendor.requests.first?.bodyText ?? ""
        let contentType = harness.vendor.requests.first?.header("content-type") ?? ""
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(contentType.hasPrefix("multipart/form-data; boundary="), "\(contentType)")
        #expect(Self.part("callback_url", of: received) == Self.scalePublic, "\(received)")
        #expect(Self.part("callback", of: received) == Self.batchPublic, "\(received)")
        #expect(Self.part("n", of: received) == "1")
        #expect(!received.contains("127.0.0.1") && !received.contains("corp.example.com"), "\(received)")
        #expect(Self.part("instruction", of: received)?.hasPrefix("Label for ") == true)
        #expect(!received.contains("Nightingale"), "the policy still redacts the other parts: \(received)")
    }

    /// JSON parts by declared type, by GraphQL's `operations` name, and sniffed (a file without a type, a file with
    /// a type that is no media type): the engine reads each as JSON, so the callback check does too.
    @Test func jsonPartsAreRewrittenWhateverTellsTheirType() async throws {
        let harness = try await CallbackHarness()
        let files = try Files()
        let port = harness.receiver.port
        let body = Self.multipart([
            (
                [
                    #"Content-Disposition: form-data; name="task"; filename="task.json""#,
                    "Content-Type: application/json",
                ],
                #"{"instruction": "About Nightingale", "callback_url": "https://127.0.0.1:\#(port)/hooks/scale", "n": 1}"#
            ),
            (
                [#"Content-Disposition: form-data; name="batch"; filename="batch.json""#],
                #"{"meta": {"callback": "https:\/\/labeling.corp.example.com\/hooks\/batch"}}"#
            ),
            (
                [#"Content-Disposition: form-data; name="extra"; filename="x""#, "Content-Type: json_import.json"],
                #"[{"callback\u005furl": "https://LABELING.corp.example.com:443/hooks/batch"}]"#
            ),
            (
                [#"Content-Disposition: form-data; name="operations""#],
                #"{"variables": {"callback_url": "https://127.0.0.1:\#(port)/hooks/scale"}}"#
            ),
        ])
        let result = try await Self.postMultipart(harness, "/scale/v1/task/text", body, files: files)
        let received = harness.vendor.requests.first?.bodyText ?? ""
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        let task = try #require(Self.part("task", of: received), "\(received)")
        #expect(task.hasPrefix(#"{"instruction": "About "#) && !task.contains("Nightingale"), "\(task)")
        #expect(task.hasSuffix(#", "callback_url": "\#(Self.scalePublic)", "n": 1}"#), "\(task)")
        #expect(Self.part("batch", of: received) == #"{"meta": {"callback": "\#(Self.batchPublic)"}}"#)
        #expect(Self.part("extra", of: received) == #"[{"callback\u005furl": "\#(Self.batchPublic)"}]"#)
        #expect(Self.part("operations", of: received) == #"{"variables": {"callback_url": "\#(Self.scalePublic)"}}"#)
        #expect(!received.contains("127.0.0.1") && !received.lowercased().contains("corp.example.com"), "\(received)")
    }

    @Test func labelStudioWebhookURLFieldIsRewrittenOnWebhookPathsOnly() async throws {
        let harness = try await CallbackHarness()
        let webhook = try await harness.curl([
            "--form-string", "url=http://ls.internal:8080/webhook", "--form-string", "project=3",
            harness.url("/labelstudio/api/webhooks"),
        ])
        // Elsewhere a `url` field is no callback: the policy's url detector judges it, as before.
        let task = try await harness.curl([
            "--form-string", "url=http://ls.internal:8080/webhook", harness.url("/labelstudio/api/tasks"),
        ])
        let received = harness.vendor.requests.map(\.bodyText)
        await harness.close()
        #expect(webhook.status == 200 && task.status == 200, "\(webhook.body) \(task.body)")
        #expect(received.count == 2)
        #expect(Self.part("url", of: received.first ?? "") == Self.labelStudioPublic, "\(received)")
        #expect(Self.part("project", of: received.first ?? "") == "3")
        let other = Self.part("url", of: received.last ?? "")
        #expect(other != nil && other != Self.labelStudioPublic && other?.contains("ls.internal") == false)
    }

    /// Without a policy (pass-through inspector) the public URL is written directly.
    @Test func withoutAPolicyTheFieldIsRewrittenDirectly() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(policy: false))
        let result = try await harness.curl([
            "--form-string", "callback_url=https://127.0.0.1:\(harness.receiver.port)/hooks/scale",
            harness.url("/scale/v1/task/text"),
        ])
        let received = harness.vendor.requests.first?.bodyText ?? ""
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(Self.part("callback_url", of: received) == Self.scalePublic, "\(received)")
    }

    // MARK: Refused

    @Test func internalCallbackURLsNamingNoRouteAreRefusedWithNothingSent() async throws {
        let harness = try await CallbackHarness()
        let files = try Files()
        let internalJSON = try files.write(
            "internal.json",
            #"{"callback_url": "https://labeling.corp.example.com/hooks/x"}"#
        )
        let field = try await harness.curl([
            "--form-string", "callback_url=https://labeling.corp.example.com/hooks/x",
            harness.url("/labelbox/graphql"),
        ])
        let urlFile = try files.write("url", "https://labeling.corp.example.com/hooks/x\n")
        // A field named callback_url declaring a binary type: the vendor still reads it as the callback URL.
        let binaryField = try await harness.curl([
            "-F", "callback_url=@\(urlFile);type=application/octet-stream", harness.url("/labelbox/graphql"),
        ])
        let jsonFile = try await harness.curl([
            "--form-string", "note=see file", "-F", "payload=@\(internalJSON);type=application/json",
            harness.url("/labelbox/graphql"),
        ])
        // A text field holding a JSON document: the engine reads it as text, a vendor may read it as JSON.
        let jsonInTextField = try await harness.curl([
            "--form-string", #"meta={"callback_url": "http://10.1.2.3/hook"}"#, harness.url("/labelbox/graphql"),
        ])
        let sniffed = try await Self.postMultipart(
            harness,
            "/scale/v1/task/text",
            Self.multipart([
                (
                    [#"Content-Disposition: form-data; name="f"; filename="t.json""#],
                    #"{"callback": "https://other.internal/hook"}"#
                )
            ]),
            files: files
        )
        let inArray = try await Self.postMultipart(
            harness,
            "/scale/v1/task/text",
            Self.multipart([
                (
                    [#"Content-Disposition: form-data; name="operations""#, "Content-Type: application/json"],
                    #"{"callback": ["https://hooks.example.org/a", "https://[fd00::1]/b"]}"#
                )
            ]),
            files: files
        )
        let ndjson = try await Self.postMultipart(
            harness,
            "/scale/v1/task/text",
            Self.multipart([
                (
                    [
                        #"Content-Disposition: form-data; name="batch"; filename="b.jsonl""#,
                        "Content-Type: application/x-ndjson",
                    ],
                    "{\"a\": 1}\n{\"callback_url\": \"http://localhost/hook\"}"
                )
            ]),
            files: files
        )
        let vendorBytes = harness.vendor.plaintextBytesReceived
        let decisions = harness.recorder.decisions
        await harness.close()
        let results = [field, binaryField, jsonFile, jsonInTextField, sniffed, inArray, ndjson]
        for result in results {
            #expect(result.status == 403 && errorCode(result.body) == "blocked_by_policy", "\(result.body)")
            #expect(Self.rule(result.body) == "callback-url", "\(result.body)")
            for host in ["corp.example.com", "10.1.2.3", "other.internal", "fd00", "localhost"] {
                #expect(!result.body.contains(host), "\(result.body)")
            }
        }
        #expect(field.body.contains("no callbacks route"), "\(field.body)")
        #expect(vendorBytes == 0, "nothing reaches the vendor")
        #expect(decisions.count == results.count)
        #expect(decisions.allSatisfy { $0.decision == .blocked && $0.rule == "callback-url" })
    }

    /// A compressed multipart body is checked as it decodes; naming an internal callback URL, it is refused (it
    /// cannot be rewritten in place). Without a policy, so the refusal is the callback check's alone.
    @Test func compressedMultipartNamingAnInternalCallbackURLIsRefused() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(policy: false))
        let files = try Files()
        let internalBody = try files.write(
            "internal.bin",
            Self.multipart([
                (
                    [#"Content-Disposition: form-data; name="callback_url""#],
                    "https://127.0.0.1:\(harness.receiver.port)/hooks/scale"
                )
            ])
        )
        let externalBody = try files.write(
            "external.bin",
            Self.multipart([([#"Content-Disposition: form-data; name="callback_url""#], "https://hooks.example.org/x")])
        )
        func post(_ file: String) async throws -> CurlResult {
            try await harness.curl([
                "-H", Self.multipartType, "-H", "Content-Encoding: gzip", "--data-binary", "@" + file,
                harness.url("/scale/v1/task/text"),
            ])
        }
        let refused = try await post(try files.gzip(internalBody))
        let bytesAfterRefusal = harness.vendor.plaintextBytesReceived
        let external = try await post(try files.gzip(externalBody))
        let received = harness.vendor.requests.count
        await harness.close()
        #expect(refused.status == 403 && Self.rule(refused.body) == "callback-url", "\(refused.body)")
        #expect(refused.body.contains("compressed"), "\(refused.body)")
        #expect(bytesAfterRefusal == 0, "nothing reaches the vendor")
        #expect(external.status == 200, "\(external.body)")
        #expect(received == 1)
    }

    /// A part with a Content-Transfer-Encoding (base64, quoted-printable) is decoded by a vendor's reader, so a
    /// callback URL in it cannot be rewritten in place: it is refused with nothing sent, whatever the header's case.
    /// (It used to leave: its raw bytes name no callback.) An encoded part naming none leaves.
    @Test func transferEncodedPartsThatMayNameACallbackAreRefused() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(policy: false))
        let files = try Files()
        let internalURL = "https://127.0.0.1:\(harness.receiver.port)/hooks/scale"
        func encoded(_ name: String, _ encoding: String, _ content: String) -> String {
            Self.multipart([
                (
                    [#"Content-Disposition: form-data; name="\#(name)""#, "content-TRANSFER-encoding: \(encoding)"],
                    content
                )
            ])
        }
        let base64 = Data(internalURL.utf8).base64EncodedString()
        let json = Data(#"{"callback_url": "\#(internalURL)"}"#.utf8).base64EncodedString()
        var refused: [CurlResult] = []
        for body in [
            encoded("callback_url", "base64", base64),
            encoded("operations", "base64", json),
            encoded("meta", "quoted-printable", #"{"call=\#r\#nback_url": "\#(internalURL)"}"#),
        ] {
            refused.append(try await Self.postMultipart(harness, "/scale/v1/task/text", body, files: files))
        }
        let bytesAfterRefusals = harness.vendor.plaintextBytesReceived
        let plain = try await Self.postMultipart(
            harness,
            "/scale/v1/task/text",
            encoded("note", "base64", Data("nothing to call back".utf8).base64EncodedString()),
            files: files
        )
        await harness.close()
        for result in refused {
            #expect(result.status == 422 && errorCode(result.body) == "uninspectable_body", "\(result.body)")
            #expect(result.body.contains("Content-Transfer-Encoding"), "\(result.body)")
        }
        #expect(bytesAfterRefusals == 0, "nothing reaches the vendor")
        #expect(plain.status == 200, "\(plain.body)")
    }

    /// A compressed upload with no callback in it leaves, however its compressed bytes look: a large gzip stream
    /// holds `%5`…`%7` (what a form-encoded key character starts with) by chance, and is judged on what it decodes
    /// to, not on those bytes.
    @Test func aLargeCompressedUploadWithoutCallbacksLeaves() async throws {
        // In the debug test build each of these requests takes ~2 s even alone (perf: a fifth of the time in Swift
        // Testing's backtrace capture for thrown errors), so under the loaded parallel suite the vendor's 5 s default
        // budget made this a 504.
        var options = CallbackHarness.Options(policy: false)
        options.upstreamTimeoutSeconds = 30
        let harness = try await CallbackHarness(options)
        let files = try Files()
        // Incompressible text (a seeded xorshift, hex-encoded) in a text part and a form body.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var noise = ""
        noise.reserveCapacity(1 << 18)
        for _ in 0..<(1 << 14) {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            noise += String(state, radix: 16)
        }
        let multipartFile = try files.gzip(
            try files.write("upload.bin", Self.multipart([([#"Content-Disposition: form-data; name="data""#], noise)]))
        )
        let formFile = try files.gzip(try files.write("form.txt", "data=" + noise))
        for file in [multipartFile, formFile] {
            let compressed = try Data(contentsOf: URL(fileURLWithPath: file))
            let spellsEscape = zip(compressed, compressed.dropFirst()).contains {
                $0 == UInt8(ascii: "%") && (UInt8(ascii: "5")...UInt8(ascii: "7")).contains($1)
            }
            try #require(spellsEscape, "the compressed bytes of \(file) must hold %5…%7 for this test to mean anything")
        }
        let multipart = try await harness.curl([
            "-H", Self.multipartType, "-H", "Content-Encoding: gzip", "--data-binary", "@" + multipartFile,
            harness.url("/scale/v1/task/text"),
        ])
        let form = try await harness.curl([
            "-H", "Content-Type: application/x-www-form-urlencoded", "-H", "Content-Encoding: gzip",
            "--data-binary", "@" + formFile, harness.url("/scale/v1/task/text"),
        ])
        let received = harness.vendor.requests.count
        await harness.close()
        #expect(multipart.status == 200, "\(multipart.body.prefix(300))")
        #expect(form.status == 200, "\(form.body.prefix(300))")
        #expect(received == 2)
    }

    // MARK: Untouched

    @Test func externalCallbackURLsAndMentionsLeaveByteForByte() async throws {
        let harness = try await CallbackHarness()
        let files = try Files()
        let body = Self.multipart([
            ([#"Content-Disposition: form-data; name="callback_url""#], "https://hooks.example.org/scale?x=1"),
            ([#"Content-Disposition: form-data; name="note""#], "write a callback that logs; see callback_url docs"),
            (
                [#"Content-Disposition: form-data; name="task"; filename="t.json""#, "Content-Type: application/json"],
                #"{"callback": "ops@example.org", "meta": {"callback_url": "https://hooks.example.org/x"}}"#
            ),
            ([#"Content-Disposition: form-data; name="callback""#], ""),
        ])
        let result = try await Self.postMultipart(harness, "/labelbox/graphql", body, files: files)
        let received = harness.vendor.requests.first?.bodyText
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(received == body)
    }

    // MARK: Malformed

    /// A malformed multipart body is refused 422 `uninspectable_body` with nothing sent, exactly as before: the
    /// same answer whether or not it names a callback (the callback check and the policy split parts the same way).
    @Test func malformedMultipartFailsClosedAsBefore() async throws {
        let harness = try await CallbackHarness()
        let files = try Files()
        let b = Self.boundary
        func malformed(_ name: String) -> [(String, String)] {
            let part = "Content-Disposition: form-data; name=\"\(name)\"\r\n\r\nhttps://labeling.corp.example.com/x"
            return [
                ("not closed", "--\(b)\r\n\(part)\r\n"),
                ("boundary not found", "--other\r\n\(part)\r\n--other--\r\n"),
                ("malformed boundary line", "--\(b)x\r\n\(part)\r\n--\(b)--\r\n"),
                ("malformed header", "--\(b)\r\nno colon here \(name)\r\n\r\nx\r\n--\(b)--\r\n"),
                ("unterminated headers", "--\(b)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n"),
            ]
        }
        var answers: [String: [CurlResult]] = [:]
        for name in ["callback_url", "note"] {
            for (label, body) in malformed(name) {
                answers[label, default: []].append(
                    try await Self.postMultipart(harness, "/scale/v1/task/text", body, files: files)
                )
            }
        }
        // No usable boundary parameter at all.
        let noBoundary = try await harness.curl([
            "-H", "Content-Type: multipart/form-data", "--data-binary", "callback_url=http://x.internal/",
            harness.url("/scale/v1/task/text"),
        ])
        let vendorBytes = harness.vendor.plaintextBytesReceived
        await harness.close()
        for (label, results) in answers {
            #expect(results.count == 2)
            for result in results {
                #expect(
                    result.status == 422 && errorCode(result.body) == "uninspectable_body",
                    "\(label): \(result.body)"
                )
                #expect(result.body.contains("multipart body"), "\(label): \(result.body)")
                #expect(!result.body.contains("corp.example.com"), "\(label): \(result.body)")
            }
            let bodies = results.map { $0.body.replacingOccurrences(of: "callback_url", with: "note") }
            #expect(bodies.first == bodies.last, "\(label): \(bodies)")
        }
        #expect(noBoundary.status == 422 && errorCode(noBoundary.body) == "uninspectable_body", "\(noBoundary.body)")
        #expect(vendorBytes == 0, "nothing reaches the vendor")
    }

    /// Without a policy nothing else would refuse a malformed body: one that may name a callback is refused by the
    /// callback check itself (as a malformed JSON body is), with nothing sent.
    @Test func withoutAPolicyAMalformedCallbackBearingMultipartIsRefused() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(policy: false))
        let files = try Files()
        let body =
            "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"callback_url\"\r\n\r\n"
            + "https://labeling.corp.example.com/hooks/x\r\n"
        let result = try await Self.postMultipart(harness, "/labelbox/graphql", body, files: files)
        let vendorBytes = harness.vendor.plaintextBytesReceived
        await harness.close()
        #expect(result.status == 422 && errorCode(result.body) == "uninspectable_body", "\(result.body)")
        #expect(result.body.contains("is not closed by the boundary"), "\(result.body)")
        #expect(vendorBytes == 0, "nothing reaches the vendor")
    }

    // MARK: In memory

    /// The callback check splits parts with `Redactor.multipartParts`; the policy with `MultipartRedactor`. They
    /// must agree on which bodies do not split, and why: otherwise a body one of them accepts could pass the other
    /// unchecked.
    @Test func thePartWalkRefusesWhatTheEngineRefusesWithTheSameReason() throws {
        let files = try Files()
        let policyPath = try files.write(
            "policy.yaml",
            """
            version: 1
            name: parity
            terms:
              - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
            content:
              unknown: pass
            """
        )
        let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let redactor = try VendorPolicy.load(path: policyPath, keys: keys).redactor
        let b = Self.boundary
        let type = "multipart/form-data; boundary=\(b)"
        let field = "Content-Disposition: form-data; name=\"f\""
        let cases: [(contentType: String, body: String, parts: Int?)] = [
            (type, "--\(b)\r\n\(field)\r\n\r\nNightingale\r\n--\(b)--\r\n", 1),
            (type, "preamble\r\n--\(b)  \r\n\(field)\r\n\r\n\r\n--\(b)\r\n\r\nno headers\r\n--\(b)--", 2),
            (
                type,
                "--\(b)\r\n\(field); filename=\"a.json\"\r\n\r\n{\"a\": 1}\r\n--\(b)\r\n"
                    + "Content-Disposition: form-data; name=\"g\"\r\nContent-Type: image/png\r\n\r\n\u{1}\u{2}\r\n--\(b)--\r\n",
                2
            ),
            ("multipart/form-data", "--\(b)\r\n\(field)\r\n\r\nx\r\n--\(b)--\r\n", nil),
            (
                "multipart/form-data; boundary=" + String(repeating: "b", count: 201),
                "--\(b)\r\n\(field)\r\n\r\nx\r\n--\(b)--\r\n",
                nil
            ),
            (type, "--other\r\n\(field)\r\n\r\nx\r\n--other--\r\n", nil),
            (type, "--\(b)x\r\n\(field)\r\n\r\nx\r\n--\(b)--\r\n", nil),
            (type, "--\(b)\r\n\(field)\r\n", nil),
            (type, "--\(b)\r\n\(field)\r\n\r\nx\r\n", nil),
            (type, "--\(b)\r\nno colon\r\n\r\nx\r\n--\(b)--\r\n", nil),
            (type, "--\(b)\r\n\(field)\r\n\r\nx\r\n--\(b)\r\nno colon\r\n\r\ny\r\n--\(b)--\r\n", nil),
            (type, "--\(b)--\r\n", 0),
            (type, "--\(b)\r\n\(field)\r\nContent-Type: text/plain; charset=latin1\r\n\r\nx\r\n--\(b)--\r\n", nil),
        ]
        for (contentType, body, parts) in cases {
            let bytes = Array(body.utf8)
            let engine = bytes.withUnsafeBytes {
                redactor.redactWithoutCopy(body: $0, contentType: contentType, contentEncoding: nil, vendor: "v")
            }
            let walked = Self.walk(bytes, contentType: contentType)
            switch (engine, walked) {
            case (.uninspectable(let reason, _), .failure(let failure)):
                #expect(parts == nil && failure.reason == reason, "\(body)")
            case (.forward, .success(let walkedParts)), (.unchanged, .success(let walkedParts)):
                #expect(walkedParts?.count == parts, "\(body)")
            default:
                Issue.record("the engine and the part walk disagree on \(body.debugDescription): \(engine) / \(walked)")
            }
        }
        // Parts' content ranges and formats: a text field, an (empty) field without headers, sniffed JSON, binary.
        let body = Array(cases[2].body.utf8)
        let parts = try #require(try Self.walk(body, contentType: type).get())
        #expect(parts.map(\.format) == [.json, .opaque] && parts.map(\.name) == ["f", "g"])
        #expect(parts.map { String(decoding: body[$0.range], as: UTF8.self) } == [#"{"a": 1}"#, "\u{1}\u{2}"])
        #expect(try Self.walk(Array("x".utf8), contentType: "application/json").get() == nil)
    }

    static func walk(_ body: [UInt8], contentType: String) -> Result<[MultipartPart]?, MultipartPart.Failure> {
        body.withUnsafeBytes { bytes in
            do throws(MultipartPart.Failure) {
                return .success(try Redactor.multipartParts(bytes, contentType: contentType))
            } catch {
                return .failure(error)
            }
        }
    }

    /// The policy's redaction runs between emptying a multipart callback field and writing the public URL back; a
    /// policy that drops the field gets the request refused (the URL would land in the wrong place), on the event
    /// loop and off it.
    @Test func aPolicyThatDropsAMultipartCallbackFieldGetsTheRequestRefused() async throws {
        let inspector = try CallbackHarness.inspector(droppingField: "$.task.callback_url")
        func request(_ task: String) -> EgressRequest {
            CallbackHarness.taskRequest(
                contentType: "multipart/form-data; boundary=\(Self.boundary)",
                body: Self.multipart([
                    ([#"Content-Disposition: form-data; name="note""#], "hello"),
                    ([#"Content-Disposition: form-data; name="task""#, "Content-Type: application/json"], task),
                ])
            )
        }
        let dropped = request(#"{"callback_url": "https://labeling.corp.example.com/hooks/scale", "n": 1}"#)
        try await CallbackHarness.expectRefusedForARemovedCallbackField(dropped, by: inspector)
        // The same policy leaves a nested callback alone: it is rewritten.
        let nested = request(#"{"meta": {"callback_url": "https://labeling.corp.example.com/hooks/scale"}}"#)
        guard case .forward(let forwarded) = try await inspector.inspect(nested) else {
            Issue.record("a nested callback field the policy keeps was refused")
            return
        }
        let sent = String(buffer: forwarded.body)
        #expect(Self.part("task", of: sent) == #"{"meta": {"callback_url": "\#(Self.scalePublic)"}}"#, "\(sent)")
        #expect(Self.part("note", of: sent) == "hello")
    }
}
