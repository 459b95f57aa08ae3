import AirlockAudit
import AirlockProxy
import AirlockStandIns
import AirlockSupport
import AirlockTLS
import Foundation
import Testing

/// Issue 12 §4: the restore oracle. Whoever reaches the listener that serves the proxy routes can send a pseudonym
/// through a route whose vendor echoes it and read it back restored. Callbacks get a listener of their own that
/// serves callback paths only, and `clients:` says who may use which vendor. All through real TLS with curl.
@Suite(.timeLimit(.minutes(2)))
struct CallbackListenerTests {
    @Test func theCallbackListenerReachesNoVendorRouteSoNothingIsRestoredThroughIt() async throws {
        var options = CallbackHarness.Options()
        options.callbackListener = true
        let harness = try await CallbackHarness(options)
        // The lab sends a codename; the vendor sees its pseudonym.
        let pseudonym = try await CallbackTests.pseudonymOfNightingale(harness)
        harness.vendor.reset()
        // The vendor, on the only listener it may reach, sends the pseudonym through an echoing route.
        let oracle = try await harness.post(
            "/scale/v1/task/text",
            #"{"instruction": "\#(pseudonym)"}"#,
            port: harness.callbackPort
        )
        let vendorGot = harness.vendor.requests.count
        // Callbacks still work there, restored and delivered inside the lab.
        let callback = try await harness.postCallback(#"{"text": "Done with \#(pseudonym)"}"#)
        // The lab listener serves no callback path.
        let onLab = try await harness.post("/callbacks/scale", #"{"text": "x"}"#, headers: [CallbackHarness.scaleAuth])
        let delivered = harness.receiver.requests.map(\.bodyText)
        let ports = (harness.port, harness.callbackPort)
        await harness.close()

        #expect(ports.0 != ports.1)
        #expect(oracle.status == 404, "\(oracle.body)")
        #expect(oracle.body.contains(#""code": "unknown_callback""#), "\(oracle.body)")
        #expect(!oracle.body.contains("Nightingale"))
        #expect(vendorGot == 0, "the vendor receives nothing through the callback listener")
        #expect(callback.status == 200, "\(callback.body)")
        #expect(delivered == [#"{"text": "Done with Nightingale"}"#])
        #expect(onLab.status == 404 && onLab.body.contains("unknown_vendor"), "\(onLab.body)")
    }

    @Test func theLabListenerRequiresClientCertificatesWhileVendorsCallBackWithout() async throws {
        var options = CallbackHarness.Options()
        options.callbackListener = true
        options.clientCA = true
        let harness = try await CallbackHarness(options)
        let client = try ClientCertificate.issue(harness.certificates, commonName: "pipeline")
        let withoutCertificate = try await harness.post("/scale/v1/task/text", #"{"a": 1}"#)
        let withCertificate = try await harness.post(
            "/scale/v1/task/text",
            #"{"a": 1}"#,
            headers: [],
            arguments: client.curlArguments
        )
        let callback = try await harness.postCallback(#"{"text": "x"}"#)
        let vendorGot = harness.vendor.requests.count
        await harness.close()
        #expect(withoutCertificate.exitCode != 0, "the handshake needs a client certificate")
        #expect(withCertificate.status == 200)
        #expect(vendorGot == 1)
        #expect(callback.status == 200, "\(callback.body)")
    }
}

@Suite(.timeLimit(.minutes(2)))
struct ClientAuthenticationTests {
    static let notebookToken = "notebook-token-5f0c1e9a7b3d4e21"
    static let batchToken = "batch-token-0a9b8c7d6e5f4321"
    static let clients = """
          - {name: notebook, token_sha256: \(sha256Hex(notebookToken)), vendors: [scale]}
          - {name: batch, token_sha256: \(sha256Hex(batchToken)), vendors: [labelbox]}
        """

    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func aTokenNamesTheClientAndOnlyItsVendorsAreReachable() async throws {
        let captured = CapturedLog()
        var options = CallbackHarness.Options()
        options.clients = Self.clients
        options.auditLog = true
        options.logger = captured.logger
        let harness = try await CallbackHarness(options)
        let task = #"{"instruction": "Summarise Nightingale"}"#
        let token = "Airlock-Client-Token: \(Self.notebookToken)"
        let anonymous = try await harness.post("/scale/v1/task/text", task)
        let wrongToken = try await harness.post("/scale/v1/task/text", task, headers: ["Airlock-Client-Token: guess"])
        let twoTokens = try await harness.post("/scale/v1/task/text", task, headers: [token, token])
        // Who asks is settled before where to: an unknown client learns no vendor prefix.
        let unknownPrefix = try await harness.post("/nowhere/v1/x", task)
        let otherVendor = try await harness.post("/labelbox/graphql", task, headers: [token])
        let vendorGotBefore = harness.vendor.requests.count
        let allowed = try await harness.post("/scale/v1/task/text", task, headers: [token])
        // Callbacks are the vendors' and authenticated by their own secret, not by a client token.
        let callback = try await harness.postCallback(#"{"text": "x"}"#)
        let forwarded = harness.vendor.requests
        let metrics = (try await Curl.run(["http://127.0.0.1:\(harness.adminPort)/metrics"])).body
        await harness.stopProxy()
        let entries = try AuditLogReader(directory: URL(fileURLWithPath: harness.auditDirectory)).decisions()
        let auditText = Self.text(under: harness.auditDirectory)
        await harness.close()

        for refused in [anonymous, wrongToken, twoTokens, unknownPrefix] {
            #expect(refused.status == 401, "\(refused.body)")
            #expect(refused.body.contains(#""code": "client_unauthenticated""#), "\(refused.body)")
        }
        #expect(otherVendor.status == 403 && otherVendor.body.contains(#""code": "client_not_allowed""#))
        #expect(vendorGotBefore == 0, "refused requests leave nothing at the vendor")
        #expect(allowed.status == 200, "\(allowed.body)")
        #expect(allowed.body.contains("Nightingale"), "the lab's own client still gets its pseudonyms restored")
        #expect(callback.status == 200, "\(callback.body)")
        #expect(forwarded.count == 1)
        #expect(forwarded.allSatisfy { $0.header("airlock-client-token") == nil }, "the token stays at Airlock")
        #expect(!forwarded.contains { $0.bodyText.contains(Self.notebookToken) })

        let scale = entries.filter { $0.vendor == "scale" && $0.path != "/callbacks/scale" }
        #expect(scale.contains { $0.decision == .forwarded && $0.client?.name == "notebook" }, "\(scale)")
        #expect(scale.contains { $0.reason == "client_unauthenticated" && $0.client?.name == nil })
        let labelbox = entries.filter { $0.vendor == "labelbox" }
        #expect(labelbox.contains { $0.reason == "client_not_allowed" && $0.client?.name == "notebook" })
        #expect(entries.filter { AuditQuery(client: "notebook").matches($0) }.count == 2, "`log show --client`")
        for secret in [Self.notebookToken, "guess"] {
            #expect(!auditText.contains(secret), "no token in the audit log")
            #expect(!captured.text.contains(secret), "no token in the logs")
            #expect(!metrics.contains(secret))
        }
        let sample = metrics.split(separator: "\n").first {
            $0.hasPrefix("airlock_client_requests_total{") && $0.contains(#"client="notebook""#)
                && $0.contains(#"vendor="scale""#) && $0.contains(#"result="forwarded""#)
        }
        #expect(sample?.hasSuffix(" 1") == true, "\(metrics)")
        #expect(metrics.contains(#"client="none""#) && metrics.contains(#"result="unauthenticated""#))
    }

    @Test func aCertificateNamesTheClient() async throws {
        var options = CallbackHarness.Options()
        options.callbackListener = true
        options.clientCA = true
        options.clients = """
              - {name: pipeline, certificate_name: pipeline.lab.example.com, vendors: [scale]}
              - {name: notebook, token_sha256: \(Self.sha256Hex(Self.notebookToken)), vendors: [scale, labelbox]}
            """
        let harness = try await CallbackHarness(options)
        let pipeline = try ClientCertificate.issue(
            harness.certificates,
            commonName: "Pipeline",
            dnsNames: ["pipeline.lab.example.com"]
        )
        let stranger = try ClientCertificate.issue(harness.certificates, commonName: "stranger.lab.example.com")
        let task = #"{"instruction": "x"}"#
        let byName = try await harness.post("/scale/v1/task/text", task, arguments: pipeline.curlArguments)
        let notItsVendor = try await harness.post("/labelbox/graphql", task, arguments: pipeline.curlArguments)
        let unknown = try await harness.post("/scale/v1/task/text", task, arguments: stranger.curlArguments)
        // A token naming another client than the certificate does is unclear, hence refused.
        let conflicting = try await harness.post(
            "/labelbox/graphql",
            task,
            headers: ["Airlock-Client-Token: \(Self.notebookToken)"],
            arguments: pipeline.curlArguments
        )
        // A certificate of the lab's CA that names no client, with a client's token: that client.
        let tokenOnTop = try await harness.post(
            "/labelbox/graphql",
            task,
            headers: ["Airlock-Client-Token: \(Self.notebookToken)"],
            arguments: stranger.curlArguments
        )
        let vendorGot = harness.vendor.requests.count
        let decisions = harness.recorder.decisions
        await harness.close()
        #expect(byName.status == 200, "\(byName.body)")
        #expect(notItsVendor.status == 403 && notItsVendor.body.contains("client_not_allowed"))
        #expect(unknown.status == 401 && unknown.body.contains("client_unauthenticated"))
        #expect(conflicting.status == 401, "\(conflicting.body)")
        #expect(tokenOnTop.status == 200, "\(tokenOnTop.body)")
        #expect(vendorGot == 2)
        let forwarded = decisions.filter { $0.decision == .forwarded }
        #expect(forwarded.map(\.client.name) == ["pipeline", "notebook"])
    }

    @Test func clientsAreCheckedWithTheirPositionInTheFile() throws {
        let base = """
            listen:
              address: 127.0.0.1:8443
              tls: {certificate: a.crt, key: a.key}
            vendors:
              - {name: scale, path_prefix: /scale, upstream: "https://api.scale.com", routes: ["POST /x"], policy: none}
            """
        let hash = Self.sha256Hex("t")
        let cases: [(yaml: String, position: String, words: String)] = [
            (base + "\nclients:\n  - {name: a, certificate_name: a.lab, vendors: [scale]}", ":7:", "client_ca"),
            (
                base + "\nclients:\n  - {name: a, token_sha256: \(Self.notebookToken), vendors: [scale]}", ":7:",
                "64 hex digits"
            ),
            (base + "\nclients:\n  - {name: a, token_sha256: \(hash), vendors: [labelbox]}", ":7:", "not configured"),
            (base + "\nclients:\n  - {name: a, vendors: [scale]}", ":7:", "certificate_name or token_sha256"),
            (
                base
                    + "\nclients:\n  - {name: a, token_sha256: \(hash), vendors: [scale]}\n  - {name: b, token_sha256: "
                    + "\(hash), vendors: [scale]}", ":8:", "own token"
            ),
            (base + "\nclients:\n  - {name: A B, token_sha256: \(hash), vendors: [scale]}", ":7:", "lower-case"),
            (
                base.replacingOccurrences(of: "policy: none}", with: "policy: none, headers: [Airlock-Client-Token]}"),
                ":5:", "never forwarded"
            ),
        ]
        for (yaml, position, words) in cases {
            let error = #expect(throws: ConfigurationError.self) {
                try ProxyConfiguration.parse(yaml: yaml, file: "airlock.yaml", baseDirectory: "/tmp")
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.hasPrefix("airlock.yaml") && text.contains(position) && text.contains(words), "\(text)")
            #expect(!text.contains(Self.notebookToken), "a token pasted by mistake is not repeated")
        }
        let valid = try ProxyConfiguration.parse(
            yaml: base + "\nclients:\n  - {name: a, token_sha256: \(hash.uppercased()), vendors: [scale]}",
            baseDirectory: "/tmp"
        )
        #expect(valid.clients?.first?.tokenSHA256 == SHA256.hash(Array("t".utf8)))
    }

    @Test func clientCAWithCallbacksNeedsACallbackListener() throws {
        let yaml = """
            listen:
              address: 127.0.0.1:8443
              tls: {certificate: a.crt, key: a.key, client_ca: ca.crt}
            vendors:
              - {name: scale, path_prefix: /scale, upstream: "https://api.scale.com", routes: ["POST /x"], policy: none}
            callbacks:
              public_url: https://airlock.example.com
              routes:
                - {vendor: scale, path: /callbacks/scale, deliver_to: "https://hooks.internal/x",
                   auth: {header: x-auth, secret_env: PATH}}
            """
        let error = #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(yaml: yaml, file: "airlock.yaml", baseDirectory: "/tmp")
        }
        #expect(error.map { "\($0)" }?.contains("airlock.yaml:7:") == true, "\(String(describing: error))")
        #expect(error?.message.contains("callbacks.listen") == true)
        let separate = try ProxyConfiguration.parse(
            yaml: yaml + "\n  listen: {address: 127.0.0.1:9443, tls: {certificate: b.crt, key: b.key}}",
            baseDirectory: "/tmp"
        )
        #expect(separate.callbacks?.listen?.address == HostAndPort(host: "127.0.0.1", port: 9443))
        #expect(separate.callbacks?.listen?.tls.clientCAPath == nil)
        let sameAddress = #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(
                yaml: yaml + "\n  listen: {address: 127.0.0.1:8443, tls: {certificate: b.crt, key: b.key}}",
                baseDirectory: "/tmp"
            )
        }
        #expect(sameAddress?.message.contains("must differ") == true)
        let vendorsCannotPresentCertificates = #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(
                yaml: yaml
                    + "\n  listen: {address: 127.0.0.1:9443, tls: {certificate: b.crt, key: b.key, client_ca: ca.crt}}",
                baseDirectory: "/tmp"
            )
        }
        #expect(vendorsCannotPresentCertificates?.message.contains("unknown key \"client_ca\"") == true)
    }

    @Test func certsTokenPrintsATokenAndTheHashTheConfigurationKeeps() async throws {
        let made = Process()
        made.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        made.arguments = ["certs", "token"]
        let output = try await Curl.execute(made, timeout: 30)
        let fields = Dictionary(
            uniqueKeysWithValues: output.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }
        )
        let token = try #require(fields["token:"])
        #expect(token.count == 64)
        #expect(fields["token_sha256:"] == Self.sha256Hex(token))

        let hashed = Process()
        hashed.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        hashed.arguments = ["certs", "token", "--hash"]
        let input = Pipe()
        let out = Pipe()
        hashed.standardInput = input
        hashed.standardOutput = out
        try hashed.run()
        input.fileHandleForWriting.write(Data((Self.notebookToken + "\n").utf8))
        try input.fileHandleForWriting.close()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        hashed.waitUntilExit()
        #expect(hashed.terminationStatus == 0)
        #expect(printed == Self.sha256Hex(Self.notebookToken) + "\n")
    }

