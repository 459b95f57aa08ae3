import Foundation
import Testing

/// `airlock redact` never prints what the policy hides: not in the body it writes, not in the findings summary or
/// the `--report json` (paths and reasons), wherever the lab put it: a JSON key at depth, an escaped key, a key in a
/// JSON document inside a string, an NDJSON key, a form field name, a form field with no `=`, a multipart part name,
/// a file name, a JSON part's name, a refused part's name, a media type, an AWS key used as a key (the block reason),
/// the key of a dropped member. A key holding a line break or a terminal escape does not forge summary lines.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RedactReportSecrecyTests {
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var contentType: String
        var body: [UInt8]
        /// What must not appear anywhere in the command's output.
        var markers: [String]
        /// What the plain summary shows instead (the name as it left), when the case checks it.
        var shows: String? = nil

        init(_ description: String, _ contentType: String, _ body: String, markers: [String], shows: String? = nil) {
            self.init(description, contentType, Array(body.utf8), markers: markers, shows: shows)
        }

        init(_ description: String, _ contentType: String, _ body: [UInt8], markers: [String], shows: String? = nil) {
            self.description = description
            self.contentType = contentType
            self.body = body
            self.markers = markers + ["ops@lab.example.com"]
            self.shows = shows
        }
    }

    static let boundary = "SecrecyBoundary7"

    static func multipart(_ headers: String, _ content: String) -> String {
        "--\(boundary)\r\n\(headers)\r\n\r\n\(content)\r\n--\(boundary)--\r\n"
    }

    static let multipartType = "multipart/form-data; boundary=\(boundary)"

    static let cases: [Case] = [
        Case(
            "a JSON key at depth",
            "application/json",
            #"{"data": {"items": [{"Kestrel": "write to ops@lab.example.com"}]}}"#,
            markers: ["Kestrel"],
            shows: "$.data.items[0].CODENAME_"
        ),
        Case(
            "a lab email as a JSON key",
            "application/json",
            #"{"\#(SecrecyMarkers.emailKey)": {"note": "ops@lab.example.com"}}"#,
            markers: [SecrecyMarkers.emailKey]
        ),
        Case(
            "an internal URL as a JSON key",
            "application/json",
            #"{"\#(SecrecyMarkers.urlKey)": "ops@lab.example.com"}"#,
            markers: ["wiki.corp.example.com"]
        ),
        Case(
            "a \\u-escaped JSON key",
            "application/json",
            #"{"meta": {"\u0050tarmigan": "ops@lab.example.com"}}"#,
            markers: ["tarmigan"]
        ),
        Case(
            "a key of a JSON document inside a string",
            "application/json",
            #"{"payload": "{\"Woodcock\": \"ops@lab.example.com\"}"}"#,
            markers: ["Woodcock"]
        ),
        Case(
            "an NDJSON key",
            "application/x-ndjson",
            "{\"a\": 1}\n{\"Bittern\": {\"x\": \"ops@lab.example.com\"}}\n",
            markers: ["Bittern"]
        ),
        Case(
            "a form field name",
            "application/x-www-form-urlencoded",
            "Merganser=ops%40lab.example.com&other=1",
            markers: ["Merganser"]
        ),
        Case(
            "a form field with no '=' (curl -d '{...}')",
            "application/x-www-form-urlencoded",
            #"{"task":"Shoveler review","owner":"ops@lab.example.com"}"#,
            markers: ["Shoveler"]
        ),
        Case(
            "a multipart field name",
            multipartType,
            multipart(#"Content-Disposition: form-data; name="Garganey""#, "ops@lab.example.com"),
            markers: ["Garganey"]
        ),
        Case(
            "a multipart file name",
            multipartType,
            multipart(
                "Content-Disposition: form-data; name=\"upload\"; filename=\"Dunlin-notes.txt\"\r\n"
                    + "Content-Type: text/plain",
                "ops@lab.example.com"
            ),
            markers: ["Dunlin"]
        ),
        Case(
            "a JSON part's name",
            multipartType,
            multipart(
                "Content-Disposition: form-data; name=\"Whimbrel\"\r\nContent-Type: application/json",
                #"{"a": "ops@lab.example.com"}"#
            ),
            markers: ["Whimbrel"]
        ),
        Case(
            "the name of a part that cannot be parsed",
            multipartType,
            multipart(
                "Content-Disposition: form-data; name=\"Godwit\"\r\nContent-Type: application/json",
                #"{"a": "#
            ),
            markers: ["Godwit"]
        ),
        Case(
            "the name of a part of a type that cannot be inspected",
            multipartType,
            multipart(
                "Content-Disposition: form-data; name=\"Sanderling\"\r\nContent-Type: application/octet-stream",
                "\u{1}\u{2}binary"
            ),
            markers: ["Sanderling"]
        ),
        Case(
            "an AWS key as a JSON key (the block reason)",
            "application/json",
            #"{"Redshank": {"\#(SecrecyMarkers.awsKeyAsKey)": "v"}}"#,
            markers: [SecrecyMarkers.awsKeyAsKey, "Redshank"],
            shows: "[<key "
        ),
        Case(
            "the key of a dropped member",
            "application/json",
            #"{"private": {"\#(SecrecyMarkers.droppedKey)": "x"}, "n": "ops@lab.example.com"}"#,
            markers: [SecrecyMarkers.droppedKey]
        ),
        Case(
            "a form field whose value is not UTF-8",
            "application/x-www-form-urlencoded",
            "Greenshank=%FF",
            markers: ["Greenshank"]
        ),
        Case(
            "a media type",
            "application/x-avocet",
            "opaque",
            markers: ["Avocet"]
        ),
        Case(
            "a key with a codename split by an invisible character",
            "application/json",
            "{\"Lap\u{200B}wing\": \"ops@lab.example.com\"}",
            markers: ["Lap\u{200B}wing", "Lap\\u200bwing", "Lapwing"]
        ),
        Case(
            "a percent-encoded form field name",
            "application/x-www-form-urlencoded",
            "Gre%65nshank%20plan=ops%40lab.example.com",
            markers: ["eenshank"]
        ),
        Case(
            "a key holding a line break",
            "application/json",
            #"{"x\nFORGED Dotterel": "ops@lab.example.com"}"#,
            markers: ["Dotterel"]
        ),
        Case(
            "a key holding a terminal escape",
            "application/json",
            #"{"\u001b[2K\rPlover": "ops@lab.example.com"}"#,
            markers: ["Plover"]
        ),
    ]

    @Test(arguments: cases)
    func theReportHoldsNothingThePolicyHides(_ planted: Case) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-secrecy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = directory.appendingPathComponent("policy.yaml").path
        let key = directory.appendingPathComponent("pseudonym.key").path
        let input = directory.appendingPathComponent("body").path
        try SecrecyMarkers.policy.write(toFile: policy, atomically: true, encoding: .utf8)
        try (Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() + "\n")
            .write(toFile: key, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        try Data(planted.body).write(to: URL(fileURLWithPath: input))

        for report in [[], ["--report", "json"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
            process.arguments =
                ["redact", "--policy", policy, "--key-file", key, "--content-type", planted.contentType] + report
                + [input]
            let result = try await Curl.execute(process, timeout: 30)
            let output = result.stdout + result.stderr
            #expect(result.exitCode == 0 || result.exitCode == 2, "\(planted) \(report): \(result.stderr)")
            #expect(!result.stderr.isEmpty, "\(planted) \(report): no report")
            let leaked = SecrecyMarkers.leaked(planted.markers, in: output)
            #expect(leaked == nil, "\(planted) \(report): '\(leaked ?? "")' in\n\(output)")
            guard report.isEmpty else { continue }
            // One line per finding: no name can start a line of its own or reach the terminal as a control.
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(!lines.contains { $0.hasPrefix("FORGED") }, "\(planted): a forged line in\n\(result.stderr)")
            #expect(!result.stderr.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\r" }, "\(planted)")
            if let shows = planted.shows {
                #expect(result.stderr.contains(shows), "\(planted): '\(shows)' not in\n\(result.stderr)")
            }
        }
    }
}
