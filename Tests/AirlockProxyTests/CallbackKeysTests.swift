import AirlockRedaction
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// Callback keys configured per vendor, located through the engine (`FieldLocator`), and the ways a careless
/// pipeline or a hostile vendor integration would slip an internal callback URL past the rewrite.
@Suite struct CallbackKeysTests {
    static let internalURL = "https://labeling.corp.example.com/hooks/scale"
    static let strayURL = "https://other.corp.example.com/hook"
    static let publicURL = CallbackHarness.publicURL + "/callbacks/scale"

    enum Outcome: Equatable {
        case untouched
        case rewritten(String)
        case refused
    }

    static func callbacks(keys: CallbackKeys = CallbackKeys()) throws -> OutgoingCallbacks {
        var vendor = ProxyConfiguration.Vendor(
            name: "scale",
            pathPrefix: "/scale",
            upstream: try UpstreamURL.parse("https://api.scale.example").get(),
            routes: []
        )
        vendor.callbackKeys = keys
        let route = ProxyConfiguration.CallbackRoute(
            vendor: "scale",
            path: "/callbacks/scale",
            deliverTo: try CallbackTarget.parse("https://labeling.corp.example.com/hooks/scale").get(),
            auth: ProxyConfiguration.CallbackAuth(header: "x-auth", secret: CallbackSecret(CallbackHarness.secret))
        )
        return OutgoingCallbacks(
            configuration: ProxyConfiguration.Callbacks(
                publicURL: try UpstreamURL.parse(CallbackHarness.publicURL).get(),
                internalHosts: ["*.corp.example.com"],
                routes: [route]
            ),
            vendors: [vendor]
        )
    }

    static func prepare(
        _ body: [UInt8],
        _ contentType: String = "application/json",
        keys: CallbackKeys = CallbackKeys(),
        path: String = "/v1/task/text",
        encoding: String? = nil,
        query: String? = nil
    ) throws -> Outcome {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        if let encoding { headers.add(name: "Content-Encoding", value: encoding) }
        let request = EgressRequest(
            id: "r-1",
            vendor: "scale",
            method: .POST,
            path: path,
            query: query,
            headers: headers,
            body: ByteBuffer(bytes: body),
            client: EgressClient(address: "127.0.0.1")
        )
        switch try Self.callbacks(keys: keys).prepare(request, finalURLs: true) {
        case .untouched: return .untouched
        case .refuse: return .refused
        case .rewritten(let body, _): return .rewritten(String(buffer: body))
        }
    }

    static func prepare(
        _ text: String,
        _ contentType: String = "application/json",
        keys: CallbackKeys = CallbackKeys(),
        path: String = "/v1/task/text"
    ) throws -> Outcome {
        try Self.prepare(Array(text.utf8), contentType, keys: keys, path: path)
    }

    // MARK: Keys per vendor