    static func text(under directory: String) -> String {
        var text = ""
        for file in FileManager.default.subpaths(atPath: directory) ?? [] {
            if let data = FileManager.default.contents(atPath: directory + "/" + file) {
                text += String(decoding: data, as: UTF8.self)
            }
        }
        return text
    }
}

/// A client certificate issued by the throwaway CA, written next to it, for `curl --cert/--key`.
struct ClientCertificate {
    var certificatePath: String
    var keyPath: String
    var curlArguments: [String] { ["--cert", self.certificatePath, "--key", self.keyPath] }

    static func issue(
        _ certificates: ThrowawayCertificates,
        commonName: String,
        dnsNames: [String] = []
    ) throws -> ClientCertificate {
        let key = try PrivateKey(generating: .ecdsaP256)
        let certificate = try certificates.authority.issue(
            commonName: commonName,
            dnsNames: dnsNames,
            usage: .client,
            key: key
        )
        let stem = certificates.directory + "/client-" + UUID().uuidString
        try ThrowawayCertificates.write(certificate.pemRepresentation, to: stem + ".crt", mode: 0o644)
        try ThrowawayCertificates.write(key.pemRepresentation, to: stem + ".key", mode: 0o600)
        return ClientCertificate(certificatePath: stem + ".crt", keyPath: stem + ".key")
    }
}
