import AirlockAudit
import AirlockRedaction
import AirlockSupport
import Foundation

/// `airlock log hunt`: a policy run over what already left. Every stored forwarded body in the range (exactly what
/// each vendor received) and every recorded text of each decision (the path as forwarded, the reason, the findings'
/// paths) is matched; the answer lists where the policy matches, never what.
///
/// The answer is backed by the signed log: the chain and checkpoint signatures are verified first, every body is
/// checked against the hash its record names as it is read, and any failure ends the hunt naming the record.
public enum RetroHunt {
    public struct Options: Sendable {
        public var directory: URL
        public var query: AuditQuery
        public var publicKeys: [URL]
        public var workers: Int

        public init(
            directory: URL,
            query: AuditQuery = AuditQuery(),
            publicKeys: [URL] = [],
            workers: Int = ProcessInfo.processInfo.activeProcessorCount
        ) {
            self.directory = directory
            self.query = query
            self.publicKeys = publicKeys
            self.workers = workers
        }
    }

    public struct Outcome: Sendable {
        public var report: HuntReport
        /// Wall time of the body scan (reading, decompressing, hashing and matching).
        public var scanSeconds: Double
        /// CPU time the process spent in that scan, all threads: the speed per core on a busy machine.
        public var scanCPUSeconds: Double
    }

    /// CPU time of the whole process so far.
    static func processCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Why a hunt gave no answer: the log does not verify, a body was altered, the log cannot be read.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func run(_ policy: HuntPolicy, options: Options) throws(Failure) -> Outcome {
        let verification: String
        do {
            verification = try AuditVerifier.verify(directory: options.directory, publicKeys: options.publicKeys)
                .description
        } catch {
            throw Failure(message: "the log does not verify: \(error.description)")
        }
        let reader = AuditLogReader(directory: options.directory)
        let entries: [AuditEntry]
        do {
            entries = try reader.entries()
        } catch {
            throw Failure(message: error.message)
        }
        let decisions = entries.filter { options.query.matches($0) }
        let start = DispatchTime.now().uptimeNanoseconds
        let startCPU = Self.processCPUSeconds()
        let redactor = policy.redactor
        let scanned: [StoredBodyHunt.Result?]
        do {
            scanned = try reader.scanStoredBodies(of: decisions, workers: options.workers) { _, body in
                var result = StoredBodyHunt.hunt(body, redactor: redactor)
                result.size = body.count
                return result
            }
        } catch {
            throw Failure(message: "a stored body does not verify: \(error.message)")
        }
        let scanSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let scanCPUSeconds = Self.processCPUSeconds() - startCPU
        var report = HuntReport(
            policy: policy.identity,
            rules: policy.rules.map { HuntReport.Rule(id: $0.key, label: $0.value.label, action: $0.value.action) }
                .sorted { $0.id < $1.id },
            terms: policy.termCount,
            since: options.query.since.map(RFC3339.format),
            until: options.query.until.map(RFC3339.format),
            vendor: options.query.vendor,
            verification: verification,
            coverage: HuntReport.Coverage(),
            matches: [],
            statement: ""
        )
        var countedBodies = Set<String>()
        for (index, entry) in decisions.enumerated() {
            report.coverage.add(entry)
            report.matches += Self.recordedTextMatches(entry, policy: policy)
            if let result = scanned[index] {
                if let location = entry.body, countedBodies.insert(location).inserted {
                    report.coverage.bodies += 1
                    report.coverage.bodyBytes += result.size
                    report.coverage.unreadablePayloads += result.unreadablePayloads
                }
                if let reason = result.uninspected {
                    report.coverage.uninspected.append(
                        HuntReport.Uninspected(seq: entry.seq, id: entry.id ?? "?", reason: reason)
                    )
                }
                report.matches += result.findings.map { Self.match(entry, $0, place: "body", policy: policy) }
            } else if entry.forwardedSHA256 != nil {
                report.coverage.notStored.append(entry.id ?? "?")
            }
        }
        let through = report.coverage.pin(with: entries)
        report.coverage.afterLastCheckpoint = decisions.filter { $0.seq > through }.count
        report.statement = Self.statement(report)
        return Outcome(report: report, scanSeconds: scanSeconds, scanCPUSeconds: scanCPUSeconds)
    }

