import AirlockSupport
import Foundation
import Testing

@testable import AirlockReview

/// The console over HTTP, as curl sees it: who gets in, what every response carries, and that nothing planted in a
/// record reaches the page as markup or the CSV as a formula.
@Suite("Review console: authentication, headers, escaping", .serialized)
struct ReviewConsoleSecurityTests {
    static let csp =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    @Test func refusedWithoutATokenOrWithAWrongOne() async throws {
        let fixture = try await ReviewFixture.started()
        for arguments in [
            [fixture.base + "/"], [fixture.base + "/decisions"], [fixture.base + "/records/0/plain-1"],
            [fixture.base + "/decisions.csv"], ["-H", "Authorization: Bearer wrong", fixture.base + "/decisions"],
            ["-H", "Authorization: Basic \(ReviewFixture.token)", fixture.base + "/decisions"],
            ["-H", "Authorization: Bearer \(ReviewFixture.token)x", fixture.base + "/decisions"],
        ] {
            let response = try await ConsoleHTTP.run(arguments)
            #expect(response.status == 401, "\(arguments)")
            #expect(response.body.contains("id=\"login\""))
            #expect(!response.body.contains("plain-"), "no record on a refused page: \(arguments)")
        }
        let allowed = try await ConsoleHTTP.bearer(fixture, "/decisions")
        #expect(allowed.status == 200)
        #expect(allowed.body.contains("plain-110") || allowed.body.contains("/records/0/"))
    }

    @Test func aForgedOrPlantedSessionCookieIsRefused() async throws {
        let fixture = try await ReviewFixture.started()
        for cookie in [SessionTable.randomToken(), "", "../../etc/passwd", String(repeating: "a", count: 5000)] {
            let response = try await ConsoleHTTP.run(["-b", "airlock-review=\(cookie)", fixture.base + "/decisions"])
            #expect(response.status == 401)
        }
    }

    /// Signs in through the form: the login page's cookie and hidden token, then the session cookie.
    static func signIn(_ fixture: ReviewFixture, planted: String? = nil) async throws -> (ConsoleResponse, String?) {
        let form = try await ConsoleHTTP.run([fixture.base + "/login"])
        let loginCookie = try #require(form.headers("set-cookie").first { $0.hasPrefix("airlock-review-login=") })
        let cookieValue = String(loginCookie.split(separator: ";")[0].dropFirst("airlock-review-login=".count))
        let formToken = try #require(form.body.firstMatch(of: /name="form_token" value="([0-9a-f]{64})"/)?.1)
        var cookies = "airlock-review-login=\(cookieValue)"
        if let planted { cookies += "; airlock-review=\(planted)" }
        let response = try await ConsoleHTTP.run([
            "-b", cookies, "--data-urlencode", "token=\(ReviewFixture.token)", "--data-urlencode",
            "form_token=\(formToken)", fixture.base + "/login",
        ])
        let session = response.headers("set-cookie").first { $0.hasPrefix("airlock-review=") }
            .map { String($0.split(separator: ";")[0].dropFirst("airlock-review=".count)) }
        return (response, session)
    }

    @Test func theSignInFormSetsAStrictHttpOnlySessionCookieWithANewID() async throws {
        let fixture = try await ReviewFixture.started()
        let planted = SessionTable.randomToken()
        let (response, session) = try await Self.signIn(fixture, planted: planted)
        #expect(response.status == 303)
        let cookie = try #require(response.headers("set-cookie").first { $0.hasPrefix("airlock-review=") })
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Strict"))
        let id = try #require(session)
        #expect(id.count == 64 && id != planted, "a planted session id is never adopted")
        let signedIn = try await ConsoleHTTP.run(["-b", "airlock-review=\(id)", fixture.base + "/decisions"])
        #expect(signedIn.status == 200)
        let stillPlanted = try await ConsoleHTTP.run(["-b", "airlock-review=\(planted)", fixture.base + "/decisions"])
        #expect(stillPlanted.status == 401)

        // Logging out needs the session's form token; then the cookie is dead.
        let withoutToken = try await ConsoleHTTP.run([
            "-b", "airlock-review=\(id)", "-d", "form_token=0", fixture.base + "/logout",
        ])
        #expect(withoutToken.status == 403)
        let formToken = try #require(signedIn.body.firstMatch(of: /name="form_token"\s+value="([0-9a-f]{64})"/)?.1)
        let logout = try await ConsoleHTTP.run([
            "-b", "airlock-review=\(id)", "-d", "form_token=\(formToken)", fixture.base + "/logout",
        ])
        #expect(logout.status == 303)
        let after = try await ConsoleHTTP.run(["-b", "airlock-review=\(id)", fixture.base + "/decisions"])
        #expect(after.status == 401)
    }

