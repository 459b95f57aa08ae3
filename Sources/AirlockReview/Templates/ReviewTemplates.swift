import Mustache

/// The console's Mustache templates, compiled once. Every value is written with `{{name}}`, which escapes it; no
/// template uses `{{{name}}}` or `{{&name}}` (a test reads every template for them), so nothing read from a record
/// reaches the page as markup.
enum ReviewTemplates {
    static let sources: [String: String] = [
        "header": header,
        "footer": footer,
        "login": login,
        "overview": overview,
        "decisions": decisions,
        "record": record,
        "segment": segment,
        "exposure": exposure,
        "problem": problem,
    ]

    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, source) in sources {
            // The templates are constants of this module: one that does not parse is a programming error.
            try! library.register(source, named: name)
        }
        return library
    }()

    static func render(_ model: Any, _ name: String) -> String {
        guard let page = library.render(model, withTemplate: name) else {
            preconditionFailure("no template \(name)")
        }
        return page
    }

    static let header = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>{{title}} · Airlock review</title><link rel="stylesheet" href="/static/console.css"></head>
        <body><header><span class="brand">Airlock review</span>
        {{#chrome}}<nav><a href="/">Overview</a><a href="/decisions">Decisions</a><a href="/exposure">Exposure</a>
        {{#formToken}}<form method="post" action="/logout" class="inline"><input type="hidden" name="form_token"
        value="{{formToken}}"><button type="submit">Log out</button></form>{{/formToken}}</nav>{{/chrome}}
        </header><main>
        <h1>{{title}}</h1>

        """

    static let footer = """
        </main></body></html>

        """

    static let problem = """
        {{> header}}<p class="problem" id="problem">{{message}}</p>
        {{> footer}}
        """
}
