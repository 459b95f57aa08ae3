/// A JSON member whose key names a credential (`{"password": "Tr0ub4dor&3x"}`, `"db_api_key"`, `"clientSecret"`) is a
/// credential assignment like `password=Tr0ub4dor&3x` in text: the `secret` detector judges its value by the same
/// rule (`SecretValue.looksGenerated` on the run of value characters at its start) and redacts or blocks it. The
/// scan reads keys and values as separate strings, so the text expression never sees such a member: both JSON
/// walkers name these values here and the session judges each (`RedactionSession.credentialMatches`).
///
/// A key names a credential when it ends with one of the names of the text expression (`SecretFormats`: `password`,
/// `passwd`, `passphrase`, `pwd`, `secret`, `secret_key`, `api_key`, `access_key`, `private_key`, `token`,
/// `credential(s)`, with `_`, `-`, `.` or nothing between words, any case), so `password_hint`, `token_count` and
/// `secretary` do not. Only a string that is the member's own value counts (not numbers, arrays or objects).
enum JSONCredentialMembers {
    /// The longest key looked at.
    static let maxKey = 64

    /// The value segments (ascending) whose member's key names a credential.
    static func values(
        text: UnsafePointer<UInt8>,
        segmentCount: Int,
        textStart: (Int) -> Int,
        textEnd: (Int) -> Int,
        context: () -> JSONMemberContext?
    ) -> [Int] {
        guard segmentCount > 1 else { return [] }
        var found: [Int] = []
        var built: JSONMemberContext?? = nil
        for k in 0..<(segmentCount - 1) {
            let start = textStart(k)
            let length = textEnd(k) - start
            // Cheap tests first: a key of a credential's length, a value long enough to be judged.
            guard length >= 3, length <= maxKey, textEnd(k + 1) - textStart(k + 1) >= SecretValue.minimumLength,
                namesCredential(UnsafeBufferPointer(start: text + start, count: length))
            else { continue }
            if built == nil { built = .some(context()) }
            guard let members = built ?? nil, members.isKey(k), !members.isKey(k + 1), !members.isNumber(k + 1),
                members.node(k) == members.node(k + 1)
            else { continue }
            found.append(k + 1)
        }
        return found
    }

    /// Whether `key` ends with a credential's name (see the type).
    static func namesCredential(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        // Letters only, lowercased, separators dropped: `API-Key` and `apiKey` read `apikey`.
        var letters: [UInt8] = []
        letters.reserveCapacity(key.count)
        for b in key {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): letters.append(b | 0x20)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): letters.append(b)
            case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), 0x20: continue
            default: return false
            }
        }
        return names.contains { name in
            letters.count >= name.count && letters.suffix(name.count).elementsEqual(name)
        }
    }

    /// The names of `SecretFormats`' generic assignment, separators dropped. `pass` alone ends too many words
    /// (`bypass`, `compass`) to count in a key.
    static let names: [[UInt8]] = [
        "password", "passwd", "passphrase", "pwd", "secret", "secretkey", "apikey", "accesskey", "privatekey",
        "token", "credential", "credentials",
    ].map { Array($0.utf8) }
}

extension RedactionSession {
    /// The `secret` detector's rule, whose action a credential member's value takes; `nil` without one.
    var credentialRule: Int? {
        rules.rules.firstIndex { rule in
            if case .detector(.secret) = rule.kind { return true }
            return false
        }
    }

    /// The match for a credential member's value `p[lo..<hi]` (the segment `credentialValue` is set for): the run of
    /// value characters at its start (after blanks), when it looks generated; `nil` otherwise.
    func credentialMatch(_ p: UnsafePointer<UInt8>, lo: Int, hi: Int) -> Match? {
        guard let rule = credentialRule else { return nil }
        var start = lo
        while start < hi, p[start] == 0x20 || p[start] == 0x09 { start += 1 }
        let end = SecretValue.valueEnd(p, from: start, hi: hi, SecretValue.isValueByte)
        guard SecretValue.looksGenerated(p, start: start, end: min(end, start + SecretValue.judgedBytes)) else {
            return nil
        }
        return Match(start: start, end: end, rule: Int32(rule), value: -1)
    }
}
