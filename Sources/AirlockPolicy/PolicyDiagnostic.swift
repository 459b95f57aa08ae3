/// One problem found while loading a policy, at the place it was written.
public struct PolicyDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String { "\(location): \(message)" }

    /// `description` with every `'…'`-quoted part of the message withheld. Messages quote what the policy says (a
    /// term, a regex, a domain, a rule id), and a policy's values are the secrets it protects: what `airlock check`
    /// prints to its author is fine, a service log is not the place for them. The location still says where to look.
    public var descriptionWithholdingValues: String {
        var withheld = ""
        var quoted = false
        for character in message {
            if character == "'" {
                if quoted { withheld += "…'" } else { withheld.append(character) }
                quoted.toggle()
            } else if !quoted {
                withheld.append(character)
            }
        }
        if quoted { withheld += "…" }
        return "\(location): \(withheld)"
    }
}
