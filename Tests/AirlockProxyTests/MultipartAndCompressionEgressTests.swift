import AirlockProxy
import Foundation
import Testing

/// Multipart and compressed bodies through a real `airlock serve`, sent by curl, compressed by gzip(1): the vendor
/// receives only inspected bytes, or nothing when the body is refused.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MultipartAndCompressionEgressTests {
    static let policy = """
        version: 1
        name: multipart-egress
        terms:
          - {id: codenames, label: CODENAME, action: redact, values: ["Nightingale"]}
          - {id: no-export, label: NOEXPORT, action: block, values: ["NO-EXPORT-7731"]}
        content:
          unknown: block
        """

    /// Runs `/bin/sh -c command` in `directory`; its standard output.
    static func shell(_ command: String, in directory: String) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let result = try await Curl.execute(process, timeout: 20)
        #expect(result.exitCode == 0, "\(command): \(result.stderr)")
        return result.stdout
    }

    @Test func theVendorGetsOnlyInspectedBytesOrNothing() async throws {
        try await ServedAirlock.with(
            policy: Self.policy,
            audit: "{enabled: false}",
            limits: "{max_body_bytes: 8192}"
        ) { airlock in
            let adminPort = airlock.adminPort
            #expect(
                await eventually(timeout: 30) {
                    (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status == 200
                }
            )
            let directory = airlock.directory
            let url = "https://127.0.0.1:\(airlock.port)/scale/v1/task/1"
            func post(_ file: String, _ headers: [String]) async throws -> CurlResult {
                try await Curl.run(
                    ["--cacert", airlock.certificates.caCertificatePath]
                        + headers.flatMap { ["-H", $0] } + ["--data-binary", "@" + directory + "/" + file, url]
                )
            }

            // 2 KiB of gzip that expands past max_body_bytes (the fixed cap was 64 MiB): refused, nothing sent.
            _ = try await Self.shell("head -c 200000 /dev/zero | tr '\\0' x | gzip -c > big.gz", in: directory)
            let big = try await post("big.gz", ["Content-Type: text/plain", "Content-Encoding: gzip"])
            #expect(big.status == 422, "\(big.body)")
            #expect(errorCode(big.body) == "uninspectable_body")
            #expect(big.body.contains("max_body_bytes"), "\(big.body)")
            #expect(airlock.vendor.requests.isEmpty)

            // `cat a.gz b.gz`: accepted; the codename only in the second member is redacted.
            _ = try await Self.shell(
                #"printf '{"t":"first"}\n' | gzip -c > a.gz && printf '{"t":"Nightingale"}\n' | gzip -c > b.gz "#
                    + "&& cat a.gz b.gz > ab.gz",
                in: directory
            )
            let members = try await post("ab.gz", ["Content-Type: application/x-ndjson", "Content-Encoding: gzip"])
            #expect(members.status == 200, "\(members.body)")
            let sent = try #require(airlock.vendor.requests.last)
            try Data(sent.body).write(to: URL(fileURLWithPath: directory + "/sent.gz"))
            let plain = try await Self.shell("gzip -dc sent.gz", in: directory)
            #expect(plain == "{\"t\":\"first\"}\n{\"t\":\"[REDACTED:CODENAME]\"}\n", "\(plain)")

            // gzip(1) stores the file name in the header: it never reaches the vendor, the content does.
            _ = try await Self.shell(
                #"printf '{"t":"fine"}' > Nightingale-plan.json && gzip Nightingale-plan.json"#,
                in: directory
            )
            let named = try await post(
                "Nightingale-plan.json.gz",
                ["Content-Type: application/json", "Content-Encoding: gzip"]
            )
            #expect(named.status == 200, "\(named.body)")
            let namedSent = try #require(airlock.vendor.requests.last)
            #expect(!namedSent.bodyText.contains("Nightingale"))
            try Data(namedSent.body).write(to: URL(fileURLWithPath: directory + "/named.gz"))
            #expect(try await Self.shell("gzip -dc named.gz", in: directory) == #"{"t":"fine"}"#)

            // A block rule in the multipart preamble: 403, nothing sent.
            let field = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nok\r\n"
            try ("NO-EXPORT-7731\r\n" + field + "--XyZ--\r\n").write(
                toFile: directory + "/preamble.txt",
                atomically: true,
                encoding: .utf8
            )
            let count = airlock.vendor.requests.count
            let blocked = try await post("preamble.txt", ["Content-Type: multipart/form-data; boundary=XyZ"])
            #expect(blocked.status == 403, "\(blocked.body)")
            #expect(errorCode(blocked.body) == "blocked_by_policy")
            #expect(airlock.vendor.requests.count == count)

            // A base64 part and an epilogue: the vendor gets them redacted, the part still base64.
            let encoded = Data("notes on Nightingale".utf8).base64EncodedString()
            try
                (field + "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"n.txt\"\r\n"
                + "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\(encoded)\r\n"
                + "--XyZ--\r\nNightingale again\r\n").write(
                    toFile: directory + "/encoded.txt",
                    atomically: true,
                    encoding: .utf8
                )
            let forwarded = try await post("encoded.txt", ["Content-Type: multipart/form-data; boundary=XyZ"])
            #expect(forwarded.status == 200, "\(forwarded.body)")
            let multipart = airlock.vendor.requests.last?.bodyText ?? ""
            #expect(multipart.hasSuffix("--XyZ--\r\n[REDACTED:CODENAME] again\r\n"), "\(multipart)")
            let expected = Data("notes on [REDACTED:CODENAME]".utf8).base64EncodedString()
            #expect(multipart.contains("base64\r\n\r\n\(expected)\r\n--XyZ--"), "\(multipart)")
            #expect(airlock.vendor.requests.count == count + 1)
        }
    }
}
