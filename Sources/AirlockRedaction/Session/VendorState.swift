import AirlockPolicy
import Foundation

/// Per-vendor derived keys and the dictionary pseudonyms of every term (both directions). Built once per vendor and
/// cached by the `Redactor`.
final class VendorState: Sendable {
    let keys: VendorKeys
    /// `termTokenBytes[rule][value]`: the token of each dictionary value of a pseudonymizing term rule (empty for
    /// others), as bytes, ready for an edit.
    let termTokenBytes: [[[UInt8]]]
    /// Token (`CODENAME_7QK2M`) -> dictionary value, for `restore`.
    let termValues: [String: String]

    init(keys: VendorKeys, rules: [CompiledRule]) {
        self.keys = keys
        var tokens: [[String]] = Array(repeating: [], count: rules.count)
        var byToken: [String: String] = [:]
        // Five base32 characters (25 bits) keep tokens short; where two values of one label collide, both use eight.
        var payloads: [[[UInt8]]] = Array(repeating: [], count: rules.count)
        var firstSeen: [String: (Int, Int)] = [:]
        var long: Set<String> = []
        for (r, rule) in rules.enumerated() where rule.kind == .term && rule.action == .pseudonymize {
            payloads[r] = rule.values.map { value in
                Base32.encode(
                    keys.tokenMAC.authenticationCode(Array("term|\(rule.label)|\(value)".utf8))
                )
            }
            for (v, payload) in payloads[r].enumerated() {
                let short = rule.label + "_" + String(decoding: payload.prefix(5), as: UTF8.self)
                if let (r0, v0) = firstSeen[short], rules[r0].values[v0] != rule.values[v] {
                    long.insert(short)
                } else if firstSeen[short] == nil {
                    firstSeen[short] = (r, v)
                }
            }
        }
        for (r, rule) in rules.enumerated() where !payloads[r].isEmpty {
            tokens[r] = payloads[r].enumerated().map { v, payload in
                let short = rule.label + "_" + String(decoding: payload.prefix(5), as: UTF8.self)
                let token =
                    long.contains(short) ? rule.label + "_" + String(decoding: payload.prefix(8), as: UTF8.self) : short
                byToken[token] = rule.values[v]
                return token
            }
        }
        self.termTokenBytes = tokens.map { $0.map { Array($0.utf8) } }
        self.termValues = byToken
    }
}

/// Vendor states by lowercased vendor name, built on first use. Thread-safe.
final class VendorCache: @unchecked Sendable {
    private let lock = NSLock()
    private var states: [String: VendorState] = [:]
    private let keys: PseudonymKeys
    private let rules: [CompiledRule]

    init(keys: PseudonymKeys, rules: [CompiledRule]) {
        self.keys = keys
        self.rules = rules
    }

    func state(for vendor: String) -> VendorState {
        let name = vendor.lowercased()
        lock.lock()
        if let state = states[name] {
            lock.unlock()
            return state
        }
        lock.unlock()
        // Built outside the lock: a 10,000-term dictionary takes milliseconds and other vendors must not wait.
        let state = VendorState(keys: keys.vendorKeys(name), rules: rules)
        lock.lock()
        defer { lock.unlock() }
        if let existing = states[name] { return existing }
        states[name] = state
        return state
    }
}
