import AirlockAudit
import AirlockRedaction
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import AirlockProxy

/// Vendor callbacks in both directions, through real curl, a real stand-in vendor and a real internal receiver.
@Suite(.timeLimit(.minutes(2)))
struct CallbackTests {
    static let scalePublic = CallbackHarness.publicURL + "/callbacks/scale"

    static func json(_ text: String) -> [String: Any]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    // MARK: Outgoing

    @Test func internalCallbackURLsAreRewrittenToThePublicEndpoint() async throws {
        let harness = try await CallbackHarness()
        let receiverPort = harness.receiver.port
        // Plain, JSON-escaped slashes, an escaped key, and a nested batch callback on another route.
        let body = """
            {"instruction": "Label for Nightingale", "callback_url": "https://127.0.0.1:\(receiverPort)/hooks/scale",
             "meta": {"callback": "https:\\/\\/labeling.corp.example.com\\/hooks\\/batch/"},
             "extra": [{"callback\\u005furl": "https://LABELING.corp.example.com:443/hooks/batch"}], "n": 1.5e3}
            """
        let result = try await harness.post("/scale/v1/task/text", body)
        let received = harness.vendor.requests.first?.bodyText ?? ""
        // The same public URL written by the lab itself goes through the policy, which redacts it: the rewrite
        // above is what keeps it intact.
        _ = try await harness.post("/scale/v1/task/text", #"{"note": "\#(Self.scalePublic)"}"#)
        let direct = harness.vendor.requests.last?.bodyText ?? ""
        await harness.close()
        #expect(!direct.contains(Self.scalePublic), "\(direct)")
        #expect(result.status == 200, "\(result.body)")
        let sent = try #require(Self.json(received), "\(received)")
        #expect(sent["callback_url"] as? String == Self.scalePublic)
        #expect(
            (sent["meta"] as? [String: Any])?["callback"] as? String == CallbackHarness.publicURL
                + "/callbacks/scale-batch"
        )
        let extra = (sent["extra"] as? [[String: Any]])?.first
        #expect(extra?["callback_url"] as? String == CallbackHarness.publicURL + "/callbacks/scale-batch")
        #expect(!received.contains("127.0.0.1") && !received.lowercased().contains("corp.example.com"), "\(received)")
        #expect(!received.contains("Nightingale"), "the policy still redacts the rest: \(received)")
        // Bytes outside the rewritten strings are as the lab sent them.
        #expect(received.hasSuffix(#", "n": 1.5e3}"#), "\(received)")
        #expect(received.contains(#""extra": [{"callback\u005furl": "#), "\(received)")
    }

