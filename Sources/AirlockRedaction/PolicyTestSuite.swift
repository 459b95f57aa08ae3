import AirlockPolicy
import Foundation
import Yams

/// Policy test cases written as YAML, run by `airlock test DIR`.
///
/// A test file (`*.yaml` / `*.yml` anywhere under the directory):
/// ```yaml
/// policy: ../lab.yaml              # relative to this file; a case may override it
/// vendor: scale                    # default vendor for the cases (default "test")
/// content_type: application/json   # default content type (default application/json)
/// cases:
///   - name: codenames are pseudonymized
///     input: '{"text": "Nightingale ships in Q3 2026"}'
///     contains: ["CODENAME_"]
///     not_contains: ["Nightingale"]
///   - name: an AWS key blocks the request
///     input: 'key AKIAIOSFODNN7EXAMPLE'
///     content_type: text/plain
///     blocked: true                # true: the request must be refused (policy block or uninspectable)
///   - name: exact output
///     input: '{"a": "hello"}'
///     output: '{"a": "hello"}'
/// ```
/// Tokens are computed with a fixed test key (`PolicyTestSuite.testKeys`) unless a key is given, so expected
/// outputs with pseudonyms stay stable.
public struct PolicyTestSuite {
    public struct CaseResult: Sendable {
        public var file: String
        public var name: String
        /// `nil` when the case passed.
        public var failure: String?
    }

    /// The key tests run with unless `airlock test --key-file` names another: 32 fixed bytes.
    public static let testKeys = PseudonymKeys(secret: Array("airlock policy tests fixed key!!".utf8))

    public var keys: PseudonymKeys

    public init(keys: PseudonymKeys = PolicyTestSuite.testKeys) {
        self.keys = keys
    }

    /// The test files under `directory` (or `directory` itself when it is a file), sorted.
    public static func testFiles(in directory: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [directory] }
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var files: [String] = []
        while let next = enumerator?.nextObject() as? String {
            if next.hasSuffix(".yaml") || next.hasSuffix(".yml") {
                files.append((directory as NSString).appendingPathComponent(next))
            }
        }
        return files.sorted()
    }

    /// Runs every case of one file. A file that cannot be read or parsed is one failed case.
    public func run(file: String) -> [CaseResult] {
        let fail = { (reason: String) in [CaseResult(file: file, name: "(file)", failure: reason)] }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return fail("cannot read") }
        let root: Any?
        do {
            root = try Yams.load(yaml: text)
        } catch {
            return fail("not valid YAML: \(error)")
        }
        guard let document = root as? [String: Any], let cases = document["cases"] as? [Any] else {
            return fail("expected a mapping with a `cases:` list")
        }
        let directory = (file as NSString).deletingLastPathComponent
        var redactors: [String: Result<Redactor, PolicyTestError>] = [:]
        var results: [CaseResult] = []
        for (index, entry) in cases.enumerated() {
            guard let spec = entry as? [String: Any] else {
                results.append(CaseResult(file: file, name: "case \(index + 1)", failure: "not a mapping"))
                continue
            }
            let name = (spec["name"] as? String) ?? "case \(index + 1)"
            guard let policyPath = (spec["policy"] as? String) ?? (document["policy"] as? String) else {
                results.append(CaseResult(file: file, name: name, failure: "no `policy:` for this case"))
                continue
            }
            let resolved =
                policyPath.hasPrefix("/") ? policyPath : (directory as NSString).appendingPathComponent(policyPath)
            if redactors[resolved] == nil { redactors[resolved] = loadRedactor(resolved) }
            switch redactors[resolved]! {
            case .failure(let error):
                results.append(CaseResult(file: file, name: name, failure: error.message))
            case .success(let redactor):
                results.append(
                    CaseResult(file: file, name: name, failure: check(spec, defaults: document, redactor: redactor))
                )
            }
        }
        return results
    }

    struct PolicyTestError: Error {
        var message: String
    }

    private func loadRedactor(_ path: String) -> Result<Redactor, PolicyTestError> {
        do {
            let policy = try PolicyLoader.load(path: path)
            return .success(try Redactor(policy: policy, keys: keys))
        } catch let error as PolicyLoadError {
            return .failure(PolicyTestError(message: "policy \(path) is invalid:\n\(error)"))
        } catch {
            return .failure(PolicyTestError(message: "policy \(path): \(error)"))
        }
    }

    /// `nil` when the case passes, otherwise why it failed.
    private func check(_ spec: [String: Any], defaults: [String: Any], redactor: Redactor) -> String? {
        let known: Set<String> = [
            "name", "policy", "vendor", "content_type", "content_encoding", "input", "output", "contains",
            "not_contains", "blocked", "uninspectable", "rule",
        ]
        if let unknown = spec.keys.first(where: { !known.contains($0) }) {
            return "unknown key `\(unknown)` (known: \(known.sorted().joined(separator: ", ")))"
        }
        guard let input = spec["input"] as? String else { return "no `input:` string" }
        let vendor = (spec["vendor"] as? String) ?? (defaults["vendor"] as? String) ?? "test"
        let contentType =
            (spec["content_type"] as? String) ?? (defaults["content_type"] as? String) ?? "application/json"
        let outcome = redactor.redact(
            body: Array(input.utf8),
            contentType: contentType,
            contentEncoding: nil,
            vendor: vendor
        )
        let expectBlocked = (spec["blocked"] as? Bool) ?? false
        let expectUninspectable = (spec["uninspectable"] as? Bool) ?? false
        switch outcome {
        case .block(let rule, let reason, _):
            if expectUninspectable { return "expected uninspectable, was blocked by \(rule): \(reason)" }
            guard expectBlocked else { return "blocked by \(rule): \(reason)" }
            if let expectedRule = spec["rule"] as? String, expectedRule != rule {
                return "blocked by \(rule), expected \(expectedRule)"
            }
            return nil
        case .uninspectable(let reason, _):
            guard expectBlocked || expectUninspectable else { return "uninspectable: \(reason)" }
            if spec["rule"] != nil { return "uninspectable (\(reason)), expected a block by a rule" }
            return nil
        case .forward(let body, _):
            if expectBlocked || expectUninspectable { return "was forwarded, expected it to be refused" }
            let text = String(decoding: body, as: UTF8.self)
            if let output = spec["output"] as? String, output != text {
                return "output differs:\n    expected: \(output)\n    actual:   \(text)"
            }
            for needle in Self.strings(spec["contains"]) where !text.contains(needle) {
                return "output does not contain \"\(needle)\":\n    actual: \(text)"
            }
            for needle in Self.strings(spec["not_contains"]) where text.contains(needle) {
                return "output contains \"\(needle)\""
            }
            return nil
        }
    }

    private static func strings(_ value: Any?) -> [String] {
        if let single = value as? String { return [single] }
        return (value as? [Any])?.compactMap { $0 as? String } ?? []
    }
}
