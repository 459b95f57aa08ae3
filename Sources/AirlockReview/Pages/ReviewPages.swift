import AirlockAudit
import AirlockSupport
import Foundation

/// The console's HTML pages: each builds a plain model of strings and lists and renders it with its template.
struct ReviewPages {
    let console: ReviewConsole
    /// The session's form token (for the logout form), nil for a bearer-token request.
    let formToken: String?

    struct Chrome {
        var formToken: String?
    }

    var chrome: Chrome { Chrome(formToken: formToken) }

    struct Tag {
        var name: String
        var count: Int
    }

    struct Option {
        var value: String
        var selected: Bool
    }

    static func login(formToken: String, message: String?) -> String {
        struct Model {
            var title = "Sign in"
            var formToken: String
            var message: String?
        }
        return ReviewTemplates.render(Model(formToken: formToken, message: message), "login")
    }

    static func problem(title: String, message: String) -> String {
        struct Model {
            var title: String
            var message: String
        }
        return ReviewTemplates.render(Model(title: title, message: message), "problem")
    }

    static func tags(_ counts: [String: Int]) -> [Tag] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map {
            Tag(name: $0.key, count: $0.value)
        }
    }

    /// A link to the record page.
    static func link(_ record: SourcedDecision) -> String {
        "/records/\(record.directory)/\(QueryString.encode(record.entry.id ?? ""))"
    }

    static func client(_ client: AuditClient?) -> String {
        guard let client else { return "-" }
        return [client.name, client.ip, client.subject].compactMap { $0 }.joined(separator: " · ")
    }

    static func findings(_ entry: AuditEntry) -> String {
        (entry.findings ?? []).map { "\($0.id)×\($0.count)" }.joined(separator: " ")
    }
}
