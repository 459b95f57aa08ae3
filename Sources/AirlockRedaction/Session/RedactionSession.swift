import AirlockPolicy
import AirlockSupport
import Foundation

/// The state of redacting one body: a scratch space, the vendor's keys, the findings so far. Not thread-safe; one
/// per request.
final class RedactionSession {
    let rules: CompiledRules
    let keys: PseudonymKeys
    let vendor: VendorState
    let scratch: OpaquePointer?
    let sink = HitSink()
    let unknownContent: UnknownContent
    let limits: DecompressionLimits
    /// `termFingerprints[rule][value]`: the keyed fingerprint of each dictionary value of a term rule, as the policy
    /// spells it (empty for other rules). Computed once per `Redactor`.
    let termFingerprints: [[String]]
    private var findingIndex: [FindingKey: Int] = [:]
    private(set) var findingBuilders: [FindingBuilder] = []
    /// How many JSON-in-a-string documents deep the walker is.
    var nesting = 0
    /// The JSON depth at which the documents enclosing the current one hold it: counts against the depth limit.
    var enclosingDepth = 0
    /// The JSON walker validates and copies strings with the C kernel (off: the Swift reference, for equivalence
    /// tests).
    var stringKernel = true
    /// Keyed operations (HMAC, AES-SIV) cost microseconds; a body tends to repeat the same few values.
    private var fingerprintCache: [ByteKey: String] = [:]
    var replacementCache: [ByteKey: [UInt8]] = [:]
    /// The path step of each key named so far (`keyStep`): naming a key redacts it.
    var reportedKeySteps: [ByteKey: [UInt8]] = [:]
    /// The `Redactor`'s steps of names no rule matches in, shared between requests (`nil`: none kept).
    var unmatchedNames: UnmatchedNames?
    /// The JSON object around the value being redacted (segment `memberSegment`), whose other members a pattern's
    /// hotwords see (`JSONMemberContext`); `nil` outside JSON and while naming a key.
    /// The last credential-assignment value judged (`password=…`) in the text being resolved: where it starts and
    /// where its run of value bytes ends. A later `key=` inside the same run (`password=password=…`) is part of that value, already judged:
    /// without this, each match scanned and weighed the rest of the run again (quadratic in the run's length).
    var lastAssignment: (base: UnsafePointer<UInt8>, start: Int, end: Int, accepted: Bool)?
    var memberContext: JSONMemberContext?
    var memberSegment = -1
    /// The segment being redacted is the value of a JSON member whose key names a credential
    /// (`JSONCredentialMembers`): the `secret` detector judges it as an assignment's value.
    var credentialValue = false
    /// Set by `FieldLocator`: a value a `fields` rule selects is handed here (rule index, the walked buffer, the
    /// value's range in it) instead of being replaced.
    var fieldVisitor: ((Int, UnsafePointer<UInt8>, Range<Int>) throws(Stop) -> Void)?
    /// The name of the form or multipart field whose value is being redacted (`RedactionSession+FieldNameContext`).
    var fieldName: [UInt8]?
    /// The policy's `images:` section and the inspector (`nil`: images are content the policy cannot inspect).
    var images: ImageSetup?

    init(
        rules: CompiledRules,
        keys: PseudonymKeys,
        vendor: VendorState,
        scratch: OpaquePointer?,
        unknownContent: UnknownContent,
        limits: DecompressionLimits,
        termFingerprints: [[String]]
    ) {
        self.termFingerprints = termFingerprints
        self.rules = rules
        self.keys = keys
        self.vendor = vendor
        self.scratch = scratch
        self.unknownContent = unknownContent
        self.limits = limits
    }

    /// Embedded payloads left uninspected under `content.unknown: pass` (see `recordUninspected`).
    private var uninspected = FindingBuilder(rule: "content.unknown", action: "pass")

    var findings: [Finding] { findingBuilders.map(\.finding) + (uninspected.count > 0 ? [uninspected.finding] : []) }