    @Test func aSignInWithoutTheFormsCookieOrTokenIsRefused() async throws {
        let fixture = try await ReviewFixture.started()
        let form = try await ConsoleHTTP.run([fixture.base + "/login"])
        let formToken = try #require(form.body.firstMatch(of: /name="form_token" value="([0-9a-f]{64})"/)?.1)
        // A cross-site form post: the right reviewer token, the form token, but no login cookie (SameSite=Strict
        // keeps it from being sent; an attacker's page cannot set it).
        let withoutCookie = try await ConsoleHTTP.run([
            "--data-urlencode", "token=\(ReviewFixture.token)", "-d", "form_token=\(formToken)",
            fixture.base + "/login",
        ])
        #expect(withoutCookie.status == 403)
        #expect(!withoutCookie.headers("set-cookie").contains { $0.hasPrefix("airlock-review=") })
        // The cookie of one form with a token made up.
        let loginCookie = try #require(form.headers("set-cookie").first).split(separator: ";")[0]
        let madeUp = try await ConsoleHTTP.run([
            "-b", String(loginCookie), "--data-urlencode", "token=\(ReviewFixture.token)", "-d",
            "form_token=\(SessionTable.randomToken())", fixture.base + "/login",
        ])
        #expect(madeUp.status == 403)
        #expect(!madeUp.headers("set-cookie").contains { $0.hasPrefix("airlock-review=") })
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        let fixture = try await ReviewFixture.started()
        let bearer = ["-H", "Authorization: Bearer \(ReviewFixture.token)"]
        let cases: [([String], Int)] = [
            (bearer + [fixture.base + "/"], 200), (bearer + [fixture.base + "/decisions?vendor=scale"], 200),
            (bearer + [fixture.base + "/records/0/marked-1"], 200), (bearer + [fixture.base + "/exposure"], 200),
            (bearer + [fixture.base + "/decisions.csv"], 200), (bearer + [fixture.base + "/decisions.json"], 200),
            ([fixture.base + "/static/console.css"], 200), ([fixture.base + "/"], 401),
            (bearer + [fixture.base + "/nothing-here"], 404), (bearer + ["-X", "PUT", fixture.base + "/"], 405),
        ]
        for (arguments, status) in cases {
            let response = try await ConsoleHTTP.run(arguments)
            #expect(response.status == status, "\(arguments)")
            #expect(response.header("content-security-policy") == Self.csp, "\(arguments)")
            #expect(response.header("x-content-type-options") == "nosniff", "\(arguments)")
            #expect(response.header("x-frame-options") == "DENY", "\(arguments)")
            #expect(response.header("cache-control") == "no-store", "\(arguments)")
        }
    }

    @Test func markupPlantedInRecordsAndBodiesIsEscaped() async throws {
        let fixture = try await ReviewFixture.started()
        for path in [
            "/records/0/hostile-1", "/records/0/marked-1", "/decisions", "/",
            "/exposure?vendor=%3Cb%3Evendor%3C%2Fb%3E",
        ] {
            let page = try await ConsoleHTTP.bearer(fixture, path)
            #expect(page.status == 200, "\(path)")
            #expect(!page.body.contains("<script"), "\(path)")
            #expect(!page.body.contains("<img"), "\(path)")
            #expect(!page.body.contains("<b>"), "\(path)")
        }
        let hostile = try await ConsoleHTTP.bearer(fixture, "/records/0/hostile-1")
        #expect(hostile.body.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"))
        #expect(hostile.body.contains("&quot;&gt;&lt;img src=x onerror="))
        let overview = try await ConsoleHTTP.bearer(fixture, "/")
        #expect(overview.body.contains("&lt;b&gt;vendor&lt;/b&gt;"))
        // A filter value comes back escaped in the form too.
        let reflected = try await ConsoleHTTP.bearer(fixture, "/decisions?client=%22%3E%3Cscript%3Ex%3C%2Fscript%3E")
        #expect(!reflected.body.contains("<script"))
        #expect(reflected.body.contains("&quot;&gt;&lt;script&gt;"))
    }

