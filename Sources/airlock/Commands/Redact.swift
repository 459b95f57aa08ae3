import AirlockImages
import AirlockPolicy
import AirlockRedaction
import ArgumentParser
import Foundation

/// `airlock redact`: what a request body would look like when it leaves, without running the proxy.
struct Redact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Redact a request body with a policy, offline.",
        discussion: """
            Writes the body that would leave to standard output and a findings summary (rule, action, count, \
            paths; never the matched values) to standard error, as JSON with --report json.

            The content type decides the format: JSON (structure-aware), text/*, x-www-form-urlencoded, \
            multipart/form-data, NDJSON. Without --content-type it is guessed from INPUT's extension (.json, .txt, \
            .md, .csv, .ndjson, .jsonl), else application/json.

            Exit codes:
              0  would forward (the body is on standard output)
              2  would block: a block rule matched or the body is uninspectable
                 (standard output empty)
              1  could not run: bad flags, invalid policy, unreadable key/input
            """
    )

    @Option(name: .long, help: ArgumentHelp("Policy file (YAML, schema version 1).", valueName: "file"))
    var policy: String

    @Option(name: .long, help: ArgumentHelp("Vendor the body is for (selects the pseudonym keys).", valueName: "name"))
    var vendor: String = "default"

    @Option(name: .long, help: ArgumentHelp("Content-Type of the body.", valueName: "type"))
    var contentType: String?

    @Option(name: .long, help: ArgumentHelp("Content-Encoding of the body: gzip or deflate.", valueName: "coding"))
    var contentEncoding: String?

    @Option(name: .long, help: ArgumentHelp("Pseudonym key file (32 bytes, base64).", valueName: "file"))
    var keyFile: String = "Certs/pseudonym.key"

    @Option(name: .long, help: ArgumentHelp("Findings format on standard error: json.", valueName: "format"))
    var report: String?

    @Argument(help: ArgumentHelp("The body to redact; '-' or nothing reads standard input.", valueName: "input"))
    var input: String = "-"

    func validate() throws {
        if let report, report != "json" {
            throw ValidationError("--report accepts only 'json' (omit it for a text summary)")
        }
        if let contentEncoding, !["gzip", "deflate", "x-gzip", "identity"].contains(contentEncoding.lowercased()) {
            throw ValidationError("--content-encoding must be gzip or deflate")
        }
        if vendor.isEmpty { throw ValidationError("--vendor must not be empty") }
    }

    func run() async throws {
        let loaded: Policy
        do {
            loaded = try PolicyLoader.load(path: policy)
        } catch {
            CLIOutput.error("policy \(policy) is invalid:\n\(error)")
            throw ExitCode(1)
        }
        let keys: PseudonymKeys
        do {
            keys = try PseudonymKeys(contentsOf: URL(fileURLWithPath: keyFile))
        } catch {
            CLIOutput.error(error.description)
            throw ExitCode(1)
        }
        let redactor: Redactor
        do {
            redactor = try Redactor(policy: loaded, keys: keys, imageInspector: TesseractImageInspector())
        } catch {
            CLIOutput.error(error.description)
            throw ExitCode(1)
        }
        // Read whole into one buffer the engine reads in place; what leaves is written from the engine's output, or
        // from that same buffer when nothing changes: the body is never copied into an array, Data or String.
        let body: InputBytes
        do {
            body = try InputBytes(
                path: input,
                progress: CLIOutput.showsProgress ? { CLIOutput.progress("read \($0 >> 20) MiB…") } : nil
            )
        } catch {
            CLIOutput.error("cannot read \(input == "-" ? "standard input" : input): \(error.description)")
            throw ExitCode(1)
        }
        let progress = CLIOutput.showsProgress && body.count >= 8 << 20
        if progress { CLIOutput.progress("redacting \(body.count >> 20) MiB…") }
        let outcome = body.withUnsafeBytes { bytes in
            redactor.redactWithoutCopy(
                body: bytes,
                contentType: contentType ?? Self.guessContentType(input),
                contentEncoding: contentEncoding,
                vendor: vendor
            )
        }
        if progress { CLIOutput.progress("") }
        switch outcome {
        case .unchanged(let findings):
            try body.withUnsafeBytes { try CLIOutput.writeStandardOutput($0) }
            summarize(decision: "forward", rule: nil, reason: nil, findings: findings)
        case .forward(let output, let findings):
            try output.withUnsafeBytes { try CLIOutput.writeStandardOutput($0) }
            summarize(decision: "forward", rule: nil, reason: nil, findings: findings)
        case .block(let rule, let reason, let findings):
            summarize(decision: "block", rule: rule, reason: reason, findings: findings)
            throw ExitCode(2)
        case .uninspectable(let reason, let findings):
            summarize(decision: "uninspectable", rule: nil, reason: reason, findings: findings)
            throw ExitCode(2)
        }
    }

    static func guessContentType(_ input: String) -> String {
        switch (input as NSString).pathExtension.lowercased() {
        case "txt", "md", "markdown": "text/plain; charset=utf-8"
        case "csv": "text/csv; charset=utf-8"
        case "ndjson", "jsonl": "application/x-ndjson"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "webp": "image/webp"
        case "tif", "tiff": "image/tiff"
        default: "application/json"
        }
    }

    private struct Report: Encodable {
        var decision: String
        var rule: String?
        var reason: String?
        var findings: [Finding]
    }

    private func summarize(decision: String, rule: String?, reason: String?, findings: [Finding]) {
        if report == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data =
                (try? encoder.encode(Report(decision: decision, rule: rule, reason: reason, findings: findings)))
                ?? Data()
            FileHandle.standardError.write(data + Data("\n".utf8))
            return
        }
        // One line per finding, whatever a path holds: the engine escapes names already; this keeps it so.
        let line = { (text: String) in ReportedText.escaped(text, cap: Int.max) }
        var lines: [String] = []
        switch decision {
        case "block": lines.append("BLOCKED by \(line(rule ?? "?")): \(line(reason ?? ""))")
        case "uninspectable": lines.append("UNINSPECTABLE: \(line(reason ?? ""))")
        default: lines.append(findings.isEmpty ? "forward: no findings" : "forward:")
        }
        for finding in findings {
            let paths = finding.paths.isEmpty ? "" : " at " + finding.paths.map(line).joined(separator: ", ")
            lines.append("  \(finding.rule): \(finding.action) x\(finding.count)\(paths)")
        }
        CLIOutput.error(lines.joined(separator: "\n"))
    }
}

/// Standard output and error helpers shared by `redact` and `test`.
enum CLIOutput {
    /// Writes all of `bytes` to standard output with as few `write(2)` calls as the descriptor allows (one for a
    /// file). Fails with exit code 1 when standard output cannot take them.
    static func writeStandardOutput(_ bytes: UnsafeRawBufferPointer) throws(ExitCode) {
        var offset = 0
        while offset < bytes.count {
            let written = write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                error("cannot write standard output: \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            offset += written
        }
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Progress goes to standard error only when it is a terminal.
    static var showsProgress: Bool { isatty(2) == 1 }

    /// Rewrites the current terminal line.
    static func progress(_ message: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + message).utf8))
    }
}
