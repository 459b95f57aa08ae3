import AirlockPolicy

/// What a compiled rule is, for the parts of matching that differ by kind.
enum RuleKind: Sendable, Equatable {
    case term
    case pattern
    case detector(DetectorRule.Kind)
    /// A bare-host expression of a `url` detector with `hosts`: `wiki.corp.example.com/page` without a scheme.
    case bareHost
    /// The policy's `allow` list: spans that suppress every match inside them.
    case allow
}

/// A policy rule as the matcher uses it. Index = position in `CompiledRules.rules`.
struct CompiledRule: Sendable {
    var id: String
    var label: String
    var action: Action
    var kind: RuleKind
    /// Term rules: the dictionary values, canonical spelling. The pseudonym of a term is computed from this.
    var values: [String] = []
    /// Pattern rules: lowercased hotwords and their distance.
    var near: [[UInt8]] = []
    var within: Int = 0
    /// Detector rules: the policy's detector with its options (domains, hosts, ranges).
    var detector: DetectorRule?
}

/// Per Vectorscan expression id: how to turn a reported match end into a span.
struct ExpressionInfo: Sendable {
    var rule: Int32
    /// Term value index, or -1 for a regular expression.
    var value: Int32
    /// Literals: the number of Unicode scalars, so the start is found by walking back from the end.
    var scalars: Int32
    var wholeWord: Bool
    var variants: Bool
    /// Regular expressions: how far before the end a match can start (bounded for unbounded expressions).
    var window: Int
    /// The `email` detector's expression, whose starts `EmailStart` finds without a start-of-match scan.
    var startFromAt = false
    /// `GapTrigger.expressions`: not a rule's; its hits mark windows the matcher reads again for terms.
    var gapTrigger = false
    /// `secret` formats: what a resolved match must also satisfy.
    var check = SecretCheck.none
    var isRegex: Bool { value < 0 && !gapTrigger }
}

/// A `fields` rule with its path pre-split into byte keys.
struct CompiledFieldRule: Sendable {
    enum Segment: Sendable {
        case key([UInt8])
        case index(Int)
        case wildcard
        case descendant([UInt8])
    }

    var id: String
    var label: String
    var action: Action
    var segments: [Segment]
}

/// Everything matching needs from a policy, compiled: the rules, the expression table and the Vectorscan databases.
struct CompiledRules: Sendable {
    /// How far before a reported end an unbounded regular expression's match is looked for.
    static let unboundedWindow = 1024

    var rules: [CompiledRule] = []
    /// `[REDACTED:LABEL]` of each rule, as bytes.
    var redactedMarkers: [[UInt8]] = []
    var expressions: [ExpressionInfo] = []
    /// The most characters a spelling of a multi-word term or allow entry has (0: none has several words, and
    /// `GapTrigger.expressions` are not compiled): how far around a reported gap a term crossing it can reach.
    var gapReach = 0
    var fieldRules: [CompiledFieldRule] = []
    /// The paths of `fields` rules with `encoding: base64`, whose string values are decoded and inspected
    /// (`RedactionSession.redactDeclaredBase64`). Their last keys count in `fieldLastKeys` too.
    var base64Fields: [[CompiledFieldRule.Segment]] = []
    /// Bit n set: some field rule's path ends in a key of n bytes (63: longer). Lets the JSON walker skip the path
    /// check for almost every member.
    var fieldLastKeyLengths: UInt64 = 0
    /// The last key of every field rule's path (when none ends in an element): a member whose key is none of these
    /// cannot be selected, so the walker skips the full path check without touching the rules.
    var fieldLastKeys: [[UInt8]] = []
    /// `fieldLastKeys` concatenated, and their lengths: the same check for the C walker.
    var fieldLastKeyBytes: [UInt8] = []
    var fieldLastKeyCounts: [UInt32] = []
    /// Some field rule's path ends in `[n]` or `[*]`, so array elements need the path check too.
    var fieldRulesEndingInElement = false
    /// Some pattern rule has `near:` hotwords (so JSON walkers build a `JSONMemberContext`).
    var hasHotwords = false
    /// The `secret` detector's rule, whose action a JSON credential member's value takes (`JSONCredentialMembers`);
    /// `nil` without one.
    var credentialRule: Int?
    /// The fewest bytes any match of any expression spans (at least 1). A JSON number shorter than this cannot hold
    /// a match, so the walkers do not queue it for the scan: `[0,0,…]` costs no memory per element.
    var shortestMatch = Int.max
    /// The single-pass database: every term, allow entry, pattern and detector. `nil` when the policy has none.
    var fast: VectorscanDatabase?
    /// The same regular expressions compiled with start-of-match, scanned only in small windows around fast hits.
    var startOfMatch: VectorscanDatabase?
    /// The expressions of `fast`, as compiled (for the benchmark's database analysis).
    var fastSources: [VectorscanExpression] = []
    /// The policy's `pseudonyms:` options.
    var pseudonyms = PseudonymOptions()

