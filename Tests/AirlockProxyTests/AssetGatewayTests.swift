import AirlockAudit
import AirlockRedaction
import AirlockStandIns
import Foundation
import NIOCore
import Testing

@testable import AirlockProxy

/// The asset gateway end to end: attachment URLs leaving through the proxy, and vendors fetching them back through
/// the gateway with curl, on 127.0.0.1, with a stand-in file server inside the lab and a stand-in outside it.
@Suite(.timeLimit(.minutes(2)))
struct AssetGatewayTests {
    static let notes = "Run notes for Nightingale: the eval looks good.\n"

    static func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// Creates a Scale task whose attachment is `url` and answers the gateway URL the vendor was given.
    static func scaleTask(_ harness: AssetHarness, attachment url: String) async throws -> (CurlResult, String?) {
        let body = #"{"instruction": "Label the notes", "attachment": "\#(url)", "attachment_type": "text"}"#
        let result = try await harness.post("/scale/v1/task/textcollection", body)
        let seen = harness.vendor.requests.last?.bodyText ?? ""
        return (result, AssetHarness.gatewayURLs(in: seen).first)
    }

    // MARK: Going out

    @Test func withoutAssetsInternalAndBucketAttachmentURLsAreRefused() async throws {
        let harness = try await AssetHarness(AssetHarness.Options(assets: false))
        let refused: [(String, String, String)] = [
            (
                "/scale/v1/task/imageannotation", #"{"instruction": "x", "attachment": "gs://lab-data/shots/1.png"}"#,
                "application/json"
            ),
            (
                "/scale/v1/task/imageannotation",
                #"{"instruction": "x", "attachments": ["https://storage.googleapis.com/lab-data/1.png"]}"#,
                "application/json"
            ),
            (
                "/scale/v1/task/imageannotation",
                #"{"instruction": "x", "attachment": "https://fileserver/shots/1.png"}"#, "application/json"
            ),
            (
                "/scale/v1/task/imageannotation",
                #"{"instruction": "x", "attachment": "https:\/\/lab-raw.s3.amazonaws.com\/1.png"}"#, "application/json"
            ),
            (
                "/labelbox/graphql",
                #"{"query": "mutation", "variables": {"data": {"row_data": "s3://lab-raw/rows/7.jpg"}}}"#,
                "application/json"
            ),
            ("/labelstudio/api/tasks", #"{"data": {"image": "https://10.1.2.3/img/7.png"}}"#, "application/json"),
            ("/labelstudio/api/tasks", #"{"data": {"image": "fileserver:8443/img/7.png"}}"#, "application/json"),
            (
                "/labelstudio/api/projects/1/import", "{\"data\": {\"image\": \"gs://lab-data/a.png\"}}\n",
                "application/x-ndjson"
            ),
            (
                "/scale/v1/task/imageannotation", "instruction=x&attachment=gs%3A%2F%2Flab-data%2F1.png",
                "application/x-www-form-urlencoded"
            ),
            // Free text: no asset field, still a bucket the vendor would fetch from.
            (
                "/scale/v1/task/textcollection",
                #"{"instruction": "compare with gs://lab-data/eval/3.csv before labeling"}"#, "application/json"
            ),
            (
                "/scale/v1/task/textcollection",
                #"{"instruction": "see https://x.example.com/o?X-Amz-Signature=abc&X-Amz-Expires=60"}"#,
                "application/json"
            ),
            (
                "/scale/v1/task/textcollection", #"{"instruction": "from \u0067s:\/\/lab-data/eval/3.csv"}"#,
                "application/json"
            ),
        ]
        var failures: [String] = []
        for (path, body, type) in refused {
            let result = try await harness.post(path, body, contentType: type)
            let error = Self.json(result.body)?["error"] as? [String: Any]
            if result.status != 403 || error?["rule"] as? String != "asset-url" {
                failures.append("\(body): \(result.status) \(result.body)")
            }
        }
        let refusedReached = harness.vendor.requests.count
        // Controls: a public image URL, and words that merely mention storage.
        let control = try await harness.post(
            "/scale/v1/task/imageannotation",
            #"{"instruction": "label the bucket of apples", "attachment": "https://images.example.org/cat.png"}"#
        )
        await harness.close()
        #expect(failures.isEmpty, "\(failures)")
        #expect(refusedReached == 0)
        #expect(control.status == 200, "\(control.body)")
    }

    @Test func attachmentURLsAreReplacedByGatewayURLsTheVendorCanFetch() async throws {
        let harness = try await AssetHarness()
        // The source's Content-Type names the file: only the media type and charset reach the vendor.
        harness.fileServer.put(
            "/datasets/run-17/notes.txt",
            contentType: #"text/plain; charset=utf-8; name="run-17-notes.txt""#,
            body: Array(Self.notes.utf8)
        )
        let original = "\(harness.fileBase)/datasets/run-17/notes.txt"
        let (created, gatewayURL) = try await Self.scaleTask(harness, attachment: original)
        let vendorSaw = harness.everythingTheVendorSaw
        let fetched = try await harness.fetch(gatewayURL ?? "/assets/none")
        let decisions = try await harness.decisions()
        let audit = try await harness.auditText()
        let logs = harness.logs.text
        await harness.close()
        #expect(created.status == 200, "\(created.body)")
        #expect(gatewayURL != nil, "\(vendorSaw)")
        // The vendor never learns the original URL, in the task or in what it fetched.
        for leaked in ["run-17", "notes.txt", "datasets", "127.0.0.1:\(harness.files.port)"] {
            #expect(!vendorSaw.contains(leaked), "\(leaked)")
            #expect(!fetched.result.stdout.contains(leaked), "\(leaked)")
            #expect(!audit.contains(leaked), "\(leaked)")
            #expect(!logs.contains(leaked), "\(leaked)")
        }
        #expect(fetched.status == 200, "\(fetched.result.stdout)")
        #expect(fetched.head.lowercased().contains("cache-control: private"))
        #expect(fetched.head.contains("Content-Type: text/plain; charset=utf-8\r\n"), "\(fetched.head)")
        // The file went through the vendor's policy: the codename is pseudonymised.
        #expect(fetched.body.contains("Run notes for CODENAME_"), "\(fetched.body)")
        #expect(!fetched.body.contains("Nightingale"))
        let served = decisions.filter { $0.path?.hasPrefix("/assets/") == true }
        #expect(served.count == 1)
        #expect(served.first?.vendor == "scale")
        #expect(served.first?.decision == .forwarded)
        #expect(served.first?.reason == "asset_served type=text/plain")
        #expect(served.first?.client?.ip == "127.0.0.1")
        #expect(served.first?.findings?.contains { $0.id == "codenames" } == true)
        #expect(served.first?.forwardedBytes == fetched.body.utf8.count)
    }

    @Test func bucketURLsAreFetchedFromTheirConfiguredEndpoint() async throws {
        let harness = try await AssetHarness()
        harness.fileServer.put("/gcs/lab-data/eval/3.csv", contentType: "text/csv", body: Array("a,b\n1,2\n".utf8))
        let (created, gatewayURL) = try await Self.scaleTask(harness, attachment: "gs://lab-data/eval/3.csv")
        let fetched = try await harness.fetch(gatewayURL ?? "/assets/none")
        let vendorSaw = harness.everythingTheVendorSaw
        await harness.close()
        #expect(created.status == 200, "\(created.body)")
        #expect(!vendorSaw.contains("lab-data"))
        #expect(fetched.status == 200, "\(fetched.result.stdout)")
        #expect(fetched.body == "a,b\n1,2\n")
    }

    // MARK: Coming in

    /// A token sealed with the harness's key, as the gateway would issue it, but with any fields.
    static func token(
        _ harness: AssetHarness,
        vendor: String,
        url: String,
        issued: Date,
        lifetime: Double
    ) throws
        -> String
    {
        let keys = AssetSealingKeys(
            try PseudonymKeys(contentsOf: URL(fileURLWithPath: harness.directory + "/pseudonym.key"))
        )
        let start = UInt64(issued.timeIntervalSince1970)
        return AssetToken(vendor: vendor, url: url, issued: start, expires: start + UInt64(lifetime)).seal(with: keys)
    }

    @Test func expiredForgedOtherVendorAndRevokedTokensAreRefusedAndLogged() async throws {
        let harness = try await AssetHarness()
        harness.fileServer.put("/datasets/a.txt", contentType: "text/plain", body: Array("plain words\n".utf8))
        let url = "\(harness.fileBase)/datasets/a.txt"
        let (_, gatewayURL) = try await Self.scaleTask(harness, attachment: url)
        guard let issued = gatewayURL else {
            await harness.close()
            Issue.record("the attachment URL was not replaced by a gateway URL")
            return
        }
        let token = String(issued.split(separator: "/").last ?? "")
        let good = try await harness.fetch("/assets/" + token)
        let expired = try Self.token(harness, vendor: "scale", url: url, issued: Date() - 90_000, lifetime: 86_400)
        // One bit of the sealed part flipped.
        var bytes = Array(token.utf8)
        let flipAt = bytes.count - 5
        bytes[flipAt] = bytes[flipAt] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let forged = String(decoding: bytes, as: UTF8.self)
        let otherVendor = "labelbox" + token.drop { $0 != "." }
        let answers = [
            ("expired", try await harness.fetch("/assets/" + expired)),
            ("forged", try await harness.fetch("/assets/" + forged)),
            ("other-vendor", try await harness.fetch("/assets/" + otherVendor)),
        ]
        try AssetRevocation.revoke(token: issued, in: harness.configuration)
        let revoked = try await harness.fetch("/assets/" + token)
        // A fresh token of the same vendor still works until the vendor is revoked.
        let (_, fresh) = try await Self.scaleTask(harness, attachment: url)
        let freshToken = String((fresh ?? "").split(separator: "/").last ?? "")
        let beforeVendorRevocation = try await harness.fetch("/assets/" + freshToken)
        try AssetRevocation.revoke(vendor: "scale", in: harness.configuration, now: Date() + 2)
        let vendorRevoked = try await harness.fetch("/assets/" + freshToken)
        let fetchesOfSource = harness.sourceFetches
        let decisions = try await harness.decisions()
        await harness.close()
        #expect(good.status == 200)
        let codes = answers.map { ($0.0, $0.1.status, $0.1.error) }
        #expect(codes[0].1 == 403 && codes[0].2?["code"] as? String == "asset_token_expired", "\(codes[0])")
        #expect(codes[1].1 == 403 && codes[1].2?["code"] as? String == "asset_token_forged", "\(codes[1])")
        #expect(codes[2].1 == 403 && codes[2].2?["code"] as? String == "asset_token_forged", "\(codes[2])")
        #expect(revoked.status == 403 && revoked.body.contains("asset_token_revoked"), "\(revoked.body)")
        #expect(beforeVendorRevocation.status == 200)
        #expect(vendorRevoked.status == 403 && vendorRevoked.body.contains("asset_token_revoked"))
        // Only the two good fetches reached the file server.
        #expect(fetchesOfSource == 2)
        let refusals = decisions.filter { $0.path?.hasPrefix("/assets/") == true && $0.decision == .blocked }
        #expect(
            refusals.compactMap(\.reason).sorted() == [
                "asset_token_expired", "asset_token_forged", "asset_token_forged", "asset_token_revoked",
                "asset_token_revoked",
            ]
        )
        #expect(
            refusals.first { $0.reason == "asset_token_revoked" }?.path == "/assets/" + AssetToken.fingerprint(token)
        )
    }

