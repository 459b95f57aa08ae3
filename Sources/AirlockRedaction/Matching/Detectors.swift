import AirlockPolicy

/// The regular expressions behind the built-in detectors. Each is compiled into the policy's single database; the
/// detector's options (domains, hosts, ranges) are applied to the resolved match in `Matcher`.
enum Detectors {
    /// Each expression with how far back from a match end its start is looked for. Quantifiers are unbounded on
    /// purpose: large bounded repeats (`{0,16384}`) make Vectorscan compile for minutes.
    static func expressions(for kind: DetectorRule.Kind) -> [(regex: String, window: Int)] {
        switch kind {
        case .email:
            return [(#"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}"#, 1024)]
        case .secret:
            return [
                // PEM private keys: the whole block when it is complete, else at least the header.
                (
                    #"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----[A-Za-z0-9+/=\s:,\-]+-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----"#,
                    16384
                ),
                (#"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----"#, 128),
                // AWS access key ids.
                (#"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"#, 32),
                // GitHub tokens.
                (#"\bgh[pousr]_[A-Za-z0-9]{36}[A-Za-z0-9]*"#, 512),
                (#"\bgithub_pat_[A-Za-z0-9_]{22}[A-Za-z0-9_]*"#, 512),
                // Slack tokens.
                (#"\bxox[abposr]-[A-Za-z0-9\-]{10}[A-Za-z0-9\-]*"#, 512),
                // OpenAI / Anthropic style keys.
                (#"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{20}[A-Za-z0-9_\-]*"#, 512),
                // JWTs.
                (
                    #"\beyJ[A-Za-z0-9_\-]{5}[A-Za-z0-9_\-]*\.eyJ[A-Za-z0-9_\-]{5}[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]{10}[A-Za-z0-9_\-]*"#,
                    8192
                ),
                // Bearer tokens in pasted headers.
                (#"[Bb]earer[ \t]+[A-Za-z0-9\-._~+/]{16}[A-Za-z0-9\-._~+/]*=*"#, 4096),
            ]
        case .url:
            return [(#"[Hh][Tt][Tt][Pp][Ss]?://[^\s"'<>\\`]+"#, 2048)]
        case .ip:
            return [
                (#"(?:[0-9]{1,3}\.){3}[0-9]{1,3}"#, 16),
                (#"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[A-Za-z0-9]{1,16})?"#, 64),
            ]
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