    @Test func formBodiesAreRewrittenAndRefusedToo() async throws {
        let harness = try await CallbackHarness()
        let port = harness.receiver.port
        let form = "instruction=About+Nightingale&callback%5Furl=https%3A%2F%2F127.0.0.1%3A\(port)%2Fhooks%2Fscale&n=1"
        let rewritten = try await harness.curl([
            "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", form,
            harness.url("/scale/v1/task/text"),
        ])
        let refused = try await harness.curl([
            "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary",
            "callback_url=http://labeling.corp.example.com/hooks/x", harness.url("/labelbox/graphql"),
        ])
        let received = harness.vendor.requests.map(\.bodyText)
        await harness.close()
        #expect(rewritten.status == 200, "\(rewritten.body)")
        #expect(refused.status == 403 && errorCode(refused.body) == "blocked_by_policy", "\(refused.body)")
        #expect(received.count == 1)
        let body = try #require(received.first)
        #expect(
            body.contains("&callback%5Furl=https%3A%2F%2Fairlock.lab.example.com%3A8443%2Fcallbacks%2Fscale&n=1"),
            "\(body)"
        )
        #expect(body.hasPrefix("instruction=About+") && !body.contains("Nightingale"), "\(body)")
    }

    /// curl's `-F 'task[callback_url]=...'` and a bracketed form field, as Rails-, PHP- and Express-style vendors
    /// read them (under `callback_url`): an internal URL there is refused like a plain `callback_url`, and a
    /// configured one rewritten. Before, the bracketed name was not located and the internal URL left.
    @Test func bracketedFormFieldNamesAreLocated() async throws {
        let harness = try await CallbackHarness()
        let port = harness.receiver.port
        let rewritten = try await harness.curl([
            "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary",
            "task%5Bcallback_url%5D=https%3A%2F%2F127.0.0.1%3A\(port)%2Fhooks%2Fscale",
            harness.url("/scale/v1/task/text"),
        ])
        let refusedForm = try await harness.curl([
            "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary",
            "task[callback_url]=http://labeling.corp.example.com/hooks/x", harness.url("/labelbox/graphql"),
        ])
        let refusedMultipart = try await harness.curl([
            "-F", "task[callback_url]=http://labeling.corp.example.com/hooks/x", harness.url("/labelbox/graphql"),
        ])
        let received = harness.vendor.requests.map(\.bodyText)
        await harness.close()
        #expect(rewritten.status == 200, "\(rewritten.body)")
        for refused in [refusedForm, refusedMultipart] {
            #expect(refused.status == 403 && errorCode(refused.body) == "blocked_by_policy", "\(refused.body)")
        }
        #expect(received.count == 1)
        let body = try #require(received.first)
        #expect(body.contains("airlock.lab.example.com") && !body.contains("127.0.0.1"), "\(body)")
    }

    @Test func jsonLinesBatchesAreRewrittenAndRefusedToo() async throws {
        let harness = try await CallbackHarness()
        let port = harness.receiver.port
        // A batch upload: the second line's callback is internal and gets the public URL; blank and CRLF lines stay.
        let batch = """
            {"instruction": "About Nightingale", "n": 1}\r
            {"instruction": "second", "callback_url": "https://127.0.0.1:\(port)/hooks/scale"}

            {"instruction": "third"}
            """
        let rewritten = try await harness.curl([
            "-H", "Content-Type: application/x-ndjson", "--data-binary", batch, harness.url("/scale/v1/task/text"),
        ])
        let refused = try await harness.curl([
            "-H", "Content-Type: application/jsonl", "--data-binary",
            "{\"a\": 1}\n{\"meta\": {\"callback\": \"https://other.internal/hook\"}}\n",
            harness.url("/scale/v1/task/text"),
        ])
        let received = harness.vendor.requests.map(\.bodyText)
        let decisions = harness.recorder.decisions
        await harness.close()
        #expect(rewritten.status == 200, "\(rewritten.body)")
        #expect(refused.status == 403 && errorCode(refused.body) == "blocked_by_policy", "\(refused.body)")
        #expect(received.count == 1, "the refused batch never reached the vendor")
        let body = try #require(received.first)
        // Split on bytes: as Characters, CR LF is one.
        let lines = body.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        #expect(lines.count == 4 && lines[0].utf8.last == UInt8(ascii: "\r") && lines[2].isEmpty, "\(lines)")
        #expect(lines[1] == #"{"instruction": "second", "callback_url": "\#(Self.scalePublic)"}"#, "\(body)")
        #expect(!body.contains("127.0.0.1") && !body.contains("Nightingale"), "\(body)")
        #expect(decisions.last?.rule == "callback-url")
    }

    @Test func labelStudioWebhookURLIsRewritten() async throws {
        let harness = try await CallbackHarness()
        let result = try await harness.post(
            "/labelstudio/api/webhooks",
            #"{"url": "http://ls.internal:8080/webhook", "project": 3, "send_payload": true}"#
        )
        let received = harness.vendor.requests.first?.bodyText ?? ""
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(
            received
                == #"{"url": "\#(CallbackHarness.publicURL)/callbacks/labelstudio", "project": 3, "send_payload": true}"#
        )
    }

    @Test func internalCallbackURLWithoutACallbacksEntryIsRefused() async throws {
        let harness = try await CallbackHarness()
        let noEntry = try await harness.post(
            "/labelbox/graphql",
            #"{"query": "mutation", "variables": {"callback_url": "https://labeling.corp.example.com/hooks/x"}}"#
        )
        let escaped = try await harness.post(
            "/labelbox/graphql",
            #"{"callback\u005Furl": "https:\/\/10.1.2.3\/hook"}"#
        )
        let unknownTarget = try await harness.post(
            "/scale/v1/task/text",
            #"{"callback_url": "https://other.internal/hook"}"#
        )
        let singleLabel = try await harness.post("/scale/v1/task/text", #"{"callback_url": "http://labeling/hook"}"#)
        let inArray = try await harness.post(
            "/labelbox/graphql",
            #"{"callback": ["https://hooks.example.org/a", "https://[fd00::1]/b"]}"#
        )
        let vendorBytes = harness.vendor.plaintextBytesReceived
        let decisions = harness.recorder.decisions
        await harness.close()
        for result in [noEntry, escaped, unknownTarget, singleLabel, inArray] {
            #expect(result.status == 403, "\(result.body)")
            #expect(errorCode(result.body) == "blocked_by_policy")
            #expect(
                Self.json(result.body).flatMap { $0["error"] as? [String: Any] }?["rule"] as? String == "callback-url"
            )
            #expect(!result.body.contains("corp.example.com") && !result.body.contains("10.1.2.3"), "\(result.body)")
        }
        #expect(noEntry.body.contains("no callbacks route"))
        #expect(vendorBytes == 0, "nothing reaches the vendor")
        #expect(decisions.count == 5 && decisions.allSatisfy { $0.decision == .blocked && $0.rule == "callback-url" })
    }

    @Test func aPolicyThatDropsACallbackFieldGetsTheRequestRefused() async throws {
        let inspector = try CallbackHarness.inspector(droppingField: "$.callback_url")
        let request = CallbackHarness.taskRequest(
            contentType: "application/json",
            body: #"{"callback_url": "https://labeling.corp.example.com/hooks/scale", "n": 1}"#
        )
        try await CallbackHarness.expectRefusedForARemovedCallbackField(request, by: inspector)
    }

    @Test func externalCallbackURLsAreLeftAlone() async throws {
        let harness = try await CallbackHarness()
        let body = #"{"callback_url": "https://hooks.example.org/scale?x=1", "callback": "ops@example.org"}"#
        let result = try await harness.post("/labelbox/graphql", body)
        let received = harness.vendor.requests.first?.bodyText
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(received == body)
    }

    @Test func malformedOrCompressedCallbackBearingBodiesAreRefused() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(policy: false))
        let malformed = try await harness.post("/scale/v1/task/text", #"{"callback_url": "http://x.internal/"#)
        // The Content-Encoding value is the client's: refused without being echoed (it could hold anything).
        let compressed = try await harness.curl([
            "-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip, Nightingale-2", "--data-binary",
            "callback_url", harness.url("/scale/v1/task/text"),
        ])
        // Without a policy (pass-through inspector) the rewrite still happens, directly.
        let rewritten = try await harness.post(
            "/scale/v1/task/text",
            #"{"callback_url": "https://127.0.0.1:\#(harness.receiver.port)/hooks/scale"}"#
        )
        let received = harness.vendor.requests.map(\.bodyText)
        await harness.close()
        #expect(malformed.status == 422 && errorCode(malformed.body) == "uninspectable_body", "\(malformed.body)")
        #expect(compressed.status == 403 && errorCode(compressed.body) == "blocked_by_policy", "\(compressed.body)")
        #expect(!compressed.body.contains("Nightingale"), "\(compressed.body)")
        #expect(rewritten.status == 200)
        #expect(received == [#"{"callback_url": "\#(Self.scalePublic)"}"#])
    }

    /// Really compressed bodies: the check looks at what they decode to. An internal callback URL is refused (it
    /// cannot be rewritten in place), with nothing sent; a compressed body whose callback is outside the lab, or
    /// whose text merely mentions callbacks, leaves as the lab sent it. (Compressed bytes never spell a key, so a
    /// check on the raw bytes let every internal callback URL through.)
    @Test func compressedBodiesAreCheckedForInternalCallbackURLs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-gzip-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func gzipped(_ name: String, _ json: String) throws -> String {
            let plain = directory.appendingPathComponent(name).path
            try json.write(toFile: plain, atomically: true, encoding: .utf8)
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
            gzip.arguments = ["-n", plain]
            try gzip.run()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
            return plain + ".gz"
        }
        let internalURL = try gzipped("internal", #"{"callback_url": "https://labeling.corp.example.com/hooks/x"}"#)
        let externalURL = try gzipped("external", #"{"callback_url": "https://hooks.example.org/x"}"#)
        let mention = try gzipped("mention", #"{"prompt": "write a callback that logs"}"#)
        let harness = try await CallbackHarness(CallbackHarness.Options(policy: false))
        func post(_ file: String) async throws -> CurlResult {
            try await harness.curl([
                "-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip", "--data-binary", "@" + file,
                harness.url("/labelbox/graphql"),
            ])
        }
        let refused = try await post(internalURL)
        let bytesAfterRefusal = harness.vendor.plaintextBytesReceived
        let external = try await post(externalURL)
        let mentioned = try await post(mention)
        let received = harness.vendor.requests.count
        await harness.close()
        #expect(refused.status == 403 && errorCode(refused.body) == "blocked_by_policy", "\(refused.body)")
        #expect(Self.json(refused.body).flatMap { $0["error"] as? [String: Any] }?["rule"] as? String == "callback-url")
        #expect(bytesAfterRefusal == 0, "nothing reaches the vendor")
        #expect(external.status == 200 && mentioned.status == 200)
        #expect(received == 2)
    }

    @Test(arguments: [
        ("https://labeling.corp.example.com/x", true),
        ("https://LABELING.CORP.EXAMPLE.COM./x", true),
        ("http://corp.example.com/x", false),  // *.corp.example.com covers subdomains only
        ("https://x.internal:8443", true),
        ("http://localhost/hook", true),
        ("http://labeling/hook", true),
        ("//127.0.0.1/hook", true),
        ("http://2130706433/", true),
        ("http://0x7f.1/", true),
        ("https://10.20.30.40/", true),
        ("https://172.31.0.1/", true),
        ("https://172.32.0.1/", false),
        ("https://192.168.1.1/", true),
        ("https://169.254.169.254/latest", true),
        ("https://[::1]:8080/", true),
        ("https://[fd12:3456::1]/", true),
        ("https://[fe80::1%25eth0]/", true),
        ("https://[::ffff:10.0.0.1]/", true),
        // The same addresses spelled without `::` or with leading zero groups: a client reads them all alike.
        ("https://[0:0:0:0:0:0:0:1]:8080/", true),
        ("https://[0::1]/", true),
        ("https://[0:0:0:0:0:ffff:10.0.0.1]/", true),
        ("https://[0:0:0:0:0:ffff:a9fe:a9fe]/latest", true),
        ("https://[0000:0000:0000:0000:0000:0000:0000:0000]/", true),
        ("https://[::ffff:93.184.216.34]/", false),
        ("https://[2001:db8::1]/", false),
        ("https://api.example.org@labeling.corp.example.com/", true),
        ("https://labeling.corp.example.com\\@hooks.example.org/", true),
        ("https://labeling%2Ecorp.example.com/", true),
        ("labeling.corp.example.com/hooks", true),
        // Label separators and letters a vendor's client maps to ASCII (UTS #46 / IDNA, as WHATWG URL, Python's
        // idna and curl with libidn2 do): the same internal host.
        ("https://labeling.corp\u{3002}example.com/x", true),
        ("https://labeling.corp\u{FF0E}example.com/x", true),
        ("https://labeling.corp\u{FF61}example.com/x", true),
        ("https://labeling.corp.\u{FF45}xample.com/x", true),
        ("https://labeling.corp%E3%80%82example.com/x", true),
        ("https://cafe.be/", false),
        ("https://hooks.example.org/scale", false),
        ("https://93.184.216.34/", false),
    ])
    func internalHostsAreRecognised(url: String, inside: Bool) throws {
        let parsed = try #require(CallbackURL(url), "\(url)")
        #expect(InternalHosts(globs: ["*.corp.example.com", "*.internal"]).contains(parsed.host) == inside, "\(url)")
    }

    static func scan(_ text: String) -> [FieldLocator.Field]? {
        let locator = FieldLocator(keys: ["callback_url", "callback"], topLevelKeys: ["url"])
        return try? Array(text.utf8).withUnsafeBytes { bytes throws(FieldLocator.Failure) in
            try locator.locate(bytes, format: .json)
        }
    }

    @Test func theScannerAcceptsValidJSONAndRefusesEverythingElse() {
        let valid = [
            "{}", "[]", #""x""#, "1", "-0.5e+3", " true ", "null", #"{"a": [1, {"b": null}], "c": "\u00e9\n"}"#,
            #"[[[]], {}, "\ud83d\ude00"]"#,
        ]
        for text in valid { #expect(Self.scan(text) != nil, "\(text)") }
        let invalid = [
            "", "{", #"{"a"}"#, #"{"a": 1,}"#, "[1,]", "01", #""\x""#, #""\u12""#, "tru", #"{"a": 1} x"#,
            "\"a\nb\"", "1.", ".5", "{'a': 1}", "[1 2]", #"{"a" 1}"#, "-", "1e", #""abc"#,
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
            // A lone surrogate in a value or key the scanner reads: refused, as the redaction engine refuses it.
            #"{"callback_url": "https://a.example\ud800/x"}"#, #"{"callback\udc00_url": "x"}"#,
        ]
        for text in invalid { #expect(Self.scan(text) == nil, "\(text)") }
    }

    @Test func theScannerReportsCallbackValuesWithExactRanges() throws {
        let text = #"{"url": "u1", "x": {"url": "u2", "callback\u005furl": "h\/1"}, "callback": ["a", {"y": "b"}]}"#
        let fields = try #require(Self.scan(text))
        #expect(fields.map(\.key) == ["url", "callback_url", "callback"])
        #expect(fields.map(\.value) == ["u1", "h/1", "a"])
        let bytes = Array(text.utf8)
        #expect(fields.map { String(decoding: bytes[$0.range!], as: UTF8.self) } == [#""u1""#, #""h\/1""#, #""a""#])
    }

    /// A byte order mark before the document is valid JSON to the engine, so the callback check reads past it too
    /// (it refused the body as invalid JSON), with ranges into the body as sent.
    @Test func theScannerReadsPastAByteOrderMarkBeforeTheDocument() throws {
        let text = "\u{FEFF}" + #"{"callback_url": "u1"}"#
        let fields = try #require(Self.scan(text))
        #expect(fields.map(\.value) == ["u1"])
        #expect(fields.map { String(decoding: Array(text.utf8)[$0.range!], as: UTF8.self) } == [#""u1""#])
        #expect(Self.scan("{}\u{FEFF}") == nil && Self.scan(" \u{FEFF}{}") == nil)
    }

    @Test func bodyFormatsAndWebhookPathsAreRecognised() {
        func format(_ contentType: String?) -> FieldLocator.Format? { FieldLocator.Format(contentType: contentType) }
        #expect(format("Application/JSON; charset=utf-8") == .json)
        #expect(format(" application/vnd.api+json") == .json)
        #expect(format("Text/JSON") == .json, "the engine reads text/json as JSON too")
        #expect(format("application/x-www-form-urlencoded ; charset=utf-8") == .form)
        #expect(format("application/x-ndjson") == .jsonLines)
        #expect(format("Application/JSONL; charset=utf-8") == .jsonLines)
        #expect(format("application/jsonx") == nil)
        #expect(format("text/plain") == nil && format(nil) == nil)
        #expect(OutgoingCallbacks.isWebhookPath("/api/webhooks") && OutgoingCallbacks.isWebhookPath("/api/webhooks/"))
        #expect(OutgoingCallbacks.isWebhookPath("/api/webhooks/12") && OutgoingCallbacks.isWebhookPath("webhook"))
        #expect(!OutgoingCallbacks.isWebhookPath("/api/webhooksx") && !OutgoingCallbacks.isWebhookPath("/api/tasks"))
        // Spellings a vendor's router reads as the same segment: percent-escaped letters (Django decodes the path
        // before routing), any case, a `;` parameter (stripped by Tomcat and Jetty).
        for path in ["/api/%77ebhooks/", "/api/web%68ooks", "/api/Webhooks/", "/api/webhooks;x=1/", "/api/webhook;"] {
            #expect(OutgoingCallbacks.isWebhookPath(path), "\(path)")
        }
    }

    @Test func thePreCheckSeesKeysSpelledWithEscapesAndSkipsOtherEscapes() {
        func mayHold(_ text: String, webhooks: Bool = false, _ format: FieldLocator.Format = .json) -> Bool {
            let locator = OutgoingCallbacks(configuration: nil).locator(vendor: "scale", webhooks: webhooks)
            return Array(text.utf8).withUnsafeBytes { locator.mayHold($0, format: format) }
        }
        // Keys that reach the scanner: literal, or any of their characters escaped.
        #expect(mayHold(#"{"callback_url": "x"}"#))
        #expect(mayHold(#"{"\u0063allback_url": "x"}"#) && mayHold(#"{"c\u0061llback\u005Furl": "x"}"#))
        #expect(mayHold(#"{"\u0075rl": "x"}"#, webhooks: true) && mayHold(#"{"url": "x"}"#, webhooks: true))
        #expect(mayHold("%63allback_url=x", .form) && mayHold("%75rl=x", webhooks: true, .form))
        #expect(mayHold(#"{"cal\u006Cback": 1}"#))
        // Bodies that cannot hold one.
        #expect(!mayHold(#"{"text": "caf\u00e9 \u4e2d\u6587", "url": "x"}"#))
        #expect(!mayHold("a=https%3A%2F%2Fx.example%2Fhook&url=x", .form))
        #expect(!mayHold(#"{"a": "\u00"#) && !mayHold("a=%", .form), "an escape cut off by the body's end")
    }

    @Test func nonURLValuesAreNotCallbackURLs() {
        for value in ["ops@lab.example.com", "true", "", "see the docs", "callback"] {
            #expect(CallbackURL(value) == nil, "\(value)")
        }
    }

    // MARK: Incoming

    /// Sends a task naming Nightingale, as the lab would, and returns the pseudonym the vendor saw instead.
    static func pseudonymOfNightingale(_ harness: CallbackHarness) async throws -> String {
        _ = try await harness.post("/scale/v1/task/text", #"{"instruction": "Summarise Nightingale"}"#)
        let sent = harness.vendor.requests.first?.bodyText ?? ""
        return try #require(
            sent.range(of: #"CODENAME_[A-Z0-9]+"#, options: .regularExpression).map { String(sent[$0]) }
        )
    }

    @Test func callbackWithTheRightAuthIsDeliveredWithPseudonymsRestored() async throws {
        let harness = try await CallbackHarness()
        // A task leaves with a codename; the vendor sees a pseudonym and calls back with it.
        let token = try await Self.pseudonymOfNightingale(harness)
        let callback = #"{"task_id": "t-1", "status": "completed", "response": {"text": "Done with \#(token)"}}"#
        let result = try await harness.postCallback(callback, query: "?attempt=1", headers: ["X-Vendor-Trace: abc"])
        let delivered = harness.receiver.requests
        let decisions = harness.recorder.decisions
        let outcomes = harness.recorder.outcomes
        let metrics = try await Curl.run(["http://127.0.0.1:\(harness.adminPort)/metrics"]).body
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(Self.json(result.body)?["delivered"] as? Bool == true)
        #expect(!result.body.contains("received"), "the lab's response body never goes back to the vendor")
        let request = try #require(delivered.first)
        #expect(delivered.count == 1)
        #expect(request.method == "POST" && request.uri == "/hooks/scale?attempt=1")
        #expect(
            request.bodyText == callback.replacingOccurrences(of: token, with: "Nightingale"),
            "\(request.bodyText)"
        )
        #expect(request.header("scale-callback-auth") == nil, "the vendor's secret stays at Airlock")
        #expect(request.header("x-vendor-trace") == nil)
        #expect(request.header("airlock-callback-vendor") == "scale")
        let record = try #require(decisions.last)
        #expect(record.path == "/callbacks/scale" && record.decision == .forwarded && record.vendor == "scale")
        #expect(record.forwarded?.body.readableBytes == callback.utf8.count, "the log keeps what the vendor sent")
        #expect(outcomes.contains { $0.requestID == record.requestID && $0.vendorStatus == 200 })
        #expect(
            metrics.split(separator: "\n").contains {
                $0.hasPrefix("airlock_callbacks_total{") && $0.contains(#"outcome="delivered""#) && $0.hasSuffix(" 1")
            },
            "\(metrics)"
        )
        #expect(!metrics.contains(CallbackHarness.secret))
    }

    @Test func callbackDecisionsAreInTheAuditLog() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(auditLog: true))
        let token = try await Self.pseudonymOfNightingale(harness)
        let delivered = try await harness.postCallback(#"{"text": "\#(token)"}"#)
        let refused = try await harness.post(
            "/callbacks/scale",
            #"{"text": "x"}"#,
            headers: ["scale-callback-auth: no"]
        )
        await harness.stopProxy()
        let entries = try AuditLogReader(directory: URL(fileURLWithPath: harness.auditDirectory)).decisions()
        var logText = ""
        for file in (FileManager.default.subpaths(atPath: harness.auditDirectory) ?? []) {
            if let data = FileManager.default.contents(atPath: harness.auditDirectory + "/" + file) {
                logText += String(decoding: data, as: UTF8.self)
            }
        }
        let receiverGot = harness.receiver.requests.first?.bodyText
        await harness.close()
        #expect(delivered.status == 200 && refused.status == 401)
        #expect(receiverGot == #"{"text": "Nightingale"}"#)
        let callbacks = entries.filter { $0.path == "/callbacks/scale" }
        #expect(callbacks.count == 2, "\(entries.map { "\($0.path ?? "") \($0.decision.map { "\($0)" } ?? "")" })")
        let forwarded = callbacks.first { $0.decision == .forwarded }
        #expect(forwarded?.vendor == "scale" && forwarded?.status == 200, "\(String(describing: forwarded))")
        let blocked = callbacks.first { $0.decision == .blocked }
        #expect(blocked?.reason == "callback_unauthorized" && blocked?.status == 401)
        #expect(!logText.contains(CallbackHarness.secret), "the secret never reaches the log")
    }

    @Test func wrongOrMissingAuthIsRefusedAndNothingDelivered() async throws {
        let harness = try await CallbackHarness()
        let body = #"{"task_id": "t-1"}"#
        let wrong = try await harness.post(
            "/callbacks/scale",
            body,
            headers: ["scale-callback-auth: \(CallbackHarness.secret.dropLast())x"]
        )
        let missing = try await harness.post("/callbacks/scale", body)
        let otherHeader = try await harness.post(
            "/callbacks/scale",
            body,
            headers: ["x-ls-secret: \(CallbackHarness.secret)"]
        )
        let doubled = try await harness.post(
            "/callbacks/scale",
            body,
            headers: [
                "scale-callback-auth: \(CallbackHarness.secret)", "scale-callback-auth: \(CallbackHarness.secret)",
            ]
        )
        let delivered = harness.receiver.requests.count
        let receiverConnections = harness.receiver.connectionCount
        await harness.close()
        let decisions = harness.recorder.decisions  // aggregated refusals are written by the time the proxy stops
        for result in [wrong, missing, otherHeader, doubled] {
            #expect(result.status == 401, "\(result.body)")
            #expect(errorCode(result.body) == "callback_unauthorized")
            #expect(!result.body.contains(CallbackHarness.secret.prefix(8)))
        }
        #expect(delivered == 0 && receiverConnections == 0)
        // Refused before any policy saw them: counted, and recorded together (one record per kind and client a
        // second, with the count).
        #expect(decisions.allSatisfy { $0.decision == .blocked && $0.reason == "callback_unauthorized" })
        #expect(decisions.map { $0.aggregated?.count ?? 1 }.reduce(0, +) == 4, "\(decisions.count) records")
    }

    @Test func malformedCallbackBodiesAreRefusedAndNothingDelivered() async throws {
        let harness = try await CallbackHarness()
        let auth = CallbackHarness.scaleAuth
        let truncated = try await harness.post(
            "/callbacks/scale",
            #"{"task_id": "t-1", "response": {"#,
            headers: [auth]
        )
        let trailing = try await harness.post("/callbacks/scale", #"{"a": 1} {"b": 2}"#, headers: [auth])
        let badEscape = try await harness.post("/callbacks/scale", #"{"a": "\x"}"#, headers: [auth])
        let text = try await harness.curl([
            "-H", "Content-Type: text/plain", "-H", auth, "--data-binary", "hello", harness.url("/callbacks/scale"),
        ])
        let get = try await harness.curl(["-H", auth, harness.url("/callbacks/scale")])
        let compressed = try await harness.curl([
            "-H", "Content-Type: application/json", "-H", auth, "-H", "Content-Encoding: br, Nightingale-2",
            "--data-binary", "{}", harness.url("/callbacks/scale"),
        ])
        let delivered = harness.receiver.requests.count
        let receiverConnections = harness.receiver.connectionCount
        await harness.close()
        for result in [truncated, trailing, badEscape] {
            #expect(result.status == 422 && errorCode(result.body) == "uninspectable_callback", "\(result.body)")
        }
        #expect(text.status == 415 && errorCode(text.body) == "uninspectable_callback")
        #expect(get.status == 405)
        // The sender's Content-Encoding value is never echoed.
        #expect(compressed.status == 415 && !compressed.body.contains("Nightingale"), "\(compressed.body)")
        #expect(delivered == 0 && receiverConnections == 0)
    }

    @Test func aCallbackThatCannotBeRecordedIsNotDelivered() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(failingRecorder: true))
        let result = try await harness.postCallback(#"{"task_id": "t-1"}"#)
        let receiverConnections = harness.receiver.connectionCount
        await harness.close()
        #expect(result.status == 503 && errorCode(result.body) == "audit_unavailable", "\(result.body)")
        #expect(receiverConnections == 0, "nothing reaches the lab when the decision cannot be logged")
    }

    @Test func internalTargetDownAnswersTheVendorWith502() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(deliverPort: try closedPort()))
        let result = try await harness.postCallback(#"{"task_id": "t-1"}"#)
        let outcomes = harness.recorder.outcomes
        await harness.close()
        #expect(result.status == 502, "\(result.body)")
        #expect(errorCode(result.body) == "callback_delivery_failed")
        #expect(!result.body.contains("127.0.0.1"), "the lab's address is not told to the vendor")
        // The closed port can be taken by a listener of a test running in parallel before the delivery connects:
        // then the lab's TLS verification fails instead. Either way nothing was delivered and the vendor got a 502.
        #expect(["connect_failed", "tls_verificationFailed"].contains(outcomes.first?.error ?? ""), "\(outcomes)")
    }

    @Test func callbackIsDeliveredOverPlainHTTPToo() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let receiver = try await PlainHTTPReceiver(group: group)
        let harness = try await CallbackHarness(CallbackHarness.Options(plainHTTPPort: receiver.port))
        let result = try await harness.postCallback(#"{"task_id": "t-2"}"#)
        let delivered = receiver.requests
        let receiverPort = receiver.port
        await harness.close()
        await receiver.stop()
        try? await group.shutdownGracefully()
        #expect(result.status == 202, "\(result.body)")
        #expect(delivered.count == 1)
        #expect(delivered.first?.uri == "/hooks/scale" && delivered.first?.body == #"{"task_id": "t-2"}"#)
        #expect(
            delivered.first?.headers.contains { $0.0.lowercased() == "host" && $0.1 == "127.0.0.1:\(receiverPort)" }
                == true
        )
    }

    @Test func aSilentLabEndpointAnswersTheVendorWith504() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(upstreamTimeoutSeconds: 1))
        harness.receiver.behavior = .delay(.seconds(4))
        let result = try await harness.postCallback(#"{"task_id": "t-1"}"#)
        await harness.close()
        #expect(result.status == 504 && errorCode(result.body) == "callback_delivery_timeout", "\(result.body)")
    }

    @Test func aLargeCallbackIsRestoredOffTheEventLoopAndDelivered() async throws {
        let harness = try await CallbackHarness()
        let token = try await Self.pseudonymOfNightingale(harness)
        // Over the policy inspector's event-loop limit (256 KiB), and large enough for curl's Expect: 100-continue.
        let items = (0..<12_000).map { #"{"i": \#($0), "text": "about \#(token)"}"# }.joined(separator: ",")
        let callback = #"{"task_id": "t-big", "items": [\#(items)]}"#
        #expect(callback.utf8.count > 300_000)
        let file = harness.certificates.directory + "/big-callback.json"
        try callback.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await harness.postCallback("@" + file)
        let delivered = harness.receiver.requests.first?.bodyText
        await harness.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(delivered == callback.replacingOccurrences(of: token, with: "Nightingale"))
    }

    @Test func labStatusIsPassedBackToTheVendor() async throws {
        let harness = try await CallbackHarness()
        harness.receiver.behavior = .status(503)
        let result = try await harness.postCallback(#"{"task_id": "t-1"}"#)
        let delivered = harness.receiver.requests.count
        await harness.close()
        #expect(result.status == 503, "\(result.body)")
        // Airlock's own 503 (audit_unavailable) must not pass for the lab's.
        #expect(Self.json(result.body)?["delivered"] as? Bool == true, "\(result.body)")
        #expect(delivered == 1)
    }

    // MARK: Configuration

    static let base = """
        listen: {address: 127.0.0.1:8443, tls: {certificate: a.crt, key: a.key}}
        vendors:
          - {name: scale, path_prefix: /scale, upstream: "https://api.scale.com", policy: none, routes: ["GET /x"]}

        """

    /// Parses `base` + `callbacks` as `airlock.yaml` in a throwaway directory holding `secretFile` as `s.secret`.
    static func configuration(
        _ callbacks: String,
        secretFile: String? = nil
    ) -> Result<ProxyConfiguration, ConfigurationError> {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-cb-\(UUID())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        if let secretFile {
            try? secretFile.write(to: directory.appendingPathComponent("s.secret"), atomically: true, encoding: .utf8)
        }
        return Result { () throws(ConfigurationError) in
            try ProxyConfiguration.parse(
                yaml: Self.base + callbacks,
                file: "airlock.yaml",
                baseDirectory: directory.path
            )
        }
    }

    static func parse(_ callbacks: String, secretFile: String? = nil) -> ConfigurationError? {
        guard case .failure(let error) = Self.configuration(callbacks, secretFile: secretFile) else { return nil }
        return error
    }

    static func callbacks(
        publicURL: String = "https://airlock.example.com",
        hosts: String = #"["*.corp.example.com"]"#,
        route: String = "{vendor: scale, path: /callbacks/scale, deliver_to: \"https://l.corp.example.com/h\", "
            + "auth: {header: scale-callback-auth, secret_file: s.secret}}"
    ) -> String {
        """
        callbacks:
          public_url: \(publicURL)
          internal_hosts: \(hosts)
          routes:
            - \(route)
        """
    }

    @Test func aValidSectionParses() throws {
        let config = try Self.configuration(Self.callbacks(), secretFile: "0123456789abcdef0123\n").get()
        let callbacks = try #require(config.callbacks)
        #expect(callbacks.publicURL.description == "https://airlock.example.com")
        #expect(callbacks.internalHosts == ["*.corp.example.com"])
        let route = try #require(callbacks.routes.first)
        #expect(route.path == "/callbacks/scale" && route.vendor == "scale")
        #expect(route.deliverTo == CallbackTarget(isTLS: true, host: "l.corp.example.com", port: 443, path: "/h"))
        #expect(route.auth.header == "scale-callback-auth")
        #expect(route.auth.secret.matches("0123456789abcdef0123") && !route.auth.secret.matches("0123456789abcdef012"))
        #expect("\(route.auth.secret)" == "<secret>")
        #expect(!CallbackSecret("").matches("x") && !CallbackSecret("").matches(""), "an empty secret matches nothing")
        #expect(route.publicURL(under: callbacks.publicURL) == "https://airlock.example.com/callbacks/scale")
    }

    @Test func invalidSectionsAreRefusedWithFileLineAndReason() {
        let secret = "0123456789abcdef0123"
        let cases: [(String, String?, String)] = [
            (
                Self.callbacks(publicURL: "http://airlock.example.com"), secret,
                "callbacks.public_url must start with https://"
            ),
            (Self.callbacks(publicURL: "https://airlock.corp.example.com"), secret, "is inside the lab"),
            (Self.callbacks(publicURL: "https://10.0.0.5"), secret, "is inside the lab"),
            (Self.callbacks(hosts: #"["*corp"]"#), secret, "must be a host name or *.domain"),
            (
                Self.callbacks(
                    route:
                        "{vendor: nobody, path: /cb, deliver_to: \"https://x.y/\", auth: {header: h, secret_file: s.secret}}"
                ),
                secret, "names vendor \"nobody\", which is not configured"
            ),
            (
                Self.callbacks(
                    route:
                        "{vendor: scale, path: /scale/cb, deliver_to: \"https://x.y/\", auth: {header: h, secret_file: s.secret}}"
                ),
                secret, "overlaps the path_prefix \"/scale\""
            ),
            (
                Self.callbacks(
                    route:
                        "{vendor: scale, path: /cb, deliver_to: \"ftp://x.y/\", auth: {header: h, secret_file: s.secret}}"
                ),
                secret, "deliver_to must start with http:// or https://"
            ),
            (
                Self.callbacks(route: "{vendor: scale, path: /cb, deliver_to: \"https://x.y/\", auth: {header: h}}"),
                secret, "auth needs secret_file or secret_env"
            ),
            (
                Self.callbacks(
                    route:
                        "{vendor: scale, path: /cb, deliver_to: \"https://x.y/\", auth: {header: h, secret_file: s.secret, secret_env: X}}"
                ),
                secret, "not both"
            ),
            (
                Self.callbacks(
                    route:
                        "{vendor: scale, path: /cb, deliver_to: \"https://x.y/\", auth: {header: h, secret_file: s.secret}}"
                ),
                "short", "the auth secret is 5 bytes; use at least 16"
            ),
            (
                Self.callbacks(
                    route:
                        "{vendor: scale, path: /cb, deliver_to: \"https://x.y/\", auth: {header: h, secret_file: missing.secret}}"
                ),
                secret, "cannot read auth.secret_file"
            ),
            (
                Self.callbacks(
                    route:
                        "{vendor: scale, path: /cb, deliver_to: \"https://x.y/\", auth: {header: h, secret_env: AIRLOCK_TEST_UNSET_\(UUID().uuidString.prefix(8))}}"
                ),
                secret, "is not set"
            ),
            (
                Self.callbacks(
                    route:
                        "{vendor: scale, path: /cb, deliver_to: \"https://x.y/\", auth: {header: h, secret_file: s.secret}, extra: 1}"
                ),
                secret, "unknown key \"extra\" in a callbacks route"
            ),
            (
                "callbacks:\n  public_url: https://a.example.com\n  routes: []\n", secret,
                "callbacks.routes must be a non-empty list"
            ),
        ]
        for (yaml, secretFile, expected) in cases {
            let error = Self.parse(yaml, secretFile: secretFile)
            #expect(error?.message.contains(expected) == true, "\(expected) -> \(error.map { "\($0)" } ?? "no error")")
            #expect(error?.line != nil && error?.description.hasPrefix("airlock.yaml:") == true)
            #expect(error.map { "\($0)" }?.contains(secret) != true, "the secret never appears in an error")
        }
    }
}
