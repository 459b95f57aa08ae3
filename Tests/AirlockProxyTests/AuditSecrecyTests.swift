import Foundation
import Testing

/// Through a real `airlock serve` (TLS, audit log with stored bodies, log level trace): markers the policy hides,
/// planted in JSON keys (at depth, escaped, an email, a URL, a dropped member's key), NDJSON keys, form field names
/// (and a field with no `=`), multipart part names, file names, a JSON part's keys, query keys, path segments and
/// header values, sent in requests that are forwarded, blocked and refused as uninspectable, appear in none of
/// Airlock's own output: no file under the audit directory (body packs decompressed), no error body, no log line,
/// no metric.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AuditSecrecyTests {
    static let boundary = "SecrecyBoundary7"

    static func part(_ headers: String, _ content: String) -> String {
        "--\(boundary)\r\n\(headers)\r\n\r\n\(content)\r\n"
    }

    struct Request {
        var path: String
        var contentType: String
        var body: String
        var status: Int
        var headers: [String] = []
    }

    static let requests: [Request] = [
        // Forwarded: names redacted as the body's were.
        Request(
            path: "/scale/v1/task/Kestrel-batch?Nightjar=1&q=ops%40lab.example.com",
            contentType: "application/json",
            body: #"""
                {"data": {"items": [{"Woodcock": "ops@lab.example.com"}]}, "meta": {"\u0042ittern": "ops@lab.example.com"},
                 "\#(SecrecyMarkers.emailKey)": {"n": "ops@lab.example.com"},
                 "\#(SecrecyMarkers.urlKey)": "ops@lab.example.com",
                 "private": {"\#(SecrecyMarkers.droppedKey)": "x"}, "payload": "{\"Knot\": \"ops@lab.example.com\"}"}
                """#,
            status: 200,
            headers: ["X-Lab-Project: Curlew", "Authorization: Bearer Curlew-ops@lab.example.com"]
        ),
        Request(
            path: "/scale/v1/task/2",
            contentType: "application/x-www-form-urlencoded",
            body: "Merganser=ops%40lab.example.com&Shoveler%20notes",
            status: 200
        ),
        Request(
            path: "/scale/v1/task/3",
            contentType: "multipart/form-data; boundary=\(boundary)",
            body: part(#"Content-Disposition: form-data; name="Garganey""#, "ops@lab.example.com")
                + part(
                    "Content-Disposition: form-data; name=\"upload\"; filename=\"Dunlin-notes.txt\"\r\n"
                        + "Content-Type: text/plain",
                    "ops@lab.example.com"
                )
                + part(
                    "Content-Disposition: form-data; name=\"Whimbrel\"\r\nContent-Type: application/json",
                    #"{"Godwit": "ops@lab.example.com"}"#
                ) + "--\(boundary)--\r\n",
            status: 200
        ),
        Request(
            path: "/scale/v1/task/4",
            contentType: "application/x-ndjson",
            body: "{\"Sanderling\": \"ops@lab.example.com\"}\n",
            status: 200
        ),
        // Blocked: nothing left, so a name holding what is blocked is a fingerprint.
        Request(
            path: "/scale/v1/task/5",
            contentType: "application/json",
            body: #"{"Redshank": {"\#(SecrecyMarkers.awsKeyAsKey)": "v"}}"#,
            status: 403
        ),
        Request(
            path: "/scale/v1/task/Greenshank?\(SecrecyMarkers.awsKeyInQuery)=1",
            contentType: "application/json",
            body: "{}",
            status: 403
        ),
        Request(
            path: "/scale/v1/task/7",
            contentType: "multipart/form-data; boundary=\(boundary)",
            body: part(
                "Content-Disposition: form-data; name=\"Dotterel\"\r\nContent-Type: application/octet-stream",
                "\u{1}\u{2}binary"
            ) + "--\(boundary)--\r\n",
            status: 403
        ),
        // Uninspectable.
        Request(
            path: "/scale/v1/task/8?Snipe=1",
            contentType: "multipart/form-data; boundary=\(boundary)",
            body: part(
                "Content-Disposition: form-data; name=\"Avocet\"\r\nContent-Type: application/json",
                #"{"a": "#
            ) + "--\(boundary)--\r\n",
            status: 422
        ),
        Request(
            path: "/scale/v1/task/9",
            contentType: "application/x-www-form-urlencoded",
            body: "Plover=%FF",
            status: 422
        ),
        Request(
            path: "/scale/v1/task/Lapwing%ZZ",
            contentType: "application/json",
            body: "{}",
            status: 422
        ),
        // Refused before any policy saw them: the path is withheld.
        Request(path: "/scale/v9/Ruff/ops@lab.example.com", contentType: "application/json", body: "{}", status: 403),
        Request(path: "/Ruff-vendor/v1/task/1", contentType: "application/json", body: "{}", status: 404),
    ]

    static let markers = [
        "Kestrel", "Nightjar", "Curlew", "Woodcock", "ittern", SecrecyMarkers.emailKey, "wiki.corp.example.com",
        SecrecyMarkers.droppedKey, "Knot", "Merganser", "Shoveler", "Garganey", "Dunlin", "Whimbrel", "Godwit",
        "Sanderling", "Redshank", SecrecyMarkers.awsKeyAsKey, "Greenshank", SecrecyMarkers.awsKeyInQuery, "Dotterel",
        "Avocet", "Snipe", "Plover", "Lapwing", "Ruff", "ops@lab.example.com",
    ]

    /// Every regular file under `directory`, gzip files decompressed (body packs are concatenated gzip members).
    static func contents(under directory: String) throws -> [(path: String, text: String)] {
        guard let walk = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [(String, String)] = []
        for case let relative as String in walk {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if data.starts(with: [0x1F, 0x8B]) {
                let gunzip = Process()
                gunzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
                gunzip.arguments = ["-dc", path]
                let result = try Curl.executeBlocking(gunzip, timeout: 30)
                #expect(result.exitCode == 0, "gzip -dc \(relative): \(result.stderr)")
                files.append((relative + " (decompressed)", result.stdout))
            }
            files.append((relative, String(decoding: data, as: UTF8.self)))
        }
        return files
    }

    @Test func markersInNamesReachNoAuditFileErrorBodyLogLineOrMetric() async throws {
        try await ServedAirlock.with(
            policy: SecrecyMarkers.policy.replacingOccurrences(
                of: "Plover, Lapwing]",
                with: "Plover, Lapwing, Curlew, Knot, Snipe, Ruff]"
            ),
            audit: "{directory: audit, store_bodies: true}",
            logLevel: "trace"
        ) { airlock in
            let adminPort = airlock.adminPort
            #expect(
                await eventually(timeout: 30) {
                    ((try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status ?? 0) == 200
                }
            )
            var errorBodies: [String] = []
            for request in Self.requests {
                let result = try await Curl.run(
                    ["--cacert", airlock.certificates.caCertificatePath, "-H", "Content-Type: \(request.contentType)"]
                        + request.headers.flatMap { ["-H", $0] }
                        + ["--data-binary", request.body, "https://127.0.0.1:\(airlock.port)\(request.path)"]
                )
                #expect(result.status == request.status, "\(request.path): \(result.body)")
                if request.status != 200 { errorBodies.append(result.body) }
            }
            for body in errorBodies {
                let leaked = SecrecyMarkers.leaked(Self.markers, in: body)
                #expect(leaked == nil, "'\(leaked ?? "")' in the error body \(body)")
            }
            // The vendor got only the forwarded requests, with every name redacted.
            #expect(airlock.vendor.requests.count == 4)
            for received in airlock.vendor.requests {
                let leaked = SecrecyMarkers.leaked(Self.markers, in: received.uri + received.bodyText)
                #expect(leaked == nil, "'\(leaked ?? "")' reached the vendor: \(received.uri) \(received.bodyText)")
            }

            let metrics = (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/metrics"]))?.body ?? ""
            #expect(metrics.contains("airlock_"))
            #expect(SecrecyMarkers.leaked(Self.markers, in: metrics) == nil, "\(metrics)")

            let audit = try Self.contents(under: airlock.directory + "/audit")
            #expect(audit.contains { $0.path.hasPrefix("bodies/") && $0.path.hasSuffix("(decompressed)") })
            for (path, text) in audit {
                let leaked = SecrecyMarkers.leaked(Self.markers, in: text)
                #expect(leaked == nil, "'\(leaked ?? "")' in audit file \(path):\n\(text)")
            }
            // Not vacuous: the log names the places, as they left.
            let records = audit.map(\.text).joined(separator: "\n")
            #expect(records.contains("$.data.items[0].CODENAME_"), "\(records)")
            #expect(records.contains("[<key "), "\(records)")

            let log = (try? String(contentsOfFile: airlock.outputPath, encoding: .utf8)) ?? ""
            #expect(log.contains("airlock"), "no log output captured")
            let leaked = SecrecyMarkers.leaked(Self.markers, in: log)
            #expect(leaked == nil, "'\(leaked ?? "")' in the log:\n\(log)")
        }
    }
}
