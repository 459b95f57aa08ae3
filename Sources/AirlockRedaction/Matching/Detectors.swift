import AirlockPolicy

/// The regular expressions behind the built-in detectors. Each is compiled into the policy's single database; the
/// detector's options (domains, hosts, ranges) are applied to the resolved match in `Matcher`.
enum Detectors {
    /// One detector expression.
    struct Expression {
        /// The expression whose matches the detector reports; resolved with start-of-match around hits.
        var regex: String
        /// How far back from a match end its start is looked for (used when `regex` is unbounded).
        var window: Int
        /// What the single-pass database scans for instead of `regex`, when that is much cheaper: expressions that
        /// together report a hit at every offset where a match of `regex` ends (the windows around those hits are
        /// then resolved with `regex` itself). Empty: `regex` is scanned as is.
        ///
        /// Sound only while every match of `regex` inside a window is also a match in the whole text, which holds
        /// for expressions without assertions (`\b`, `^`, `$`): then extra hits cost a window scan but never change
        /// a result, and the matches found are exactly those of scanning `regex`
        /// (`DetectorFastFormTests` checks both on generated text). An expression whose check reads the value from
        /// the end (`SecretCheck.valueFromEnd`) has no window scan: its fast forms must end exactly where it does.
        var fastForms: [String] = []
        /// The expression is `email`'s: a match's start can be found without a start-of-match scan, by walking back
        /// from its `@` (see `EmailStart`).
        var startFromAt = false
        /// What a match must also satisfy (`secret` formats only).
        var check = SecretCheck.none
    }

    /// The detector's expressions. Quantifiers are unbounded on purpose: large bounded repeats (`{0,16384}`) make
    /// Vectorscan compile for minutes.
    static func expressions(for kind: DetectorRule.Kind) -> [Expression] {
        expressionTable(for: kind).map {
            Expression(
                regex: $0.regex,
                window: $0.window,
                fastForms: fastForms(for: $0.regex),
                startFromAt: $0.regex == email,
                check: $0.check
            )
        }
    }

    private static func expressionTable(
        for kind: DetectorRule.Kind
    ) -> [(regex: String, window: Int, check: SecretCheck)] {
        switch kind {
        case .email:
            return [(email, 1024, .none)]
        case .secret:
            return SecretFormats.table.map { ($0.regex, $0.window, $0.check) }
        case .url:
            return [(#"[Hh][Tt][Tt][Pp][Ss]?://[^\s"'<>\\`]+"#, 2048, .none)]
        case .ip:
            return [(ipv4, 16, .none), (ipv6, 64, .none)]
        }
    }

    /// The local part's class is `EmailStart.isLocalPart`; the rest holds no `@`.
    static let email = #"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}"#
    static let ipv4 = #"(?:[0-9]{1,3}\.){3}[0-9]{1,3}"#
    static let ipv6 = #"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[A-Za-z0-9]{1,16})?"#

    /// The address expressions have no literal for Vectorscan to key on, and a trailing bounded class repeat makes it
    /// run an automaton over every byte: together they cut the single-pass scan from 3.3 to 1.4 GB/s. Only match
    /// ends matter there, and an unanchored match can start anywhere, so each is rewritten to the shortest suffix
    /// that still ends at the same offsets, with the trailing repeat spelled out as fixed lengths:
    /// - IPv4: `(d{1,3}\.){3}d{1,3}` ends exactly where `d\.d{1,3}\.d{1,3}\.d{k}` ends for some k in 1...3 (only
    ///   the last digit of the first group is needed).
    /// - IPv6: a match of `(h{0,4}:){2,7}h{0,4}` holds, as a suffix, its last two groups with the first one's
    ///   digits dropped: `:h{0,4}:h{j}`, j in 0...4. A zone (`%eth0`) ends where some `:h{0,4}%z{k}`, k in 1...16,
    ///   ends (a superset: only the last group is required). Not `[h:]%z{1,16}`, as cheap to scan but hit by every
    ///   percent-escape in a URL (`a%20b`), each hit a window scan.
    private static func fastForms(for regex: String) -> [String] {
        let d = "[0-9]"
        let h = "[0-9A-Fa-f]"
        switch regex {
        case ipv4:
            return (1...3).map { #"\#(d)\.\#(d){1,3}\.\#(d){1,3}\.\#(d){\#($0)}"# }
        case ipv6:
            return (0...4).map { ":\(h){0,4}:" + String(repeating: h, count: $0) }
                + (1...16).map { ":\(h){0,4}%[A-Za-z0-9]{\($0)}" }
        case SecretFormats.genericAssignment:
            return SecretFormats.genericAssignmentFastForms
        default:
            return []
        }
    }

    /// A host glob (`*.corp.example.com`) as an expression for the host written without a scheme, with an optional
    /// port and path: `wiki.corp.example.com:8443/page`.
    static func bareHostExpression(_ glob: String) -> String {
        var out = ""
        for scalar in glob.unicodeScalars {
            if scalar == "*" {
                out += #"[A-Za-z0-9_\-][A-Za-z0-9._\-]*"#
            } else {
                out += TermVariants.escapeLiteral(String(scalar))
            }
        }
        return out + #"(?::[0-9]{1,5})?(?:/[^\s"'<>\\`]*)?"#
    }
}
