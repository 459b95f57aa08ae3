import AirlockPolicy
import Foundation
import Testing

@_spi(Fuzzing) @testable import AirlockRedaction

/// A fixed key so token expectations are stable across runs.
let testKeys = PseudonymKeys(secret: Array(repeating: 7, count: 32))

func makePolicy(
    terms: [TermRule] = [],
    patterns: [PatternRule] = [],
    detectors: [DetectorRule] = [],
    fields: [FieldRule] = [],
    allow: [String] = [],
    unknown: UnknownContent = .block
) -> Policy {
    Policy(
        name: "test",
        terms: terms,
        patterns: patterns,
        detectors: detectors,
        fields: fields,
        allow: allow,
        content: ContentRules(unknown: unknown)
    )
}

/// `stringKernel: false` walks JSON strings with the Swift reference instead of the C kernel.
func makeRedactor(_ policy: Policy, stringKernel: Bool = true) throws -> Redactor {
    try Redactor(
        policy: policy,
        keys: testKeys,
        limits: DecompressionLimits(),
        useFastForms: true,
        stringKernel: stringKernel
    )
}

/// What `redactor` decides for `text` sent as `type` (no Content-Encoding).
func redacted(
    _ redactor: Redactor,
    _ text: String,
    type: String = "application/json",
    vendor: String = "scale"
) -> RedactionOutcome {
    redactor.redact(body: Array(text.utf8), contentType: type, contentEncoding: nil, vendor: vendor)
}

/// Redacts `text` and returns the forwarded body as a string; records an issue when it was not forwarded.
func forwarded(
    _ redactor: Redactor,
    _ text: String,
    type: String = "application/json",
    vendor: String = "scale",
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> String? {
    let outcome = redacted(redactor, text, type: type, vendor: vendor)
    guard case .forward(let body, _) = outcome else {
        Issue.record("expected forward, got \(outcome)", sourceLocation: sourceLocation)
        return nil
    }
    return String(decoding: body, as: UTF8.self)
}

/// Whether `text` is valid JSON according to Foundation.
func isValidJSON(_ text: String) -> Bool {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
}

let codenames = TermRule(
    id: "codenames",
    label: "CODENAME",
    action: .redact,
    values: ["Nightingale", "Project Falcon"]
)

extension RedactionOutcome {
    /// The id of the rule that blocked the request, or nil when the outcome is not a block.
    var blockedRule: String? {
        if case .block(let rule, _, _) = self { return rule }
        return nil
    }

    var isUninspectable: Bool {
        if case .uninspectable = self { return true }
        return false
    }
}

/// `body` with a redaction session of `redactor` for vendor "scale", for tests that drive a walker directly.
func withTestSession<R>(_ redactor: Redactor, _ body: (RedactionSession) throws -> R) rethrows -> R {
    let scratch = redactor.scratchPool.take()
    defer { redactor.scratchPool.give(scratch) }
    let session = RedactionSession(
        rules: redactor.rules,
        keys: testKeys,
        vendor: redactor.vendors.state(for: "scale"),
        scratch: scratch,
        unknownContent: .block,
        limits: DecompressionLimits(),
        termFingerprints: redactor.termFingerprints
    )
    return try body(session)
}

/// Whether the whole-document C walk finishes `document` itself (no fallback to the full walker). A block rule
/// stopping the walk counts as finished; any other error is thrown, so it fails the test instead of passing as done.
func kernelWalkFinishes(_ redactor: Redactor, _ document: [UInt8]) throws -> Bool {
    guard !document.isEmpty else { return false }
    let text = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: document.count + 17)
    defer { text.deallocate() }
    let walked: Result<Bool, Stop> = withTestSession(redactor) { session in
        document.withUnsafeBufferPointer { buffer in
            do throws(Stop) {
                if case .done = try JSONKernelWalk.redact(buffer, session: session, text: text) {
                    return .success(true)
                }
                return .success(false)
            } catch .blocked {
                return .success(true)
            } catch {
                return .failure(error)
            }
        }
    }
    return try walked.get()
}

/// Both engines' outcomes for the JSON `body`, which must agree exactly: the same forwarded bytes and findings, or
/// the same refusal with the same reason. Returns `fast`'s.
@discardableResult
func compareEngines(
    _ fast: Redactor,
    _ reference: Redactor,
    _ body: [UInt8],
    _ what: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> RedactionOutcome {
    let a = fast.redact(body: body, contentType: "application/json", contentEncoding: nil, vendor: "scale")
    let b = reference.redact(body: body, contentType: "application/json", contentEncoding: nil, vendor: "scale")
    let same: Bool
    switch (a, b) {
    case (.forward(let x, let fx), .forward(let y, let fy)): same = x == y && fx == fy
    case (.block(let x, let rx, let fx), .block(let y, let ry, let fy)): same = x == y && rx == ry && fx == fy
    case (.uninspectable(let rx, let fx), .uninspectable(let ry, let fy)): same = rx == ry && fx == fy
    default: same = false
    }
    #expect(
        same,
        "\(what): \(String(decoding: body, as: UTF8.self).debugDescription) \(body)\n\(a)\n\(b)",
        sourceLocation: sourceLocation
    )
    return a
}

/// xorshift64: deterministic inputs, so a failure reproduces.
struct TestGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}