    /// A refused token names its vendor in the record only when that vendor is configured: a token too long to open
    /// (anyone may send one) must not write a vendor name of its sender's choosing into the audit log and the logs.
    @Test func anOverlongTokenDoesNotNameItsVendorInTheRecord() async throws {
        let harness = try await AssetHarness()
        let overlong = "/assets/planted-vendor-name." + String(repeating: "A", count: 8200)
        let answer = try await harness.fetch(overlong)
        let decisions = try await harness.decisions()
        let logged = harness.logs.text
        await harness.close()
        #expect(answer.status == 403 && answer.error?["code"] as? String == "asset_token_malformed", "\(answer.body)")
        let refusal = decisions.first { $0.reason == "asset_token_malformed" }
        #expect(refusal != nil && refusal?.vendor == "unknown", "\(String(describing: refusal?.vendor))")
        #expect(!logged.contains("planted-vendor-name"))
    }

    @Test func sourcesOutsideTheAllowlistAreNeverFetched() async throws {
        let harness = try await AssetHarness()
        let outside = "https://127.0.0.1:\(harness.outside.port)/datasets/secret.txt"
        // Going out: an internal attachment URL under no source is refused, not turned into a token.
        let (created, _) = try await Self.scaleTask(harness, attachment: outside)
        // Coming in: a token for it (as a changed configuration would leave) is refused before any connection;
        // so are paths that climb out of a source's prefix.
        let sealed = try Self.token(harness, vendor: "scale", url: outside, issued: Date(), lifetime: 600)
        let direct = try await harness.fetch("/assets/" + sealed)
        let climbing = try Self.token(
            harness,
            vendor: "scale",
            url: "\(harness.fileBase)/datasets/%2e%2e/private/key.txt",
            issued: Date(),
            lifetime: 600
        )
        let climbed = try await harness.fetch("/assets/" + climbing)
        let outsideConnections = harness.outside.connectionCount
        let fileConnections = harness.files.connectionCount
        await harness.close()
        #expect(created.status == 403 && created.body.contains("asset-url"), "\(created.body)")
        #expect(direct.status == 403 && direct.body.contains("asset_source_not_allowed"), "\(direct.body)")
        #expect(climbed.status == 403 && climbed.body.contains("asset_source_not_allowed"), "\(climbed.body)")
        #expect(outsideConnections == 0)
        #expect(fileConnections == 0)
    }

