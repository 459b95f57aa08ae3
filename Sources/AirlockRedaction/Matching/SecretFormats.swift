/// The credential formats of the `secret` detector: one expression per format, with what a match must also satisfy.
///
/// The formats follow the public descriptions vendors give of their tokens (and gitleaks' rule set as a catalogue of
/// them). Each has lookalike controls in `SecretDetectorTests`: prose words that start like a prefix, short strings,
/// UUIDs, git SHAs, digests, base64 of ordinary text. Quantifiers are unbounded rather than `{n,m}` with a large `m`
/// (Vectorscan compiles those slowly); the minimum lengths are the formats' own.
enum SecretFormats {
    /// Characters a generic assignment's value may hold: what generated secrets and typed passwords are written with,
    /// without quotes, brackets, parentheses, `$`, `&`, `,` or `;` (which end a value, or make it code, a variable
    /// reference or a query string).
    static let valueClass = #"[A-Za-z0-9+/=_.~!@#%^*\-]"#
    /// `=`, `:`, `:=` or `=>` between a key and its value, with an optional closing quote before and an opening one
    /// after, and blanks around it (no-break and other Unicode spaces too: they must not hide an assignment).
    static let assignment = #"["']?\#(blank)*(?::=|=>|=|:)\#(blank)*["']?"#
    static let blank = #"[ \t\x{a0}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}]"#

