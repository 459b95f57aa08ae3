// airlock-review-bench: how fast the review console answers on a large log.
//
// Build and run (release):  swift build -c release --product airlock-review-bench
//                           .build/release/airlock-review-bench [records]
// Default: 1,000,000 decisions over 60 days, 6 vendors, 24 rules, 40 clients; ~90% forwarded with findings,
// the rest blocked or refused with their codes. The records are made in memory (the log's reading time is
// measured apart: `airlock review` prints it at start-up), indexed, and served by the real console on 127.0.0.1;
// each page is fetched by curl over one kept-alive connection, 7 times, and the median of the last 5 is printed.

import AirlockAudit
import AirlockReview
import AirlockSupport
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

func residentMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
        let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
    else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let vendors = ["scale", "labelbox", "label-studio", "surge", "appen", "toloka"]
let rules = (0..<24).map { "rule-\($0)" }
let refusals: [(AuditDecision, String, Int)] = [
    (.blocked, "blocked_by_policy", 403), (.blocked, "route_not_allowed", 403), (.error, "uninspectable_body", 422),
    (.blocked, "client_unauthenticated", 401), (.error, "vendor_timeout", 504), (.error, "body_too_large", 413),
]
let start = Date(timeIntervalSince1970: 1_790_000_000)
let span = 60.0 * 86_400

// One record as the log writes it; every other is a copy with its fields changed (AuditEntry has no public
// memberwise initialiser: records are only ever decoded).
let templateJSON =
    #"{"event":"decision","seq":1,"time":"2026-09-21T00:00:00.000Z","id":"x","method":"POST","path":"/","#
    + #""policy":"lab@sha256:0000000000000000","duration_ms":12.5,"#
    + #""prev":"\#(String(repeating: "b", count: 64))","hash":"\#(String(repeating: "c", count: 64))"}"#
let template = try JSONDecoder().decode(AuditEntry.self, from: Data(templateJSON.utf8))

let rssBefore = residentMiB()
var clock = Date()
var records: [SourcedDecision] = []
records.reserveCapacity(count)
for number in 0..<count {
    let time = start.addingTimeInterval(span * Double(number) / Double(count))
    let refused = number % 10 == 9 ? refusals[(number / 10) % refusals.count] : nil
    let findings = (0..<(number % 4)).map { index in
        AuditFinding(
            id: rules[(number + index * 7) % rules.count],
            action: index == 0 ? "pseudonymize" : "redact",
            count: 1 + index,
            paths: ["$.messages[\(index)].content"]
        )
    }
    var entry = template
    entry.seq = number + 1
    entry.time = RFC3339.format(time)
    entry.id = "req-\(number)"
    entry.client = AuditClient(ip: "10.0.\(number % 40).\(number % 7)", name: "pipeline-\(number % 40)")
    entry.vendor = vendors[number % vendors.count]
    entry.path = "/v1/task/\(number % 13)"
    entry.decision = refused?.0 ?? .forwarded
    entry.reason = refused?.1
    entry.rule = refused?.1 == "blocked_by_policy" ? rules[number % rules.count] : nil
    entry.findings = refused == nil ? findings : []
    entry.requestBytes = 4000 + number % 500
    entry.forwardedBytes = refused == nil ? 3900 + number % 500 : nil
    entry.forwardedSHA256 = refused == nil ? SHA256.hex("body \(number % 1000)") : nil
    entry.status = refused?.2 ?? 200
    records.append(SourcedDecision(entry: entry, directory: 0))
}
let madeSeconds = Date().timeIntervalSince(clock)
let rssRecords = residentMiB()

let token = "bench-token"
let console = ReviewConsole(
    records: records,
    directories: [URL(fileURLWithPath: "/nonexistent")],
    tokens: ReviewTokens(digests: [SHA256.hash(Array(token.utf8))]),
    isHTTPS: false
)
records = []
let rssIndexed = residentMiB()

print("machine: \(ProcessInfo.processInfo.processorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB")
print(
    String(
        format: "records: %d made in %.2f s (%.0f MiB resident for the records)",
        count,
        madeSeconds,
        rssRecords - rssBefore
    )
)
print(
    String(
        format:
            "index: built in %.2f s; posting lists and id table ~%.1f MiB (estimate), process grew %.0f MiB while building",
        console.index.buildSeconds,
        Double(console.index.indexBytes) / 1_048_576,
        rssIndexed - rssRecords
    )
)

let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
let server = Task {
    try await ReviewServer.run(
        console: console,
        host: "127.0.0.1",
        port: 0,
        tls: nil,
        logger: Logger(label: "bench")
    ) { continuation.yield($0) }
}
var port = 0
for await bound in stream {
    port = bound
    break
}

let pages: [(String, String)] = [
    ("overview", "/"),
    ("list, no filter, page 1", "/decisions"),
    ("list, no filter, page 10000", "/decisions?page=10000"),
    ("list, vendor", "/decisions?vendor=scale"),
    ("list, vendor + decision", "/decisions?vendor=scale&decision=forwarded"),
    ("list, rule + label, last page", "/decisions?rule=rule-3&label=RULE_3&page=999999"),
    ("list, reason", "/decisions?reason=uninspectable"),
    ("list, client", "/decisions?client=pipeline-7"),
    ("list, since 7d before the end", "/decisions?since=2026-09-23T00:00:00Z"),
    ("record page", "/records/0/req-123456"),
]
for (name, path) in pages {
    let url = "http://127.0.0.1:\(port)\(path)"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments =
        ["-s", "-H", "Authorization: Bearer \(token)"]
        + Array(repeating: ["-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}\n", url], count: 7)
        .flatMap { $0 }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let lines = text.split(separator: "\n").map { $0.split(separator: " ") }
    let times = lines.dropFirst(2).compactMap { Double($0[1]) }.sorted()
    let median = times.isEmpty ? -1 : times[times.count / 2] * 1000
    print(
        String(
            format: "%-36@ status %@  median %7.1f ms  (%@ bytes)",
            name as NSString,
            String(lines.first?.first ?? "?"),
            median,
            String(lines.first?.last ?? "?")
        )
    )
}
server.cancel()
