/// The policy's `pseudonyms:` section: the shape of the pseudonyms it hands to vendors, for vendors that validate
/// field lengths and formats. Restoration reads every shape.
///
/// ```yaml
/// pseudonyms:
///   length: capped      # free (default) | capped
///   emails: address     # token (default) | address
/// ```
public struct PseudonymOptions: Sendable, Hashable {
    public enum Length: String, Sendable, Hashable, CaseIterable {
        /// `CODENAME_7QK2M` whatever the length of the value.
        case free
        /// A dictionary term's pseudonym is no longer than the term where the term has at least
        /// ``PseudonymOptions/minimumCappedLength`` characters: `_` and 5 to 8 base32 characters.
        case capped
    }

    public enum Emails: String, Sendable, Hashable, CaseIterable {
        /// `EMAIL_<sealed>`, like every other sealed pseudonym.
        case token
        /// The `email` detector's pseudonyms are valid addresses: `email-<sealed…>@<…>.pseudonym.invalid`.
        case address
    }

    public var length: Length
    public var emails: Emails

    /// The shortest term a capped pseudonym replaces: `_` and five base32 characters (25 bits of a keyed HMAC).
    /// Shorter terms keep the usual, longer, pseudonym.
    public static let minimumCappedLength = 6

    public init(length: Length = .free, emails: Emails = .token) {
        self.length = length
        self.emails = emails
    }
}
