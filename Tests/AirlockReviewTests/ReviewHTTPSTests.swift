import AirlockTLS
import Foundation
import Testing

/// With a certificate the console serves HTTPS through AirlockTLS, and its cookies are then `Secure` and
/// `__Host-` named (a browser keeps them off plain HTTP and off other hosts and paths).
@Suite("Review console over HTTPS")
struct ReviewHTTPSTests {
    @Test func servesHTTPSWithSecureHostOnlyCookies() async throws {
        let fixture = try ReviewFixture()
        try await fixture.write()
        let certificate = fixture.root.appendingPathComponent("console.pem").path
        let key = fixture.root.appendingPathComponent("console.key").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        let context = try TLSServerContext(
            configuration: TLSServerConfiguration(certificateChainPath: certificate, privateKeyPath: key)
        )
        try await fixture.serve(tls: context)
        let base = "https://127.0.0.1:\(fixture.port)"

        let refused = try await ConsoleHTTP.run(["--cacert", certificate, base + "/decisions"])
        #expect(refused.status == 401)
        let loginCookie = try #require(refused.headers("set-cookie").first)
        #expect(loginCookie.hasPrefix("__Host-airlock-review-login="))
        #expect(loginCookie.contains("; Secure"))
        #expect(refused.header("strict-transport-security") == "max-age=31536000")

        let allowed = try await ConsoleHTTP.run([
            "--cacert", certificate, "-H", "Authorization: Bearer \(ReviewFixture.token)", base + "/decisions",
        ])
        #expect(allowed.status == 200)
        #expect(allowed.body.contains("id=\"decisions\""))

        let formToken = try #require(refused.body.firstMatch(of: /name="form_token" value="([0-9a-f]{64})"/)?.1)
        let signIn = try await ConsoleHTTP.run([
            "--cacert", certificate, "-b", String(loginCookie.split(separator: ";")[0]), "--data-urlencode",
            "token=\(ReviewFixture.token)", "-d", "form_token=\(formToken)", base + "/login",
        ])
        #expect(signIn.status == 303)
        let session = try #require(signIn.headers("set-cookie").first { $0.hasPrefix("__Host-airlock-review=") })
        #expect(session.contains("; Secure") && session.contains("HttpOnly") && session.contains("SameSite=Strict"))

        // Plain HTTP to the HTTPS port gets no page.
        let plain = try await ConsoleHTTP.run(["http://127.0.0.1:\(fixture.port)/decisions"])
        #expect(plain.status != 200)
    }
}