    static let table: [(regex: String, window: Int, check: SecretCheck)] = [
        // PEM (PKCS#1, PKCS#8, EC, DSA, encrypted) and OpenSSH private keys: the whole block when it is complete. The
        // body may hold JSON-style `\n` escapes (a key pasted into a string of a string).
        (
            #"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----[A-Za-z0-9+/=\s:,\\\-]+-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----"#,
            16384, .none
        ),
        // A block without its end (truncated, or cut by a window): the header and the key material after it. A `-`
        // inside is followed by another character of the body, so the run stops before an `-----END` line (a
        // complete block is matched whole by the expression above, which is longer).
        (
            #"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,\\]|-[A-Za-z0-9+/=\s:,\\])*"#,
            16384, .none
        ),
        (#"-----BEGIN PGP PRIVATE KEY BLOCK-----"#, 64, .none),
        // AWS access key ids (long-term AKIA, temporary ASIA, and the other principal prefixes): 4 + 16 characters.
        (#"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|A3T[A-Z0-9])[A-Z0-9]{16}\b"#, 32, .none),
        // AWS secret access keys: 40 base64 characters, recognisable only by the key name they are assigned to. The
        // name is specific enough that the value is not judged (AWS's documentation example blocks too).
        (
            #"(?i)aws[_.\-]?(?:secret[_.\-]?)?(?:access[_.\-]?)?key(?:[_.\-]?id)?"# + assignment + #"[A-Za-z0-9/+]"#,
            128, .base64Value(length: 40)
        ),
        // GitHub: classic personal, OAuth, user-to-server, server-to-server and refresh tokens (36 characters after
        // the prefix), fine-grained personal access tokens (82).
        (#"\bgh[pousr]_[A-Za-z0-9]{36}[A-Za-z0-9]*"#, 512, .none),
        (#"\bgithub_pat_[A-Za-z0-9_]{82}[A-Za-z0-9_]*"#, 512, .none),
        // GitLab personal, project, deploy, runner, CI job, feed and OAuth application tokens.
        (#"\bgl(?:pat|ptt|dt|rt|cbt|ft|imt|oas|soat)-[A-Za-z0-9_\-]{20}[A-Za-z0-9_\-.]*"#, 512, .none),
        // Slack bot, user, workspace, refresh and configuration tokens; app-level tokens; incoming webhooks.
        (#"\bxox[abposre]-[A-Za-z0-9\-]{10}[A-Za-z0-9\-]*"#, 512, .none),
        (#"\bxapp-[0-9]-[A-Z0-9]+-[0-9]+-[A-Za-z0-9]{10}[A-Za-z0-9]*"#, 512, .none),
        (#"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43}[A-Za-z0-9+/]*"#, 512, .none),
        // Stripe secret and restricted keys, live, test and prod.
        (#"\b[rs]k_(?:live|test|prod)_[A-Za-z0-9]{16}[A-Za-z0-9]*"#, 512, .none),
        // Google API keys.
        (#"\bAIza[A-Za-z0-9_\-]{35}"#, 64, .none),
        // OpenAI project, service-account and admin keys; Anthropic keys.
        (#"\bsk-(?:proj|svcacct|admin|ant)-[A-Za-z0-9_\-]{20}[A-Za-z0-9_\-]*"#, 512, .none),
        // Bare `sk-` keys (OpenAI's original format, and the many APIs that copied it): the prefix also starts words
        // in prose (`sk-learn`), so the rest must look generated.
        (#"\bsk-[A-Za-z0-9]{20}[A-Za-z0-9]*"#, 512, .generated(prefix: 3)),
        // npm access tokens.
        (#"\bnpm_[A-Za-z0-9]{36}\b"#, 64, .none),
        // Azure storage account keys and Service Bus / Event Hubs shared access keys in connection strings.
        (#"(?i)accountkey[ \t]*=[ \t]*[A-Za-z0-9+/]{86}=="#, 128, .none),
        (#"(?i)sharedaccesskey[ \t]*=[ \t]*[A-Za-z0-9+/]{43}="#, 96, .none),
        // JWTs: a JSON header and payload (`{"` is `eyJ`) and a signature.
        (
            #"\beyJ[A-Za-z0-9_\-]{5}[A-Za-z0-9_\-]*\.eyJ[A-Za-z0-9_\-]{5}[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]{10}[A-Za-z0-9_\-]*"#,
            8192, .none
        ),
        // Bearer tokens in pasted headers.
        (#"[Bb]earer[ \t]+[A-Za-z0-9\-._~+/]{16}[A-Za-z0-9\-._~+/]*=*"#, 4096, .none),
        // Generic assignments: a key naming a credential, then a value that looks generated (`SecretValue`). Like the
        // AWS secret key, the expression ends at the value's first character (`SecretCheck.valueFromEnd`).
        (genericAssignment, 512, .assignment),
    ]

    /// The keys a generic assignment names.
    static let genericKeys =
        #"(?i)(?:pass(?:word|wd|phrase)?|pwd|secret(?:[_.\-]?key)?|client[_.\-]?secret|api[_.\-]?(?:key|token|secret)|access[_.\-]?(?:key|token)|auth[_.\-]?token|refresh[_.\-]?token|token|private[_.\-]?key|credentials?)"#
    static let genericAssignment = genericKeys + assignment + valueClass

    /// What the single pass scans for `genericAssignment` (`Detectors.Expression.fastForms`): the same expression
    /// split on the blanks before the operator, none (`token=`, `"token":`) or some (`token = `). Exactly the same
    /// matches, so exactly the same ends, which is what an assignment's check reads (it has no window scan: an extra
    /// end would be taken for an assignment). Cheaper because `token` is a common word: one expression made
    /// Vectorscan run its suffix for every `token` in prose, about 10% of the single pass on the benchmark's text;
    /// split, the first form keys on `token=` and the like, and the second costs less per `token ` than the whole did
    /// (4.5% of the single pass saved, in instructions, 10,000 terms).
    static let genericAssignmentFastForms = [
        genericKeys + #"["']?(?::=|=>|=|:)\#(blank)*["']?"# + valueClass,
        genericKeys + #"["']?\#(blank)+(?::=|=>|=|:)\#(blank)*["']?"# + valueClass,
    ]
}

/// What a match of a secret format must also satisfy, checked on the resolved span.
enum SecretCheck: Sendable, Equatable {
    /// The expression alone decides.
    case none
    /// The expression ends at the first character of an assigned value; the value is the run of `valueClass`
    /// characters from there, and must look generated (`SecretValue.looksGenerated`). Only the value is the match
    /// (`password=[REDACTED:SECRET]`).
    case assignment
    /// The expression ends at the first character of an assigned value; the value is the run of base64 characters
    /// (`[A-Za-z0-9/+]`) from there, at least `length` of them (`aws_secret_access_key = [REDACTED:SECRET]`).
    case base64Value(length: Int)
    /// The characters after a prefix of `prefix` bytes must look generated.
    case generated(prefix: Int)

    /// The match's end says where the value starts, so no start-of-match scan is needed. Keeping these expressions
    /// out of that database matters: with the generic assignment's optional quotes and blanks in it, compiling it
    /// took 3 s instead of 0.3 s.
    var valueFromEnd: Bool {
        switch self {
        case .assignment, .base64Value: true
        case .none, .generated: false
        }
    }
}