    @Test func aRedirectFromTheSourceIsNotFollowed() async throws {
        let harness = try await AssetHarness()
        let elsewhere = "https://127.0.0.1:\(harness.outside.port)/loot.txt"
        harness.files.behavior = .redirect(path: "/datasets/moved.txt", status: 302, location: elsewhere)
        let (_, gatewayURL) = try await Self.scaleTask(harness, attachment: "\(harness.fileBase)/datasets/moved.txt")
        let fetched = try await harness.fetch(gatewayURL ?? "/assets/none")
        let outsideConnections = harness.outside.connectionCount
        await harness.close()
        #expect(fetched.status == 502, "\(fetched.result.stdout)")
        #expect(fetched.error?["code"] as? String == "asset_source_redirect")
        #expect(!fetched.result.stdout.contains(elsewhere))
        #expect(outsideConnections == 0)
    }

    @Test func aSourceResolvingToLoopbackIsNotFetchedByDefault() async throws {
        let harness = try await AssetHarness(AssetHarness.Options(addresses: nil))
        harness.fileServer.put("/datasets/a.txt", contentType: "text/plain", body: Array("plain\n".utf8))
        let (_, gatewayURL) = try await Self.scaleTask(harness, attachment: "\(harness.fileBase)/datasets/a.txt")
        let fetched = try await harness.fetch(gatewayURL ?? "/assets/none")
        let connections = harness.files.connectionCount
        await harness.close()
        #expect(fetched.status == 502 && fetched.body.contains("asset_source_address_not_allowed"), "\(fetched.body)")
        #expect(connections == 0)
    }

