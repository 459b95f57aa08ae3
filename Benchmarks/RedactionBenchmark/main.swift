// airlock-redaction-bench: raw Vectorscan scan speed vs. full structure-aware redaction on the same bytes.
//
// Build and run (release):  swift build -c release --product airlock-redaction-bench
//                           .build/release/airlock-redaction-bench [MiB [rounds [single-line]]]
// Environment: AIRLOCK_BENCH_TERMS=1000 runs one policy size; AIRLOCK_BENCH_ONLY=raw|full one loop (for perf or
// callgrind, on a stripped copy); AIRLOCK_BENCH_HIT_RATE=N one hit per N sentences (a huge N: no hits, so the walk
// and scan alone); AIRLOCK_BENCH_DUMP=DIR writes each policy's single-pass expressions (flags, tab, expression)
// and corpus to DIR instead of measuring, for per-expression analysis with a C harness against libhs.
// AIRLOCK_BENCH_WRITE=DIR writes, instead of measuring, each policy as YAML (DIR/policy-TERMS.yaml, checked to redact
// as the built one does) and the corpus as ONE JSON document of MiB (DIR/document-TERMS.json: the same tasks in one
// `tasks` array), for the benchmarks of the `airlock` binary (Benchmarks/redact-file-bench.sh, proxy-memory-bench.sh).
// One thread, so the figures are per core. The corpus is generated (deterministic): JSON labeling tasks (preference
// pairs and chats) of ~64 KiB per request body, English-like text with sparse hits (a codename, an email, a
// roadmap quarter in a few percent of tasks).

import AirlockPolicy
@_spi(Benchmark) import AirlockRedaction
import Foundation

struct Generator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

let commonWords = """
    the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not
    what all were we when your can said there use an each which she do how their if will up other about out many then
    them these so some her would make like him into time has look two more write go see number no way could people my
    than first water been call who oil its now find long down day did get come made may part model answer response
    better worse helpful concise explain reason step code function error prompt user assistant summary review label
    quality accurate clear example data result value list table chart plan test build deploy latency token budget
    """.split(whereSeparator: \.isWhitespace).map(String.init)

/// Made-up words that never occur in the generated English: codenames for the dictionary.
func pseudoWords(_ count: Int, seed: UInt64) -> [String] {
    var g = Generator(state: seed)
    let syllables = [
        "ka", "zor", "vex", "quil", "tra", "mor", "pel", "dax", "rin", "hol", "syl", "bru", "nek", "zan", "fio", "gla",
    ]
    var out = Set<String>()
    while out.count < count {
        var word = ""
        for _ in 0..<(3 + g.below(2)) { word += syllables[g.below(syllables.count)] }
        if g.below(5) == 0 { word += " " + syllables[g.below(syllables.count)] + syllables[g.below(syllables.count)] }
        out.insert(word.prefix(1).uppercased() + word.dropFirst())
    }
    return out.sorted()
}

func sentence(_ g: inout Generator, hits: [String], hitRate: Int) -> String {
    var words: [String] = []
    for _ in 0..<(8 + g.below(14)) { words.append(commonWords[g.below(commonWords.count)]) }
    if g.below(hitRate) == 0 { words.insert(hits[g.below(hits.count)], at: g.below(words.count)) }
    return words.joined(separator: " ").prefix(1).uppercased() + words.joined(separator: " ").dropFirst() + "."
}

func paragraph(_ g: inout Generator, hits: [String], hitRate: Int) -> String {
    (0..<(2 + g.below(5))).map { _ in sentence(&g, hits: hits, hitRate: hitRate) }.joined(separator: " ")
}

