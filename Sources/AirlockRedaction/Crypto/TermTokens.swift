import AirlockPolicy

/// The dictionary pseudonyms one key mints for the values of pseudonymizing term rules.
///
/// The usual token is the label, `_` and five base32 characters of a keyed HMAC (`CODENAME_7QK2M`, 25 bits); where
/// two values would share one (in this key, or with another value in a key minted before, `taken`), both use eight
/// (40 bits). With `pseudonyms.length: capped`, a value shorter than its usual token but at least
/// ``PseudonymOptions/minimumCappedLength`` characters long gets a capped token instead: `_` and as many base32
/// characters of another HMAC as keep it no longer than the value (five to eight; `Falcon` -> `_Q7KM2`). A capped
/// token another value shares, or a value below the minimum, keeps the usual token (longer than the value).
enum TermTokens {
    /// `tokens[rule][value]`; empty lists for rules that mint none.
    static func mint(
        keys: VendorKeys,
        rules: [CompiledRule],
        options: PseudonymOptions,
        taken: [String: String]
    ) -> [[String]] {
        var payloads: [[[UInt8]]] = Array(repeating: [], count: rules.count)
        var capped: [[String?]] = Array(repeating: [], count: rules.count)
        // Each candidate token's values: a token two values would share is used by neither.
        var owners: [String: Set<String>] = [:]
        for (r, rule) in rules.enumerated() where rule.kind == .term && rule.action == .pseudonymize {
            payloads[r] = rule.values.map { value in
                Base32.encode(keys.tokenMAC.authenticationCode(Array("term|\(rule.label)|\(value)".utf8)))
            }
            capped[r] = rule.values.map { value in
                Self.cappedToken(keys: keys, label: rule.label, value: value, options: options)
            }
            for (v, value) in rule.values.enumerated() {
                owners[Self.token(rule.label, payloads[r][v], 5), default: []].insert(value)
                if let token = capped[r][v] { owners[token, default: []].insert(value) }
            }
        }
        func free(_ token: String, for value: String) -> Bool {
            owners[token, default: []].count == 1 && (taken[token] == nil || taken[token] == value)
        }
        return rules.enumerated().map { r, rule in
            payloads[r].enumerated().map { v, payload in
                let value = rule.values[v]
                if let token = capped[r][v], free(token, for: value) { return token }
                let short = Self.token(rule.label, payload, 5)
                return free(short, for: value) ? short : Self.token(rule.label, payload, 8)
            }
        }
    }

    private static func token(_ label: String, _ payload: [UInt8], _ count: Int) -> String {
        label + "_" + String(decoding: payload.prefix(count), as: UTF8.self)
    }

    /// `_` and up to eight base32 characters, no longer than `value`; nil when the option is off, the value is
    /// shorter than the minimum, or the usual token is no longer than the value anyway.
    private static func cappedToken(
        keys: VendorKeys,
        label: String,
        value: String,
        options: PseudonymOptions
    )
        -> String?
    {
        guard options.length == .capped else { return nil }
        let length = value.unicodeScalars.count
        guard length >= PseudonymOptions.minimumCappedLength, length < label.utf8.count + 6 else { return nil }
        let mac = Base32.encode(keys.tokenMAC.authenticationCode(Array("capped|\(label)|\(value)".utf8)))
        return "_" + String(decoding: mac.prefix(min(length - 1, 8)), as: UTF8.self)
    }
}