    @Test func theRecordPageMarksPlaceholdersAndPseudonymsOnly() async throws {
        let fixture = try await ReviewFixture.started()
        let page = try await ConsoleHTTP.bearer(fixture, "/records/0/marked-1").body
        #expect(page.contains("<mark class=\"placeholder\">[REDACTED:CODENAME]</mark>"))
        #expect(page.contains("<mark class=\"pseudonym\">EMAIL_ABCDEFG234</mark>"))
        #expect(page.contains("<mark class=\"pseudonym\">CODENAME_QWERTY7</mark>"))
        // The same body under a record with no pseudonymising finding: placeholders marked, no token.
        let unmarked = try await ConsoleHTTP.bearer(fixture, "/records/0/hostile-1").body
        #expect(unmarked.contains("<mark class=\"placeholder\">[REDACTED:CODENAME]</mark>"))
        #expect(!unmarked.contains("<mark class=\"pseudonym\">EMAIL_"))
        #expect(!unmarked.contains("<mark class=\"pseudonym\">CODENAME_"))
        #expect(page.contains("policy-block") == false)
        #expect(page.contains("Reason: <strong>forwarded</strong>"))
        #expect(page.contains("$.who"))
        let blocked = try await ConsoleHTTP.bearer(fixture, "/records/0/blocked-1").body
        #expect(blocked.contains("Reason: <strong>policy-block: codename</strong>"))
        #expect(blocked.contains("Nothing was forwarded."))
    }

    @Test func theCSVExportGuardsFormulas() async throws {
        let fixture = try await ReviewFixture.started()
        let csv = try await ConsoleHTTP.bearer(fixture, "/decisions.csv?client=10.0.0.9")
        #expect(csv.status == 200)
        #expect(csv.header("content-type") == "text/csv; charset=utf-8")
        let lines = csv.body.split(separator: "\r\n")
        #expect(lines.count == 2)
        #expect(csv.body.contains("\"'=cmd|' /C calc'!A0\""))
        #expect(!csv.body.contains(",\"=cmd"))
        #expect(ReviewExport.cell("+1") == "\"'+1\"")
        #expect(ReviewExport.cell("-1") == "\"'-1\"")
        #expect(ReviewExport.cell("@SUM(A1)") == "\"'@SUM(A1)\"")
        #expect(ReviewExport.cell("a\"b") == "\"a\"\"b\"")
        let json = try await ConsoleHTTP.bearer(fixture, "/decisions.json?reason=policy-block")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [[String: Any]])
        #expect(items.count == 1)
        #expect(items.first?["reason"] as? String == "policy-block")
    }

    @Test func hugeOrHostileParametersAndRecordIDsAreHarmless() async throws {
        let fixture = try await ReviewFixture.started()
        let deep = try await ConsoleHTTP.bearer(fixture, "/decisions?page=99999999999999999999999")
        #expect(deep.status == 200)
        #expect(deep.body.contains("page 3 of 3"))
        let negative = try await ConsoleHTTP.bearer(fixture, "/decisions?page=-7")
        #expect(negative.body.contains("page 1 of 3"))
        let longValue = String(repeating: "x", count: 20_000)
        let long = try await ConsoleHTTP.bearer(fixture, "/decisions?vendor=\(longValue)")
        #expect(long.status == 200 || long.status == 431 || long.status == 400)
        for path in [
            "/records/0/..%2F..%2F..%2Fetc%2Fpasswd", "/records/0/../../etc/passwd", "/records/9999999999/plain-1",
            "/records/-1/plain-1", "/records/0/%00",
        ] {
            let response = try await ConsoleHTTP.run([
                "--path-as-is", "-H", "Authorization: Bearer \(ReviewFixture.token)", fixture.base + path,
            ])
            #expect(response.status == 404, "\(path)")
            #expect(!response.body.contains("root:"), "\(path)")
        }
    }

    @Test func noTemplateWritesAValueUnescaped() {
        for (name, source) in ReviewTemplates.sources {
            #expect(!source.contains("{{{"), "\(name)")
            #expect(!source.contains("{{&"), "\(name)")
        }
    }
}
