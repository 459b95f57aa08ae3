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

    /// The value segments (ascending) whose member's key names a credential. Inlined into both walkers, so their
    /// segment accessors are read directly rather than called.
    @inline(__always)
    static func values(
        text: UnsafePointer<UInt8>,
        segmentCount: Int,
        textStart: (Int) -> Int,
        textEnd: (Int) -> Int,
        context: () -> JSONMemberContext?
    ) -> [Int] {
        guard segmentCount > 1 else { return [] }
        // Two passes: the cheap tests over every segment (nothing but integers in the loop: a member context kept
        // in it, even unbuilt, was copied at every step and cost more than the tests), then the member context,
        // built only when some string could be a credential's key.
        var candidates: [Int] = []
        for k in 0..<(segmentCount - 1) {
            let start = textStart(k)
            let length = textEnd(k) - start
            // A key of a credential's length, a value long enough to be judged, a name that ends like one.
            guard length >= 3, length <= maxKey, textEnd(k + 1) - textStart(k + 1) >= SecretValue.minimumLength,
                namesCredential(UnsafeBufferPointer(start: text + start, count: length))
            else { continue }
            candidates.append(k)
        }
        guard !candidates.isEmpty, let members = context() else { return [] }
        return candidates.compactMap { k in
            members.isKey(k) && !members.isKey(k + 1) && !members.isNumber(k + 1)
                && members.node(k) == members.node(k + 1)
                ? k + 1 : nil
        }
    }

    /// Whether `key` ends with a credential's name (see the type): compared from its end, case folded, separators
    /// skipped (`API-Key` and `apiKey` read `apikey`); a key with any other byte names none. Asked of every key of a
    /// document, so nothing is allocated.
    static func namesCredential(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        // Most keys fail on their last three letters: every name ends in one of a few.
        var tail: UInt32 = 0
        var letters = 0
        var k = key.count - 1
        while k >= 0, letters < 3 {
            let b = key[k]
            k -= 1
            if isSeparator(b) { continue }
            tail = tail << 8 | UInt32(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
            letters += 1
        }
        guard letters == 3, isTail(tail) else { return false }
        for b in key {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), 0x20:
                continue
            default:
                return false
            }
        }
        return names.contains { name in
            var k = key.count - 1
            for expected in name.reversed() {
                while k >= 0, isSeparator(key[k]) { k -= 1 }
                guard k >= 0, key[k] | (key[k] >= 0x41 && key[k] <= 0x5A ? 0x20 : 0) == expected else { return false }
                k -= 1
            }
            return true
        }
    }

    /// Whether `tail` is the last three letters of a name, read from the end (`password`: `d`, `r`, `o`), as
    /// constants (asked of every key of every document; `tailsMatchNames` in the tests keeps them in step with
    /// `names`).
    @inline(__always)
    static func isTail(_ tail: UInt32) -> Bool {
        switch tail {
        case 0x64_72_6f,  // ord: password
            0x64_77_73,  // swd: passwd
            0x65_73_61,  // ase: passphrase
            0x64_77_70,  // pwd
            0x74_65_72,  // ret: secret
            0x79_65_6b,  // key: secretkey, apikey, accesskey, privatekey
            0x6e_65_6b,  // ken: token
            0x6c_61_69,  // ial: credential
            0x73_6c_61:  // als: credentials
            true
        default: false
        }
    }

    /// The tails of `names` computed from them (what `isTail` must accept, and only that).
    static var computedTails: Set<UInt32> {
        Set(names.map { name in name.suffix(3).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } })
    }

    @inline(__always)
    private static func isSeparator(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == 0x20
    }

    /// The names of `SecretFormats`' generic assignment, separators dropped. `pass` alone ends too many words
    /// (`bypass`, `compass`) to count in a key.
    static let names: [[UInt8]] = [
        "password", "passwd", "passphrase", "pwd", "secret", "secretkey", "apikey", "accesskey", "privatekey",
        "token", "credential", "credentials",
    ].map { Array($0.utf8) }
}

extension RedactionSession {
    /// The `secret` detector's rule, whose action a credential member's value takes; `nil` without one (found once,
    /// when the policy is compiled).
    var credentialRule: Int? { rules.credentialRule }

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