func escapeJSON(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// Request bodies of about `bodySize` bytes each, `total` bytes in all.
func corpus(total: Int, bodySize: Int, hits: [String]) -> [[UInt8]] {
    var g = Generator()
    var bodies: [[UInt8]] = []
    var produced = 0
    var taskID = 0
    // One hit per ~150 sentences (about one per 12 KB): sparse, as in real labeling traffic.
    // AIRLOCK_BENCH_HIT_RATE=N: one hit per N sentences instead (a large N: no hits, the walk and scan alone).
    let hitRate = ProcessInfo.processInfo.environment["AIRLOCK_BENCH_HIT_RATE"].flatMap { Int($0) } ?? 150
    while produced < total {
        var tasks: [String] = []
        var size = 0
        while size < bodySize {
            taskID += 1
            let task: String
            if g.below(2) == 0 {
                task = """
                    {"id":"task-\(taskID)","type":"preference","prompt":"\(escapeJSON(paragraph(&g, hits: hits, hitRate: hitRate)))",\
                    "chosen":"\(escapeJSON(paragraph(&g, hits: hits, hitRate: hitRate) + paragraphBreak + paragraph(&g, hits: hits, hitRate: hitRate)))",\
                    "rejected":"\(escapeJSON(paragraph(&g, hits: hits, hitRate: hitRate)))",\
                    "metadata":{"run_id":"r\(taskID)","annotator_pool":"general","difficulty":\(g.below(5)),"tags":["writing","helpfulness"]}}
                    """
            } else {
                var messages: [String] = []
                for turn in 0..<(2 + g.below(6)) {
                    let role = turn % 2 == 0 ? "user" : "assistant"
                    messages.append(
                        #"{"role":"\#(role)","content":"\#(escapeJSON(paragraph(&g, hits: hits, hitRate: hitRate)))"}"#
                    )
                }
                task =
                    #"{"id":"task-\#(taskID)","type":"chat","messages":[\#(messages.joined(separator: ","))],"rating":null}"#
            }
            tasks.append(task)
            size += task.utf8.count + 1
        }
        let body =
            Array(#"{"project":"benchmark","tasks":["#.utf8) + Array(tasks.joined(separator: ",").utf8)
            + Array("]}".utf8)
        produced += body.count
        bodies.append(body)
    }
    return bodies
}

func policy(termCount: Int) -> Policy {
    let terms = pseudoWords(termCount, seed: 42)
    var patterns: [PatternRule] = [
        PatternRule(
            id: "roadmap-quarter",
            label: "ROADMAP",
            action: .redact,
            regex: "Q[1-4] ?20[0-9]{2}",
            near: ["launch", "ship", "GA"]
        ),
        PatternRule(id: "run-id", label: "RUN", action: .hash, regex: "run-20[0-9]{6}-[0-9a-f]{8}"),
        PatternRule(id: "job-id", label: "JOB", action: .redact, regex: "job/[0-9a-f]{10}"),
        PatternRule(id: "eval-id", label: "EVAL", action: .hash, regex: "EVAL-[0-9]{6}"),
    ]
    for i in patterns.count..<26 {
        patterns.append(PatternRule(id: "ticket-\(i)", label: "TICKET", action: .redact, regex: "T\(i)X-[0-9]{4,8}"))
    }
    return Policy(
        name: "bench-\(termCount)",
        terms: [TermRule(id: "codenames", label: "CODENAME", action: .pseudonymize, values: terms)],
        patterns: patterns,
        detectors: [
            DetectorRule(kind: .email, action: .pseudonymize, domains: ["lab.example.com"]),
            DetectorRule(kind: .secret, action: .block),
            DetectorRule(kind: .url, action: .redact, hosts: [HostPattern("*.corp.example.com")!]),
            DetectorRule(kind: .ip, action: .redact, ranges: [try! CIDRRange(parsing: "10.0.0.0/8")]),
        ],
        fields: [
            FieldRule(path: try! JSONPath(parsing: "$.metadata.internal_notes"), action: .drop),
            FieldRule(path: try! JSONPath(parsing: "$..api_key"), action: .block),
        ],
        allow: ["Project Gutenberg"]
    )
}

/// `policy` as a YAML policy file (schema version 1): what `policy(termCount:)` builds, for the `airlock` binary.
func policyYAML(_ policy: Policy) -> String {
    func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
    func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
    var lines = ["version: 1", "name: \(policy.name)", "terms:"]
    for term in policy.terms {
        lines += [
            "  - id: \(term.id)", "    label: \(term.label)", "    action: \(term.action)",
            "    values: \(list(term.values))",
        ]
    }
    lines.append("patterns:")
    for pattern in policy.patterns {
        lines += [
            "  - id: \(pattern.id)", "    label: \(pattern.label)", "    action: \(pattern.action)",
            "    regex: \(quoted(pattern.regex))",
        ]
        if !pattern.near.isEmpty { lines += ["    near: \(list(pattern.near))", "    within: \(pattern.within)"] }
    }
    lines.append("detectors:")
    for detector in policy.detectors {
        var options = ["action: \(detector.action)"]
        if !detector.domains.isEmpty { options.append("domains: \(list(detector.domains))") }
        if !detector.hosts.isEmpty { options.append("hosts: \(list(detector.hosts.map(\.description)))") }
        if !detector.ranges.isEmpty { options.append("ranges: \(list(detector.ranges.map(\.description)))") }
        lines.append("  - \(detector.kind): {\(options.joined(separator: ", "))}")
    }
    lines.append("fields:")
    for field in policy.fields {
        lines.append("  - {path: \(quoted(field.path.description)), action: \(field.action)}")
    }
    lines.append("allow: \(list(policy.allow))")
    return lines.joined(separator: "\n") + "\n"
}

/// AIRLOCK_BENCH_WRITE: the policy as YAML and the corpus as one JSON document, for the benchmarks of the binary.
/// Stops when the YAML does not redact the first bodies exactly as the built policy does.
func writeForBinary(policy: Policy, engine: Redactor, hits: [String], termCount: Int, to dir: String) {
    let policyPath = "\(dir)/policy-\(termCount).yaml"
    try! policyYAML(policy).write(toFile: policyPath, atomically: true, encoding: .utf8)
    let loaded = try! Redactor(policy: try! PolicyLoader.load(path: policyPath), keys: keys)
    for body in corpus(total: 2 << 20, bodySize: 64 << 10, hits: hits) {
        let outcomes = [engine, loaded].map {
            $0.redact(body: body, contentType: "application/json", contentEncoding: nil, vendor: "bench")
        }
        guard case .forward(let built, let builtFindings) = outcomes[0],
            case .forward(let read, let readFindings) = outcomes[1], built == read, builtFindings == readFindings
        else { fatalError("\(policyPath) does not redact as the benchmark's policy does") }
    }
    let document = corpus(total: totalMiB << 20, bodySize: totalMiB << 20, hits: hits)[0]
    try! Data(document).write(to: URL(fileURLWithPath: "\(dir)/document-\(termCount).json"))
    print("wrote \(policyPath) and \(dir)/document-\(termCount).json (\(document.count) bytes)")
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let totalMiB = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 64 : 64
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 3 : 3
// `single-line` leaves out the "\n\n" between paragraphs: no JSON escapes, so no string is decoded and rescanned.
let paragraphBreak = CommandLine.arguments.count > 3 && CommandLine.arguments[3] == "single-line" ? " " : "\n\n"
let keys = PseudonymKeys(secret: Array(repeating: 1, count: 32))
let clock = ContinuousClock()

// The machine, commit and date first (Benchmarks/machine.sh), before anything is buffered on standard output.
let machineScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
_ = try? Process.run(URL(fileURLWithPath: "/bin/bash"), arguments: [machineScript + "/machine.sh"]).waitUntilExit()
// AIRLOCK_BENCH_BODY_KIB=N: bodies of ~N KiB instead of 64 (the size of one document `airlock redact` reads).
let bodyKiB = ProcessInfo.processInfo.environment["AIRLOCK_BENCH_BODY_KIB"].flatMap { Int($0) } ?? 64
print(
    "airlock-redaction-bench: one core, \(totalMiB) MiB of JSON labeling tasks, ~\(bodyKiB) KiB bodies, best of \(rounds)"
)
print("MB/s columns: best / median of the rounds (the machine is shared; the best is closest to the engine's speed)")
print(
    "terms  regex rules  expressions  compile (s)  raw scan (MB/s)  redaction (MB/s)  redaction/raw  findings/MB  raw hits/MB"
)
// For profilers: AIRLOCK_BENCH_TERMS=1000 runs one policy size, AIRLOCK_BENCH_ONLY=raw|full one of the two loops.
let environment = ProcessInfo.processInfo.environment
let termCounts = environment["AIRLOCK_BENCH_TERMS"].flatMap { Int($0) }.map { [$0] } ?? [1_000, 10_000]
let only = environment["AIRLOCK_BENCH_ONLY"]

for termCount in termCounts {
    let policy = policy(termCount: termCount)
    var redactor: Redactor?
    let compile = clock.measure { redactor = try! Redactor(policy: policy, keys: keys) }
    let engine = redactor!
    // Hits: some dictionary terms, staff emails, roadmap quarters near "launch".
    let sample = pseudoWords(termCount, seed: 42)
    let hits = [sample[0], sample[sample.count / 2], sample[sample.count - 1], "ana@lab.example.com", "launch Q3 2026"]
    let bodies = corpus(total: totalMiB << 20, bodySize: bodyKiB << 10, hits: hits)
    let bytes = bodies.reduce(0) { $0 + $1.count }
    if let dir = environment["AIRLOCK_BENCH_WRITE"] {
        writeForBinary(policy: policy, engine: engine, hits: hits, termCount: termCount, to: dir)
        continue
    }
    if let dir = environment["AIRLOCK_BENCH_DUMP"] {
        // For database analysis outside Swift: the expressions (flags, tab, pattern per line) and the corpus.
        let lines = engine.benchmarkExpressions.map { "\($0.flags)\t\($0.pattern)" }.joined(separator: "\n")
        try! (lines + "\n").write(toFile: "\(dir)/expressions-\(termCount).txt", atomically: true, encoding: .utf8)
        try! Data(bodies.joined()).write(to: URL(fileURLWithPath: "\(dir)/corpus-\(termCount).json"))
        continue
    }

    // Warm up (scratch, vendor keys, dictionary tokens).
    _ = engine.redact(body: bodies[0], contentType: "application/json", contentEncoding: nil, vendor: "bench")

    // Best of `rounds`: the machine is shared, the best round is the closest to the engine's own speed.
    var rawHits = 0
    var raw: [Duration] = []
    var full: [Duration] = []
    var findings = 0
    var forwarded = 0
    for _ in 0..<rounds where only != "full" {
        raw.append(
            clock.measure {
                for body in bodies { rawHits += body.withUnsafeBytes { engine.rawScanHitCount($0) } }
            }
        )
    }
    for _ in 0..<rounds where only != "raw" {
        findings = 0
        full.append(
            clock.measure {
                for body in bodies {
                    let outcome = engine.redact(
                        body: body,
                        contentType: "application/json",
                        contentEncoding: nil,
                        vendor: "bench"
                    )
                    if case .forward(let out, let f) = outcome {
                        forwarded += out.count
                        findings += f.reduce(0) { $0 + $1.count }
                    }
                }
            }
        )
    }
    precondition(only == "raw" || forwarded > 0, "every body should have been forwarded")
    /// Best and median throughput of the rounds, in MB/s.
    func throughput(_ rounds: [Duration]) -> (best: Double, median: Double) {
        let sorted = rounds.map { Double(bytes) / seconds($0) / 1e6 }.sorted(by: >)
        guard !sorted.isEmpty else { return (0, 0) }
        return (sorted[0], sorted[sorted.count / 2])
    }
    let (rawMBs, rawMedian) = throughput(raw)
    let (fullMBs, fullMedian) = throughput(full)
    let line = [
        String(termCount).padding(toLength: 7, withPad: " ", startingAt: 0),
        String(policy.patterns.count + policy.detectors.count).padding(toLength: 13, withPad: " ", startingAt: 0),
        String(engine.expressionCount).padding(toLength: 13, withPad: " ", startingAt: 0),
        String(format: "%.3f", seconds(compile)).padding(toLength: 13, withPad: " ", startingAt: 0),
        String(format: "%.0f / %.0f", rawMBs, rawMedian).padding(toLength: 17, withPad: " ", startingAt: 0),
        String(format: "%.0f / %.0f", fullMBs, fullMedian).padding(toLength: 18, withPad: " ", startingAt: 0),
        String(format: "%.0f%%", rawMBs > 0 ? fullMBs / rawMBs * 100 : 0)
            .padding(toLength: 15, withPad: " ", startingAt: 0),
        String(format: "%.1f", Double(findings) / (Double(bytes) / 1e6)).padding(
            toLength: 13,
            withPad: " ",
            startingAt: 0
        ),
        String(format: "%.1f", raw.isEmpty ? 0 : Double(rawHits) / Double(raw.count) / (Double(bytes) / 1e6)),
    ]
    print(line.joined())
}
