import AirlockPolicy
import Foundation

/// Per-vendor derived keys and the dictionary pseudonyms of every term (both directions). Built once per vendor and
/// cached by the `Redactor`.
///
/// With a keyring, tokens are minted with the current key (`keys`) and restored under every key: `termValues` holds
/// the tokens of every key, and each key's tokens were chosen, oldest key first, to differ from the tokens of the
/// keys before it (a short token another key already uses for another value becomes a long one), so no token
/// restores to two values.
final class VendorState: Sendable {
    /// The current key's.
    let keys: VendorKeys
    /// Every key's, current first: sealed tokens are opened with each in turn.
    let restoreKeys: [VendorKeys]
    /// `termTokenBytes[rule][value]`: the token of each dictionary value of a pseudonymizing term rule (empty for
    /// others), as bytes, ready for an edit.
    let termTokenBytes: [[[UInt8]]]
    /// Token (`CODENAME_7QK2M`, or a capped `_7QK2M`) -> dictionary value, for `restore`.
    let termValues: [String: String]

    convenience init(keys: VendorKeys, rules: [CompiledRule]) {
        self.init(keyring: [keys], rules: rules, options: PseudonymOptions())
    }

    init(keyring: [VendorKeys], rules: [CompiledRule], options: PseudonymOptions) {
        self.keys = keyring[0]
        self.restoreKeys = keyring
        var byToken: [String: String] = [:]
        var current: [[String]] = []
        for keys in keyring.reversed() {
            current = TermTokens.mint(keys: keys, rules: rules, options: options, taken: byToken)
            for (r, tokens) in current.enumerated() {
                for (v, token) in tokens.enumerated() { byToken[token] = rules[r].values[v] }
            }
        }
        self.termTokenBytes = current.map { $0.map { Array($0.utf8) } }
        self.termValues = byToken
    }
}

/// Vendor states by lowercased vendor name, built on first use. Thread-safe.
final class VendorCache: @unchecked Sendable {
    private let lock = NSLock()
    private var states: [String: VendorState] = [:]
    private let keys: PseudonymKeys
    private let rules: [CompiledRule]
    private let options: PseudonymOptions

    init(keys: PseudonymKeys, rules: [CompiledRule], options: PseudonymOptions = PseudonymOptions()) {
        self.keys = keys
        self.rules = rules
        self.options = options
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
        let state = VendorState(keyring: keys.vendorKeyring(name), rules: rules, options: options)
        lock.lock()
        defer { lock.unlock() }
        if let existing = states[name] { return existing }
        states[name] = state
        return state
    }
}