    /// The texts a decision records (the path as forwarded, the reason, its findings' paths), matched as text.
    static func recordedTextMatches(_ entry: AuditEntry, policy: HuntPolicy) -> [HuntReport.Match] {
        var texts: [(place: String, text: String)] = []
        if let path = entry.path { texts.append(("path", path)) }
        if let reason = entry.reason { texts.append(("reason", reason)) }
        for finding in entry.findings ?? [] { texts += finding.paths.map { ("finding", $0) } }
        var matches: [HuntReport.Match] = []
        for (place, text) in texts {
            let mayMatch = text.utf8.withContiguousStorageIfAvailable {
                policy.redactor.mayMatch(UnsafeRawBufferPointer($0))
            }
            guard mayMatch ?? true else { continue }
            switch policy.redactor.redactText(text, vendor: "hunt") {
            case .forward(let redacted, let findings):
                let shown = Self.printable(String(decoding: redacted, as: UTF8.self))
                for finding in findings where finding.rule != "content.unknown" {
                    var found = Self.match(entry, finding, place: place, policy: policy)
                    found.paths = [shown]
                    matches.append(found)
                }
            case .block(let rule, _, _):
                matches.append(
                    HuntReport.Match(
                        time: entry.time,
                        seq: entry.seq,
                        vendor: entry.vendor ?? "-",
                        id: entry.id ?? "?",
                        rule: rule,
                        label: policy.rules[rule]?.label ?? rule,
                        count: 1,
                        place: place,
                        paths: ["(withheld)"]
                    )
                )
            case .uninspectable:
                continue
            }
        }
        return matches
    }

    /// A recorded text as a hunt prints it: control characters as `?`, at most 300 characters.
    static func printable(_ text: String) -> String {
        let safe = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return safe.count <= 300 ? safe : String(safe.prefix(299)) + "…"
    }

    static func match(_ entry: AuditEntry, _ finding: Finding, place: String, policy: HuntPolicy) -> HuntReport.Match {
        HuntReport.Match(
            time: entry.time,
            seq: entry.seq,
            vendor: entry.vendor ?? "-",
            id: entry.id ?? "?",
            rule: finding.rule,
            label: policy.rules[finding.rule]?.label ?? finding.rule,
            count: finding.count,
            place: place,
            paths: finding.paths
        )
    }

    static func statement(_ report: HuntReport) -> String {
        let coverage = report.coverage
        let range =
            coverage.firstSeq.map { first in
                "seq \(first)-\(coverage.lastSeq ?? first), \(coverage.firstTime ?? "?") .. \(coverage.lastTime ?? "?")"
            } ?? "no decisions"
        let records = Set(report.matches.map(\.id)).count
        let what =
            records == 0
            ? "no stored body and no recorded path matched"
            : "\(records) decision\(records == 1 ? "" : "s") matched (\(report.matches.count) match rows)"
        var gaps: [String] = []
        if !coverage.notStored.isEmpty { gaps.append("\(coverage.notStored.count) bodies not stored") }
        if !coverage.uninspected.isEmpty { gaps.append("\(coverage.uninspected.count) bodies not readable") }
        if coverage.unreadablePayloads > 0 { gaps.append("\(coverage.unreadablePayloads) embedded payloads not read") }
        if coverage.afterLastCheckpoint > 0 {
            gaps.append("\(coverage.afterLastCheckpoint) decisions after the last checkpoint")
        }
        let vendor = report.vendor.map { " for vendor \($0)" } ?? ""
        return
            "Policy \(report.policy) (\(report.rules.count) rules, \(report.terms) terms) over \(coverage.decisions) "
            + "decisions\(vendor) (\(range); \(coverage.bodies) stored bodies, \(coverage.bodyBytes) bytes): \(what)"
            + (gaps.isEmpty ? "." : "; not covered: \(gaps.joined(separator: ", ")).")
    }
}

extension HuntReport.Coverage {
    mutating func add(_ entry: AuditEntry) {
        decisions += 1
        if firstSeq == nil {
            firstSeq = entry.seq
            firstTime = entry.time
        }
        lastSeq = entry.seq
        lastTime = entry.time
    }

    /// Names the checkpoints that pin the scanned decisions; returns the last seq they cover.
    mutating func pin(with entries: [AuditEntry]) -> Int {
        guard let firstSeq, let lastSeq else { return 0 }
        for entry in entries where entry.event == .checkpoint && entry.seq > firstSeq {
            checkpoints.append(
                HuntReport.Checkpoint(
                    seq: entry.seq,
                    time: entry.time,
                    reason: entry.reason ?? "?",
                    head: entry.head ?? "?",
                    count: entry.count ?? entry.seq - 1,
                    keyID: entry.keyID
                )
            )
            if entry.seq > lastSeq { break }
        }
        return checkpoints.last?.count ?? 0
    }
}
