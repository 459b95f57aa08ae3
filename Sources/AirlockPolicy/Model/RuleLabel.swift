/// Labels name a rule inside placeholders and tokens (`[REDACTED:CODENAME]`, `CODENAME_7QK2M`).
public enum RuleLabel {
    /// The label a rule gets when the policy does not give one: the id uppercased, every character that is not an
    /// ASCII letter or digit replaced by `_` (`roadmap-quarter` -> `ROADMAP_QUARTER`).
    public static func defaultLabel(forID id: String) -> String {
        var label = ""
        for scalar in id.unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                label.unicodeScalars.append(contentsOf: String(scalar).uppercased().unicodeScalars)
            } else {
                label.append("_")
            }
        }
        return label
    }

    /// Whether `label` is usable in placeholders and tokens: non-empty, ASCII letters, digits and `_` only, so that a
    /// token can be found again in a response.
    public static func isValid(_ label: String) -> Bool {
        !label.isEmpty
            && label.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
            }
    }
}