    /// Compiles `policy`. `useFastForms: false` is the reference engine: every detector's own expression in the
    /// single pass instead of its cheaper fast forms (`Detectors.Expression.fastForms`), and every regex start found
    /// by the start-of-match scan (no `EmailStart`). The same results, slower; for equivalence tests.
    // Over 80 lines: terms, patterns, detectors and the allow list append, in order, to the same expression lists
    // and rule tables whose indices the ids are.
    init(policy: Policy, useFastForms: Bool = true) throws(RedactionError) {
        self.pseudonyms = policy.pseudonyms
        var fastExpressions: [VectorscanExpression] = []
        var somExpressions: [VectorscanExpression] = []

        func addLiteral(_ text: String, rule: Int, value: Int, caseSensitive: Bool, wholeWord: Bool, variants: Bool) {
            // A value of invisible characters only reads as nothing, and nothing is not matched.
            guard !text.isEmpty else { return }
            let nonASCII = text.utf8.contains { $0 >= 0x80 }
            // Every character of a match takes a byte at least, whatever case it is matched in.
            shortestMatch = min(shortestMatch, max(1, text.unicodeScalars.count))
            var flags: UInt32 = 0
            if !caseSensitive { flags |= VS.caseless }
            if nonASCII { flags |= VS.utf8 | VS.ucp }
            fastExpressions.append(
                VectorscanExpression(
                    pattern: TermVariants.escapeLiteral(text),
                    flags: flags,
                    id: UInt32(expressions.count)
                )
            )
            expressions.append(
                ExpressionInfo(
                    rule: Int32(rule),
                    value: Int32(value),
                    scalars: Int32(text.unicodeScalars.count),
                    wholeWord: wholeWord,
                    variants: variants,
                    window: 0
                )
            )
        }

        func addRegex(
            _ regex: String,
            flags: UInt32,
            rule: Int,
            unboundedWindow: Int = Self.unboundedWindow,
            fastForms: [String] = [],
            startFromAt: Bool = false,
            check: SecretCheck = .none
        ) {
            let id = UInt32(expressions.count)
            if fastForms.isEmpty || !useFastForms {
                fastExpressions.append(VectorscanExpression(pattern: regex, flags: flags, id: id))
            } else {
                // Several expressions under one id: any of them reporting an end is a hit of the rule's regex.
                for form in fastForms {
                    fastExpressions.append(VectorscanExpression(pattern: form, flags: flags, id: id))
                }
            }
            if !check.valueFromEnd {
                somExpressions.append(VectorscanExpression(pattern: regex, flags: flags, id: id))
            }
            let widths = VectorscanDatabase.widths(of: regex, flags: flags)
            shortestMatch = min(shortestMatch, max(1, widths.min))
            let width = widths.max ?? unboundedWindow
            expressions.append(
                ExpressionInfo(
                    rule: Int32(rule),
                    value: -1,
                    scalars: 0,
                    wholeWord: false,
                    variants: false,
                    window: min(max(width, 1), 1 << 15),
                    startFromAt: startFromAt && useFastForms,
                    check: check
                )
            )
        }

        for term in policy.terms {
            let rule = rules.count
            rules.append(
                CompiledRule(id: term.id, label: term.label, action: term.action, kind: .term, values: term.values)
            )
            for (index, value) in term.values.enumerated() {
                let spellings = TermVariants.spellings(of: value, variants: term.variants)
                if TermVariants.words(of: value, variants: false).count > 1 {
                    gapReach = max(gapReach, spellings.map { $0.unicodeScalars.count }.max() ?? 0)
                }
                for spelling in spellings {
                    addLiteral(
                        spelling,
                        rule: rule,
                        value: index,
                        caseSensitive: term.caseSensitive,
                        wholeWord: term.wholeWord,
                        variants: term.variants
                    )
                }
            }
        }
        for pattern in policy.patterns {
            let rule = rules.count
            rules.append(
                CompiledRule(
                    id: pattern.id,
                    label: pattern.label,
                    action: pattern.action,
                    kind: .pattern,
                    near: pattern.near.map { Array($0.lowercased().utf8) },
                    within: pattern.within
                )
            )
            addRegex(pattern.regex, flags: VS.utf8, rule: rule)
        }
        for detector in policy.detectors {
            let rule = rules.count
            rules.append(
                CompiledRule(
                    id: detector.id,
                    label: detector.label,
                    action: detector.action,
                    kind: .detector(detector.kind),
                    detector: detector
                )
            )
            for expression in Detectors.expressions(for: detector.kind) {
                addRegex(
                    expression.regex,
                    flags: VS.utf8,
                    rule: rule,
                    unboundedWindow: expression.window,
                    fastForms: expression.fastForms,
                    startFromAt: expression.startFromAt,
                    check: expression.check
                )
            }
            if detector.kind == .url, !detector.hosts.isEmpty {
                let bare = rules.count
                rules.append(
                    CompiledRule(
                        id: detector.id,
                        label: detector.label,
                        action: detector.action,
                        kind: .bareHost,
                        detector: detector
                    )
                )
                for host in detector.hosts {
                    addRegex(
                        Detectors.bareHostExpression(host.pattern),
                        flags: VS.utf8 | VS.caseless,
                        rule: bare,
                        unboundedWindow: 2048
                    )
                }
            }
        }
        if !policy.allow.isEmpty {
            let rule = rules.count
            rules.append(CompiledRule(id: "allow", label: "ALLOW", action: .mask, kind: .allow, values: policy.allow))
            for (index, value) in policy.allow.enumerated() where !value.isEmpty {
                if TermVariants.words(of: value, variants: false).count > 1 {
                    gapReach = max(gapReach, value.unicodeScalars.count)
                }
                addLiteral(
                    TermVariants.folded(value),
                    rule: rule,
                    value: index,
                    caseSensitive: false,
                    wholeWord: false,
                    variants: false
                )
            }
        }
        fieldRules = policy.fields.map { field in
            CompiledFieldRule(
                id: field.id,
                label: field.label,
                action: field.action,
                segments: CompiledFieldRule.segments(of: field.path)
            )
        }
        base64Fields = policy.encodedFields.filter { $0.encoding == .base64 }.map {
            CompiledFieldRule.segments(of: $0.path)
        }

        for segments in fieldRules.map(\.segments) + base64Fields {
            switch segments.last {
            case .key(let name)?, .descendant(let name)?:
                fieldLastKeyLengths |= 1 << UInt64(min(name.count, 63))
                if !fieldLastKeys.contains(name) {
                    fieldLastKeys.append(name)
                    fieldLastKeyBytes.append(contentsOf: name)
                    fieldLastKeyCounts.append(UInt32(name.count))
                }
            case .index?, .wildcard?, nil:
                fieldRulesEndingInElement = true
                fieldLastKeyLengths = ~0
            }
        }

        if gapReach > 0 {
            for pattern in GapTrigger.expressions {
                fastExpressions.append(VectorscanExpression(pattern: pattern, flags: 0, id: UInt32(expressions.count)))
            }
            expressions.append(
                ExpressionInfo(
                    rule: -1,
                    value: -1,
                    scalars: 0,
                    wholeWord: false,
                    variants: false,
                    window: 0,
                    gapTrigger: true
                )
            )
        }
        redactedMarkers = rules.map { Array("[REDACTED:\($0.label)]".utf8) }
        guard !fastExpressions.isEmpty else { return }
        func failure(_ error: VectorscanCompileFailure, in set: [VectorscanExpression], what: String) -> RedactionError
        {
            var rule: String?
            if let index = error.expressionIndex, index < set.count, expressions[Int(set[index].id)].rule >= 0 {
                rule = rules[Int(expressions[Int(set[index].id)].rule)].id
            }
            let subject = rule.map { "rule \($0)" } ?? "the policy"
            return RedactionError(.compile, "\(subject) does not compile for \(what): \(error.message)", rule: rule)
        }
        fastSources = fastExpressions
        do {
            fast = try VectorscanDatabase(expressions: fastExpressions, som: false)
        } catch {
            throw failure(error, in: fastExpressions, what: "matching")
        }
        if !somExpressions.isEmpty {
            do {
                startOfMatch = try VectorscanDatabase(expressions: somExpressions, som: true)
            } catch {
                throw failure(error, in: somExpressions, what: "start-of-match resolution (simplify the expression)")
            }
        }
        hasHotwords = rules.contains { !$0.near.isEmpty }
        credentialRule = rules.firstIndex { rule in
            if case .detector(.secret) = rule.kind { return true }
            return false
        }
    }
}

/// Vectorscan flag values as `UInt32`.
enum VS {
    static let caseless: UInt32 = 1
    static let utf8: UInt32 = 32
    static let ucp: UInt32 = 64
}