    /// Records an embedded payload that leaves uninspected because `content.unknown` is `pass`: a `content.unknown`
    /// finding with action `pass` (not a policy action), so the audit log and metrics count what left unread.
    func recordUninspected(path: String?) {
        uninspected.count += 1
        if let path, uninspected.paths.count < Finding.maxPaths, !uninspected.paths.contains(path) {
            uninspected.paths.append(path)
        }
    }

    // MARK: Findings

    /// Records one match (or field) of a rule. `term`: the match is dictionary value `value` of term rule `rule`
    /// written exactly as the policy spells it, whose fingerprint the `Redactor` keeps for every request. `path` is
    /// only built while the finding still takes paths (naming a path redacts its keys).
    func record(
        rule: String,
        action: Action,
        path: @autoclosure () -> String?,
        value: UnsafeBufferPointer<UInt8>?,
        term: (rule: Int, value: Int)? = nil
    ) {
        // A struct key: concatenating rule and action allocated a string on every match.
        let key = FindingKey(rule: rule, action: action)
        let index: Int
        if let existing = findingBuilders.count <= 8 ? smallFindingIndex(key) : findingIndex[key] {
            index = existing
        } else {
            index = findingBuilders.count
            findingBuilders.append(FindingBuilder(rule: rule, action: action.rawValue))
            // Up to 8 builders are found by comparison; the index is only built, and then kept, beyond that.
            if findingBuilders.count > 8 {
                if findingIndex.isEmpty {
                    for (k, builder) in findingBuilders.enumerated() {
                        guard let builtAction = Action(rawValue: builder.action) else {
                            preconditionFailure("a finding's action is always an Action's raw value")
                        }
                        findingIndex[FindingKey(rule: builder.rule, action: builtAction)] = k
                    }
                } else {
                    findingIndex[key] = index
                }
            }
        }
        findingBuilders[index].count += 1
        if findingBuilders[index].paths.count < Finding.maxPaths, let path = path(),
            !findingBuilders[index].paths.contains(path)
        {
            findingBuilders[index].paths.append(path)
        }
        if let value, findingBuilders[index].fingerprints.count < Finding.maxFingerprints {
            let fingerprint: String
            if let term {
                fingerprint = termFingerprints[term.rule][term.value]
                if !findingBuilders[index].fingerprints.contains(fingerprint) {
                    findingBuilders[index].fingerprints.append(fingerprint)
                }
                return
            }
            let bytes = Array(value)
            if let cached = fingerprintCache[ByteKey(bytes)] {
                fingerprint = cached
            } else {
                fingerprint = keys.fingerprint(bytes)
                fingerprintCache[ByteKey(bytes)] = fingerprint
            }
            if !findingBuilders[index].fingerprints.contains(fingerprint) {
                findingBuilders[index].fingerprints.append(fingerprint)
            }
        }
    }

    /// The builder of `key` among few builders: comparing a handful of short strings beats hashing one.
    @inline(__always)
    private func smallFindingIndex(_ key: FindingKey) -> Int? {
        for k in findingBuilders.indices
        where findingBuilders[k].rule == key.rule && findingBuilders[k].action == key.action.rawValue {
            return k
        }
        return nil
    }

    struct FindingsSnapshot {
        fileprivate var builders: [FindingBuilder]
        fileprivate var index: [FindingKey: Int]
        fileprivate var uninspected: FindingBuilder
    }

    fileprivate struct FindingKey: Hashable {
        var rule: String
        var action: Action
    }

    func snapshotFindings() -> FindingsSnapshot {
        FindingsSnapshot(builders: findingBuilders, index: findingIndex, uninspected: uninspected)
    }

    /// Forgets everything recorded since `snapshot` (a speculative parse that was abandoned).
    func restoreFindings(_ snapshot: FindingsSnapshot) {
        findingBuilders = snapshot.builders
        findingIndex = snapshot.index
        uninspected = snapshot.uninspected
    }
}
