// airlock-audit-bench: what the egress audit log costs per request, without the network around it.
//
// Build and run (release):  swift build -c release --product airlock-audit-bench
//                           .build/release/airlock-audit-bench [seconds [producers [outstanding]]]
// Defaults: 5 seconds, 2 producer threads (the proxy's event loops on this 2-core machine), 32 decisions
// outstanding per producer (64 connections, as in Benchmarks/proxy-bench.sh). Each producer does what the proxy
// does per request: hands the log a decision with a 4 KB forwarded body (hashed, and compressed when new, on the
// producer's thread) and, once it is durable, the outcome record (which rides the next commit) and the next
// decision. Environment: AIRLOCK_BENCH_VARY_BODY=1 makes every body different (no body-store deduplication);
// AIRLOCK_BENCH_DIR=D writes the log under D (default: a fresh directory under the temporary directory, removed
// afterwards unless AIRLOCK_BENCH_KEEP=1: the disk the log is on is part of what is measured).
//
// Prints records per second, records per commit (group commit), and CPU per request on the producers (the proxy's
// event loops) and on the log's writer thread, split into a per-request and a per-commit part by a second run
// with a different group size. No think time: the log runs as fast as its commits allow, so groups are larger
// than under the proxy; per-request figures still add up as CPU = caller + writer/record + writer/commit / group.

import AirlockAudit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

