import HTTPTypes

/// Headers every console response carries, whatever its status.
enum SecurityHeaders {
    /// Nothing loads but the console's own stylesheet; no script, no frame, forms post back to the console only.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        + "base-uri 'none'"

    static func apply(to headers: inout HTTPFields, https: Bool) {
        headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        headers[.cacheControl] = "no-store"
        if https {
            headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000"
        }
    }
}