    @Test func aKeyConfiguredForTheVendorIsRewrittenAndItsStrayInternalURLRefused() throws {
        let keys = CallbackKeys(keys: ["notify_to"])
        let body = #"{"notify_to": "\#(Self.internalURL)"}"#
        #expect(try Self.prepare(body, keys: keys) == .rewritten(#"{"notify_to": "\#(Self.publicURL)"}"#))
        #expect(try Self.prepare(#"{"a": {"notify_to": "\#(Self.strayURL)"}}"#, keys: keys) == .refused)
        #expect(
            try Self.prepare("notify_to=" + Self.strayURL, "application/x-www-form-urlencoded", keys: keys) == .refused
        )
        // The defaults are what the vendor's list replaced.
        #expect(try Self.prepare(#"{"callback_url": "\#(Self.strayURL)"}"#, keys: keys) == .untouched)
        #expect(try Self.prepare(body) == .untouched)
    }

    /// Express, Flask and Rails read query parameters as they read the body's: an internal callback URL in the
    /// query string would leave as it is (the query is not rewritten), so it is refused.
    @Test func anInternalCallbackURLInTheQueryStringIsRefused() throws {
        let encoded = Self.internalURL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(try Self.prepare([], query: "callback_url=" + encoded) == .refused)
        #expect(try Self.prepare(Array("{}".utf8), query: "a=1&callback=" + Self.internalURL) == .refused)
        #expect(try Self.prepare([], path: "/api/webhooks", query: "url=" + Self.internalURL) == .refused)
        #expect(try Self.prepare([], query: "callback_url=https://hooks.example.org/x&q=" + encoded) == .untouched)
        #expect(try Self.prepare([], query: "url=" + Self.internalURL) == .untouched)  // not a webhooks path
    }

    /// No quick-check is written for a configured key: it is derived. A key with an upper-case letter and a digit
    /// (characters the old hand-written check never looked for) spelled with escapes is still caught.
    @Test func theQuickCheckOfAConfiguredKeyIsDerived() throws {
        let keys = CallbackKeys(keys: ["Notify2"])
        #expect(try Self.prepare(#"{"\u004eotify\u0032": "\#(Self.strayURL)"}"#, keys: keys) == .refused)
        #expect(
            try Self.prepare("%4Eotify%32=" + Self.strayURL, "application/x-www-form-urlencoded", keys: keys)
                == .refused
        )
    }

    @Test func webhookKeysAreConfigurableAndOnlyTopLevelOnWebhookPaths() throws {
        let keys = CallbackKeys(webhookKeys: ["target"])
        let body = #"{"target": "\#(Self.strayURL)"}"#
        #expect(try Self.prepare(body, keys: keys, path: "/api/webhooks") == .refused)
        #expect(try Self.prepare(body, keys: keys) == .untouched)
        #expect(try Self.prepare(#"{"url": "\#(Self.strayURL)"}"#, keys: keys, path: "/api/webhooks") == .untouched)
    }

    /// Through the configuration and the server: labelbox's `callbacks: {keys: [..., webhook_url]}` (see
    /// `CallbackHarness`) makes a `webhook_url` inside the lab refused for it, with nothing sent, while scale (default
    /// keys) is not asked about that key.
    @Test func aKeyConfiguredInTheVendorsSectionIsEnforcedByTheServer() async throws {
        let harness = try await CallbackHarness()
        let body = #"{"query": "mutation", "webhook_url": "https://ops.corp.example.com/hooks/lb"}"#
        let refused = try await harness.post("/labelbox/graphql", body)
        let sentBeforeScale = harness.vendor.requests.count
        let scale = try await harness.post("/scale/v1/task/text", body)
        let external = try await harness.post(
            "/labelbox/graphql",
            #"{"webhook_url": "https://hooks.example.org/lb"}"#
        )
        await harness.close()
        #expect(refused.status == 403 && errorCode(refused.body) == "blocked_by_policy", "\(refused.body)")
        #expect(refused.body.contains("webhook_url"), "\(refused.body)")
        #expect(sentBeforeScale == 0, "the vendor got nothing of the refused request")
        #expect(scale.status == 200, "\(scale.body)")
        #expect(external.status == 200, "\(external.body)")
    }

    @Test func theVendorsCallbacksSectionIsParsedAndChecked() throws {
        func vendors(_ callbacks: String) throws -> [ProxyConfiguration.Vendor] {
            let yaml = """
                listen: {address: 127.0.0.1:1, tls: {certificate: a, key: b}}
                vendors:
                  - {name: a, path_prefix: /a, upstream: https://x, routes: ["GET /"], policy: none\(callbacks)}
                """
            return try ProxyConfiguration.parse(yaml: yaml, baseDirectory: "/tmp").vendors
        }
        let defaults = try #require(try vendors("").first).callbackKeys
        #expect(defaults.keys == ["callback_url", "callback"] && defaults.webhookKeys == ["url"])
        let configured = try #require(try vendors(", callbacks: {keys: [hook, hook], webhook_keys: []}").first)
        #expect(configured.callbackKeys.keys == ["hook"] && configured.callbackKeys.webhookKeys.isEmpty)
        for bad in [
            ", callbacks: {keys: []}", ", callbacks: {keys: hook}", ", callbacks: {keys: [\"\"]}",
            ", callbacks: {kyes: [hook]}",
        ] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try vendors(bad) }
        }
    }

    // MARK: Bypasses

    @Test func aKeySpelledWithEscapesIsRewritten() throws {
        #expect(
            try Self.prepare(#"{"\u0063allback\u005furl": "\#(Self.internalURL)"}"#)
                == .rewritten(#"{"\u0063allback\u005furl": "\#(Self.publicURL)"}"#)
        )
    }

    @Test func everyDuplicateKeyIsLookedAt() throws {
        let body = #"{"callback_url": "https://hooks.example.org/", "callback_url": "\#(Self.internalURL)"}"#
        #expect(
            try Self.prepare(body)
                == .rewritten(#"{"callback_url": "https://hooks.example.org/", "callback_url": "\#(Self.publicURL)"}"#)
        )
        #expect(
            try Self.prepare(#"{"callback": "https://hooks.example.org/", "callback": "\#(Self.strayURL)"}"#)
                == .refused
        )
    }

    @Test func aKeyInANestedArrayAndURLsInAnArrayUnderAKeyAreLookedAt() throws {
        #expect(try Self.prepare(#"{"a": [{"b": [[{"callback": "\#(Self.strayURL)"}]]}]}"#) == .refused)
        #expect(try Self.prepare(#"{"callback": ["https://hooks.example.org/", ["\#(Self.strayURL)"]]}"#) == .refused)
        #expect(try Self.prepare(#"{"callback": {"x": 1, "callback_url": "\#(Self.strayURL)"}}"#) == .refused)
    }

    @Test func aURLInJSONHeldInAStringIsRefused() throws {
        let body = #"{"meta": "{\"callback_url\": \"\#(Self.internalURL)\"}"}"#
        #expect(try Self.prepare(body) == .refused)
    }

    @Test func aRepeatedFormFieldAndAPercentEncodedURLAreLookedAt() throws {
        let form = "application/x-www-form-urlencoded"
        let encodedInternal = "https%3A%2F%2Flabeling%2Ecorp.example.com%2Fhooks%2Fscale"
        #expect(
            try Self.prepare("callback_url=https%3A%2F%2Fhooks.example.org&callback%5Furl=\(encodedInternal)", form)
                == .rewritten(
                    "callback_url=https%3A%2F%2Fhooks.example.org&callback%5Furl="
                        + String(decoding: FieldLocator.encode(Self.publicURL, as: .formValue), as: UTF8.self)
                )
        )
        #expect(try Self.prepare("callback=https%3A%2F%2Fother%2Ecorp%2Eexample%2Ecom%2F", form) == .refused)
    }

    /// Many vendor APIs parse a JSON body whatever its Content-Type says: a JSON document labelled text/plain (or
    /// not labelled at all) is looked into too; text that is not JSON is the policy's, as before.
    @Test func aJSONDocumentLabelledAsTextIsLookedAt() throws {
        let body = #"{"callback_url": "\#(Self.internalURL)"}"#
        #expect(try Self.prepare(body, "text/plain") == .rewritten(#"{"callback_url": "\#(Self.publicURL)"}"#))
        #expect(try Self.prepare(#" [{"callback": "\#(Self.strayURL)"}]"#, "application/octet-stream") == .refused)
        #expect(try Self.prepare("callback_url: \(Self.strayURL)", "text/plain") == .untouched)
        #expect(try Self.prepare(#"{"callback": "\#(Self.strayURL)""#, "text/plain") == .untouched, "not JSON")
    }

    @Test func ndjsonLinesAreEachLookedAt() throws {
        let body = "{\"a\": 1}\n{\"callback\": \"\(Self.strayURL)\"}\n"
        #expect(try Self.prepare(body, "application/x-ndjson") == .refused)
    }

    /// A multipart part's name is read as the engine reads it: a quoted-pair spelling (`call\back_url`) holds no
    /// byte string a quick-check sees, so the parts are always split.
    @Test func aURLInAMultipartPartIsLookedAtWhateverItsNameSpelling() throws {
        let contentType = "multipart/form-data; boundary=B"
        func body(_ name: String, _ content: String) -> String {
            "--B\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(content)\r\n--B--\r\n"
        }
        #expect(try Self.prepare(body(#"call\back_url"#, Self.strayURL), contentType) == .refused)
        #expect(
            try Self.prepare(body("callback", Self.internalURL), contentType)
                == .rewritten(body("callback", Self.publicURL))
        )
    }

    @Test func aCompressedBodyNamingAnInternalURLIsRefused() throws {
        let gzip = try CompressedBodyTests.gzip(#"{"x": [{"callback_url": "\#(Self.internalURL)"}]}"#)
        #expect(try Self.prepare(Array(gzip), encoding: "gzip") == .refused)
        let harmless = try CompressedBodyTests.gzip(#"{"callback_url": "https://hooks.example.org/"}"#)
        #expect(try Self.prepare(Array(harmless), encoding: "gzip") == .untouched)
    }
}