func cpuSeconds(_ clock: clockid_t) -> Double {
    var spec = timespec()
    clock_gettime(clock, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// A 4 KB JSON labeling task like the proxy benchmark's; `variant` changes a few letters so bodies differ.
func body(variant: Int) -> [UInt8] {
    var text = #"{"task_type":"comparison","instruction":"Compare the two responses","attachments":["#
    var words = ""
    while words.utf8.count < 3900 {
        words += "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    }
    var letters = Array(words.utf8)
    var value = variant
    for index in 0..<12 {
        letters[index * 7] = UInt8(ascii: "a") + UInt8(value % 16)
        value /= 16
    }
    text += "\"" + String(decoding: letters, as: UTF8.self) + "\"]}"
    return Array(text.utf8)
}

final class Producer: @unchecked Sendable {
    // `@unchecked`: `next` is only touched by this producer's thread; `done` is read once after the threads end.
    let index: Int
    let log: AuditLog
    let outstanding: Int
    let vary: Bool
    let deadline: ContinuousClock.Instant
    let completions = DispatchSemaphore(value: 0)
    let failures = Failures()
    var next = 0
    var done = 0
    var cpu = 0.0

    init(index: Int, log: AuditLog, outstanding: Int, vary: Bool, deadline: ContinuousClock.Instant) {
        self.index = index
        self.log = log
        self.outstanding = outstanding
        self.vary = vary
        self.deadline = deadline
    }

    func submit(_ fixedBody: [UInt8]) {
        next += 1
        let id = "req-\(index)-\(next)"
        let record = DecisionRecord(
            id: id,
            client: AuditClient(ip: "127.0.0.1", subject: nil),
            vendor: "bench",
            method: "POST",
            path: "/v1/tasks",
            decision: .forwarded,
            policy: "bench@sha256:0",
            requestBytes: fixedBody.count
        )
        let forwarded = vary ? body(variant: index << 40 | next) : fixedBody
        let log = self.log
        let completions = self.completions
        let failures = self.failures
        forwarded.withUnsafeBytes { bytes in
            log.recordDecision(record, forwardedBodyBytes: bytes) { result in
                if case .failure = result { failures.add() }
                log.recordOutcome(id: id, status: 200, durationMs: 1.5, error: nil) { result in
                    if case .failure = result { failures.add() }
                }
                completions.signal()
            }
        }
    }

    func run() {
        let start = cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
        let fixed = body(variant: 0)
        for _ in 0..<outstanding { submit(fixed) }
        var inFlight = outstanding
        while inFlight > 0 {
            completions.wait()
            inFlight -= 1
            done += 1
            if ContinuousClock.now < deadline {
                submit(fixed)
                inFlight += 1
            }
        }
        cpu = cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - start
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

struct Figures {
    var requests: Int
    var seconds: Double
    var commits: Int
    var producerCPU: Double
    var writerCPU: Double
    var failures: Int
}

func measure(seconds: Double, producers count: Int, outstanding: Int, vary: Bool) async throws -> Figures {
    let root =
        ProcessInfo.processInfo.environment["AIRLOCK_BENCH_DIR"].map { URL(fileURLWithPath: $0) }
        ?? FileManager.default.temporaryDirectory
    let directory = root.appendingPathComponent("airlock-audit-bench-\(UUID())")
    // AIRLOCK_BENCH_KEEP=1 keeps the log (e.g. to measure `airlock log hunt` over it).
    defer {
        if ProcessInfo.processInfo.environment["AIRLOCK_BENCH_KEEP"] != "1" {
            try? FileManager.default.removeItem(at: directory)
        }
    }
    let log = try await AuditLog.open(AuditConfiguration(directory: directory))
    let before = log.statistics
    let cpuBefore = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID)
    let started = ContinuousClock.now
    let deadline = started.advanced(by: .milliseconds(Int(seconds * 1000)))
    let producers = (0..<count).map {
        Producer(index: $0, log: log, outstanding: outstanding, vary: vary, deadline: deadline)
    }
    let finished = DispatchGroup()
    for producer in producers {
        finished.enter()
        let thread = Thread {
            producer.run()
            finished.leave()
        }
        thread.start()
    }
    await withCheckedContinuation { continuation in
        finished.notify(queue: .global()) { continuation.resume() }
    }
    let elapsed = started.duration(to: .now)
    let cpu = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpuBefore
    let after = log.statistics
    try await log.close()
    let producerCPU = producers.reduce(0) { $0 + $1.cpu }
    return Figures(
        requests: producers.reduce(0) { $0 + $1.done },
        seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
        commits: after.logSyncs - before.logSyncs,
        producerCPU: producerCPU,
        writerCPU: cpu - producerCPU,
        failures: producers.reduce(0) { $0 + $1.failures.value }
    )
}

let arguments = CommandLine.arguments.dropFirst().compactMap(Double.init)
let seconds = arguments.count > 0 ? arguments[0] : 5
let producerCount = arguments.count > 1 ? Int(arguments[1]) : 2
let outstanding = arguments.count > 2 ? Int(arguments[2]) : 32
let vary = ProcessInfo.processInfo.environment["AIRLOCK_BENCH_VARY_BODY"] == "1"

// The machine, commit and date first (Benchmarks/machine.sh), before anything is buffered on standard output.
let machineScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
_ = try? Process.run(URL(fileURLWithPath: "/bin/bash"), arguments: [machineScript + "/machine.sh"]).waitUntilExit()
print(
    "airlock-audit-bench: \(producerCount) producers x \(outstanding) outstanding, \(seconds) s per run, "
        + "4 KB bodies, \(vary ? "every body different" : "the same body (stored once)")"
)
var runs: [(outstanding: Int, figures: Figures)] = []
for perProducer in [outstanding, max(1, outstanding / 4)] {
    let figures = try await measure(seconds: seconds, producers: producerCount, outstanding: perProducer, vary: vary)
    runs.append((perProducer, figures))
    let requests = Double(figures.requests)
    print(
        String(
            format:
                "%3d outstanding: %8.0f requests/s, %5.1f requests per commit, CPU per request: callers %.2f us, writer %.2f us (%.0f us per commit)%@",
            perProducer * producerCount,
            requests / figures.seconds,
            requests / Double(max(1, figures.commits)),
            figures.producerCPU / requests * 1e6,
            figures.writerCPU / requests * 1e6,
            figures.writerCPU / Double(max(1, figures.commits)) * 1e6,
            figures.failures > 0 ? " — \(figures.failures) FAILED appends" : ""
        )
    )
}
// Writer CPU per request = a + b / group, from the two runs' group sizes.
let (big, small) = (runs[0].figures, runs[1].figures)
let groupBig = Double(big.requests) / Double(max(1, big.commits))
let groupSmall = Double(small.requests) / Double(max(1, small.commits))
if abs(groupBig - groupSmall) > 1 {
    let perBig = big.writerCPU / Double(big.requests) * 1e6
    let perSmall = small.writerCPU / Double(small.requests) * 1e6
    let perCommit = (perSmall - perBig) / (1 / groupSmall - 1 / groupBig)
    let perRecord = perBig - perCommit / groupBig
    print(
        String(
            format: "writer thread: %.2f us per request + %.0f us per commit (write, fdatasync, wake-ups)",
            perRecord,
            perCommit
        )
    )
}
