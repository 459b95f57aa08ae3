import AirlockSupport
import Foundation
import HTTPTypes
import Hummingbird

/// Answers every request to the console: authentication first, then the page, then the security headers on
/// whatever the answer is (a page, a refusal, a 404 or an error).
public struct ReviewResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let console: ReviewConsole
    /// The largest form body read (the login and logout forms are a few hundred bytes).
    static let largestForm = 4096
    static let perPage = 50

    public init(console: ReviewConsole) {
        self.console = console
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        var response: Response
        do {
            response = try await route(request)
        } catch {
            response = problem(.badRequest, "The request could not be read.")
        }
        SecurityHeaders.apply(to: &response.headers, https: console.isHTTPS)
        return response
    }

    private func route(_ request: Request) async throws -> Response {
        var request = request
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let path = Array(segments)
        let query = QueryString.parse(Substring(request.uri.query ?? ""))
        switch (request.method, path.first ?? "") {
        case (.get, "static") where path == ["static", "console.css"]:
            return Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ConsoleStyle.css))
            )
        case (.get, "login") where path.count == 1:
            return loginPage(request, status: .ok, message: nil)
        case (.post, "login") where path.count == 1:
            let form = try await formFields(&request)
            return logIn(request, form: form)
        case (.get, _), (.post, "logout"):
            break
        default:
            return problem(.methodNotAllowed, "This console is read-only.")
        }
        guard let who = authenticate(request) else {
            return loginPage(request, status: .unauthorized, message: nil)
        }
        let pages = ReviewPages(console: console, formToken: who.formToken)
        switch (request.method, path.first ?? "", path.count) {
        case (.post, "logout", 1):
            let form = try await formFields(&request)
            guard let sessionID = who.sessionID, let formToken = who.formToken,
                ConstantTime.equal(Array(formToken.utf8), Array((form["form_token"] ?? "").utf8))
            else { return problem(.forbidden, "The logout form is not this session's.") }
            console.sessions.end(sessionID)
            var response = redirect(to: "/login")
            response.headers.append(HTTPField(name: .setCookie, value: expiredCookie(console.sessionCookie)))
            return response
        case (.get, "", 1):
            return html(.ok, pages.overview())
        case (.get, "decisions", 1):
            let page = Int(query["page"]?.prefix(9) ?? "1") ?? 1
            return html(.ok, pages.decisions(ReviewFilter(parameters: query), page: page, perPage: Self.perPage))
        case (.get, "decisions.csv", 1):
            return ReviewExport.csv(console.index, ReviewFilter(parameters: query))
        case (.get, "decisions.json", 1):
            return ReviewExport.json(console.index, ReviewFilter(parameters: query))
        case (.get, "records", 3):
            guard let directory = Int(path[1].prefix(4)), let id = QueryString.decode(path[2][...]),
                let position = console.index.record(directory: directory, id: id)
            else { return problem(.notFound, "No such record.") }
            return html(.ok, pages.record(position))
        case (.get, "exposure", 1):
            return html(.ok, pages.exposure(vendor: query["vendor"]))
        default:
            return problem(.notFound, "No such page.")
        }
    }

    /// Who is asking: a bearer token, or a live session cookie (with that session's form token).
    private func authenticate(_ request: Request) -> (sessionID: String?, formToken: String?)? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", console.tokens.accepts(String(parts[1])) else {
                return nil
            }
            return (nil, nil)
        }
        guard let id = request.cookies[console.sessionCookie]?.value, let session = console.sessions.session(id) else {
            return nil
        }
        return (id, session.formToken)
    }

    private func logIn(_ request: Request, form: [String: String]) -> Response {
        let formCookie = request.cookies[console.loginCookie]?.value ?? ""
        guard console.sessions.consumeLoginForm(cookie: formCookie, formToken: form["form_token"] ?? "") else {
            return loginPage(
                request,
                status: .forbidden,
                message: "The sign-in form expired or was not this console's: try again."
            )
        }
        guard console.tokens.accepts(form["token"] ?? "") else {
            return loginPage(request, status: .unauthorized, message: "That token is not a reviewer's.")
        }
        // A new id every time: whatever session cookie the browser held (planted or not) is replaced.
        let id = console.sessions.newSession()
        var response = redirect(to: "/")
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: cookie(console.sessionCookie, id, maxAge: Int(console.sessions.lifetime))
            )
        )
        response.headers.append(HTTPField(name: .setCookie, value: expiredCookie(console.loginCookie)))
        return response
    }

    private func loginPage(_ request: Request, status: HTTPResponse.Status, message: String?) -> Response {
        let form = console.sessions.loginForm(reusing: request.cookies[console.loginCookie]?.value)
        var response = html(status, ReviewPages.login(formToken: form.formToken, message: message))
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: cookie(console.loginCookie, form.cookie, maxAge: Int(console.sessions.formLifetime))
            )
        )
        if status == .unauthorized {
            response.headers[.wwwAuthenticate] = "Bearer realm=\"airlock-review\""
        }
        return response
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(console.isHTTPS ? "; Secure" : "")"
    }

    private func expiredCookie(_ name: String) -> String { cookie(name, "", maxAge: 0) }

    private func formFields(_ request: inout Request) async throws -> [String: String] {
        let body = try await request.collectBody(upTo: Self.largestForm)
        return QueryString.parse(Substring(String(buffer: body)))
    }

    private func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func html(_ status: HTTPResponse.Status, _ page: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: page))
        )
    }

    private func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        html(status, ReviewPages.problem(title: "\(status.code) \(status.reasonPhrase)", message: message))
    }
}