    @Test func sameContentIsInspectedOnceAndImagesFollowContentUnknown() async throws {
        let harness = try await AssetHarness()
        harness.fileServer.put("/datasets/a.txt", contentType: "text/plain", body: Array(Self.notes.utf8))
        harness.fileServer.put("/datasets/b.txt", contentType: "text/plain", body: Array(Self.notes.utf8))
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 32)
        harness.fileServer.put("/datasets/shot.png", contentType: "image/png", body: png)
        var statuses: [Int] = []
        for name in ["a.txt", "b.txt", "a.txt"] {
            let (_, url) = try await Self.scaleTask(harness, attachment: "\(harness.fileBase)/datasets/\(name)")
            statuses.append(try await harness.fetch(url ?? "/assets/none").status)
        }
        let inspections = harness.inspections.count.load(ordering: .relaxed)
        let (_, image) = try await Self.scaleTask(harness, attachment: "\(harness.fileBase)/datasets/shot.png")
        let imageFetch = try await harness.fetch(image ?? "/assets/none")
        await harness.close()
        #expect(statuses == [200, 200, 200])
        #expect(inspections == 1)
        // No image inspection yet: `content.unknown: block` refuses the bytes, nothing is served.
        #expect(imageFetch.status == 403, "\(imageFetch.result.stdout)")
        #expect(imageFetch.error?["code"] as? String == "blocked_by_policy")
        #expect(!imageFetch.result.stdout.contains("PNG"))
    }

    @Test func pythonRequestsFetchesTheAssetAsAVendorWould() async throws {
        if let missing = PythonClients.missing {
            Issue.record(Comment(rawValue: missing))
            return
        }
        let harness = try await AssetHarness()
        harness.fileServer.put("/datasets/r.md", contentType: "text/markdown", body: Array("# Nightingale\n".utf8))
        let (_, gatewayURL) = try await Self.scaleTask(harness, attachment: "\(harness.fileBase)/datasets/r.md")
        let path = String((gatewayURL ?? "").dropFirst(AssetHarness.publicURL.count))
        let outcome = try await PythonClients.run(
            """
            import json, os, requests
            cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
            r = requests.get(cfg["url"], verify=cfg["ca"], timeout=10)
            print("@@RESULT@@ " + json.dumps({"ok": True, "status": r.status_code, "body": r.text,
                                             "cache": r.headers.get("Cache-Control")}))
            """,
            input: [
                "url": "https://127.0.0.1:\(harness.assetPort)\(path)", "ca": harness.certificates.caCertificatePath,
            ]
        )
        await harness.close()
        #expect(outcome.status == 200, "\(outcome.summary)")
        #expect((outcome.result?["body"] as? String)?.hasPrefix("# CODENAME_") == true, "\(outcome.summary)")
        #expect(outcome.result?["cache"] as? String == "private")
    }

    /// Scale's own client creates an image task whose attachment is a screenshot on the lab's file server; the task
    /// the client gets back names only the gateway URL, and fetching it as Scale would is answered by Airlock (the
    /// image is refused under `content.unknown: block` until images are inspected) and recorded.
    @Test func scaleClientImageTaskGetsAGatewayURL() async throws {
        if let missing = PythonClients.missing {
            Issue.record(Comment(rawValue: missing))
            return
        }
        let harness = try await AssetHarness()
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 64)
        harness.fileServer.put("/datasets/screens/falcon-dashboard.png", contentType: "image/png", body: png)
        let original = "\(harness.fileBase)/datasets/screens/falcon-dashboard.png"
        let outcome = try await PythonClients.run(
            #"""
            import json, os, sys, requests
            cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
            from scaleapi import ScaleClient
            from scaleapi.tasks import TaskType
            client = ScaleClient("live_test_key", api_instance_url=cfg["base"] + "/scale/v1", verify=cfg["ca"])
            task = client.create_task(TaskType.ImageAnnotation, instruction="Box the charts",
                                      attachment=cfg["attachment"], attachment_type="image",
                                      geometries={"box": {"objects_to_annotate": ["chart"]}},
                                      attachments=[{"type": "image", "content": cfg["attachment"]}])
            params = task.as_dict()["params"]
            url = params["attachment"]
            # Fetched as Scale would, from the gateway's listener.
            r = requests.get(url.replace(cfg["public"], cfg["gateway"]), verify=cfg["ca"], timeout=10)
            print("@@RESULT@@ " + json.dumps({"ok": True, "url": url, "listed": params["attachments"][0]["content"],
                                             "status": r.status_code, "body": r.text}))
            """#,
            input: [
                "base": "https://127.0.0.1:\(harness.port)", "ca": harness.certificates.caCertificatePath,
                "attachment": original, "public": AssetHarness.publicURL,
                "gateway": "https://127.0.0.1:\(harness.assetPort)",
            ]
        )
        let vendorSaw = harness.everythingTheVendorSaw
        let decisions = try await harness.decisions()
        await harness.close()
        let url = outcome.result?["url"] as? String ?? ""
        #expect(outcome.ok, "\(outcome.summary)")
        #expect(url.hasPrefix(AssetHarness.publicURL + "/assets/scale."), "\(outcome.summary)")
        #expect((outcome.result?["listed"] as? String)?.hasPrefix(AssetHarness.publicURL + "/assets/scale.") == true)
        #expect(!vendorSaw.contains("falcon-dashboard") && !vendorSaw.contains("datasets"))
        #expect(outcome.status == 403, "\(outcome.summary)")
        let fetch = decisions.first { $0.path?.hasPrefix("/assets/") == true }
        #expect(fetch?.decision == .blocked && fetch?.reason == "blocked_by_policy type=image/png", "\(decisions)")
        #expect(harness.sourceFetches == 1)
    }

    /// `airlock assets revoke` (the built binary) against a running gateway: the next fetch is refused without a
    /// restart; `airlock log show --assets` lists the fetches by fingerprint, never by URL.
    @Test func theRevokeCommandTakesEffectOnTheNextFetchAndLogShowListsFetches() async throws {
        let harness = try await AssetHarness()
        harness.fileServer.put("/datasets/q3/plan.txt", contentType: "text/plain", body: Array("words\n".utf8))
        let (_, issued) = try await Self.scaleTask(harness, attachment: "\(harness.fileBase)/datasets/q3/plan.txt")
        let gatewayURL = issued ?? "/assets/none"
        let before = try await harness.fetch(gatewayURL)
        let revoke = try await CommandLineTests.airlock([
            "assets", "revoke", "--config", harness.directory + "/assets.yaml", "--token", gatewayURL,
        ])
        let after = try await harness.fetch(gatewayURL)
        let unknownVendor = try await CommandLineTests.airlock([
            "assets", "revoke", "--config", harness.directory + "/assets.yaml", "--vendor", "nobody",
        ])
        _ = try await harness.decisions()
        let shown = try await CommandLineTests.airlock(["log", "show", "--dir", harness.auditDirectory, "--assets"])
        await harness.close()
        let fingerprint = AssetToken.fingerprint(gatewayURL.split(separator: "/").last ?? "")
        #expect(before.status == 200)
        #expect(revoke.exitCode == 0 && revoke.stdout.contains(fingerprint), "\(revoke.stdout)\(revoke.stderr)")
        #expect(after.status == 403 && after.error?["code"] as? String == "asset_token_revoked")
        #expect(unknownVendor.exitCode == 1)
        let rows = shown.stdout.split(separator: "\n").filter { $0.contains("/assets/\(fingerprint)") }
        #expect(rows.count == 2, "\(shown.stdout)")
        #expect(!shown.stdout.contains("/v1/task"), "only asset fetches: \(shown.stdout)")
        #expect(!shown.stdout.contains("plan.txt") && !shown.stdout.contains("q3"))
    }
}

/// The bucket scanner's quick check: only an escape that could spell `/` or a letter forces the engine's full read.
struct BucketURLScannerTests {
    @Test func escapesThatCannotSpellAURLCharacterSkipTheFullRead() {
        func check(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { BucketURLScanner.mayEscapeURLCharacters($0) }
        }
        #expect(check(#"{"a": "gs:\/\/b"}"#))
        #expect(check(#"{"a": "\u0067s://b"}"#))
        #expect(check(#"{"a": "x\\", "b": "\u0067"}"#))
        #expect(!check(#"{"a": "line\nline \"quoted\" back\\slash\\u0067"}"#))
        #expect(!check(#"trailing\"#))
        let scanner = BucketURLScanner()
        for (body, names) in [
            (#"{"a": "gs:\/\/lab-data/x"}"#, true), (#"{"a": "line\nthen gs://lab-data/x"}"#, true),
            (#"{"a": "line\n\\u0067s://lab"}"#, false), (#"{"a": "\\gs:\/\/x"}"#, true),
            (#"{"a": "gs colon slash slash"}"#, false),
        ] {
            var buffer = ByteBuffer()
            buffer.writeString(body)
            #expect(
                scanner.names(buffer, contentType: "application/json", contentEncoding: nil, vendor: "v") == names,
                "\(body)"
            )
        }
    }

    /// Cloud Storage's JSON API serves an object's bytes from `www.googleapis.com` (`?alt=media`), not only from
    /// `storage.googleapis.com`: a link of that form names the lab's bucket and fetches the object all the same.
    @Test(arguments: [
        "https://www.googleapis.com/storage/v1/b/lab-data/o/q3%2Fplan.png?alt=media",
        "https://www.googleapis.com/download/storage/v1/b/lab-data/o/q3%2Fplan.png?alt=media",
        "https://WWW.GOOGLEAPIS.COM/download/storage/v1/b/lab-data/o/plan.png?alt=media",
    ])
    func cloudStorageJSONAPILinksAreBucketURLs(url: String) {
        var buffer = ByteBuffer()
        buffer.writeString(#"{"note": "see \#(url)"}"#)
        #expect(BucketURL.matches(url))
        #expect(BucketURLScanner().names(buffer, contentType: "application/json", contentEncoding: nil, vendor: "v"))
    }
}
