import Yams

extension PolicyLoadSession {
    /// The `pseudonyms:` section (``PseudonymOptions``): read from the root policy only, since it shapes every
    /// pseudonym the policy hands out; an include that sets it is reported.
    mutating func readPseudonyms(_ entries: Entries, isRoot: Bool, scope: Scope) {
        guard let entry = entries["pseudonyms"] else { return }
        guard isRoot else {
            report(scope.location(entry.value), "'pseudonyms' may only be set in the root policy, not an include")
            return
        }
        guard case .mapping = entry.value else {
            report(
                scope.location(entry.value),
                "'pseudonyms' must be a mapping (like 'pseudonyms: {length: capped, emails: address}'), found "
                    + Self.describe(entry.value)
            )
            return
        }
        let options = mappingEntries(
            entry.value,
            scope: scope,
            allowed: PolicyLoader.pseudonymKeys,
            context: "in 'pseudonyms'"
        )
        if let value = options["length"], let text = string(value.value, key: "length", scope: scope) {
            if let length = PseudonymOptions.Length(rawValue: text) {
                pseudonyms.length = length
            } else {
                report(
                    scope.location(value.value),
                    "unknown value '\(text)' for 'pseudonyms.length'; expected free or capped"
                )
            }
        }
        if let value = options["emails"], let text = string(value.value, key: "emails", scope: scope) {
            if let emails = PseudonymOptions.Emails(rawValue: text) {
                pseudonyms.emails = emails
            } else {
                report(
                    scope.location(value.value),
                    "unknown value '\(text)' for 'pseudonyms.emails'; expected token or address"
                )
            }
        }
    }
}
