import AirlockSupport
import Foundation
import Synchronization

/// The console's sessions and pending login forms, held only in memory (a restart logs everyone out).
///
/// A session id is 32 random bytes made at login (never taken from the client, so a planted cookie cannot become a
/// session), kept under its SHA-256, and ends after `lifetime` or at logout. Each session has its own form token for
/// the logout form. A login form carries a token bound to a cookie set with the form (both must come back, once,
/// within `formLifetime`), so a login cannot be forged from another site even where SameSite is not honoured.
public final class SessionTable: Sendable {
    public struct Session: Sendable {
        public var expires: Date
        /// The form token of this session's POST forms (logout).
        public var formToken: String
    }

    let lifetime: TimeInterval
    let formLifetime: TimeInterval
    /// The most sessions and pending login forms kept; the oldest go first.
    static let mostEntries = 10_000

    private struct State {
        var sessions: [String: Session] = [:]
        /// Login cookie digest -> (form token, expiry).
        var logins: [String: (formToken: String, expires: Date)] = [:]
    }
    private let state = Mutex(State())

    public init(lifetime: TimeInterval = 8 * 3600, formLifetime: TimeInterval = 600) {
        self.lifetime = lifetime
        self.formLifetime = formLifetime
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// A login form: the cookie to set and the token for the form's hidden field. A browser that still holds a
    /// pending login cookie gets that cookie's token again (a second tab, or a favicon fetched while the form is
    /// shown, must not unbind the form already on screen); otherwise a new pair is made.
    public func loginForm(reusing presented: String?, now: Date = Date()) -> (cookie: String, formToken: String) {
        if let presented, !presented.isEmpty {
            let pending = state.withLock { $0.logins[SHA256.hex(presented)] }
            if let pending, pending.expires > now { return (presented, pending.formToken) }
        }
        let cookie = Self.randomToken()
        let formToken = Self.randomToken()
        state.withLock { state in
            state.logins = state.logins.filter { $0.value.expires > now }
            if state.logins.count >= Self.mostEntries,
                let oldest = state.logins.min(by: { $0.value.expires < $1.value.expires })
            {
                state.logins[oldest.key] = nil
            }
            state.logins[SHA256.hex(cookie)] = (formToken, now.addingTimeInterval(formLifetime))
        }
        return (cookie, formToken)
    }

    /// Whether `formToken` is the one issued with the login cookie `cookie`; either way the pair is used up.
    public func consumeLoginForm(cookie: String, formToken: String, now: Date = Date()) -> Bool {
        guard !cookie.isEmpty else { return false }
        let pending = state.withLock { $0.logins.removeValue(forKey: SHA256.hex(cookie)) }
        guard let pending, pending.expires > now else { return false }
        return ConstantTime.equal(Array(pending.formToken.utf8), Array(formToken.utf8))
    }

    /// A new session: its id, for the cookie.
    public func newSession(now: Date = Date()) -> String {
        let id = Self.randomToken()
        state.withLock { state in
            state.sessions = state.sessions.filter { $0.value.expires > now }
            if state.sessions.count >= Self.mostEntries,
                let oldest = state.sessions.min(by: { $0.value.expires < $1.value.expires })
            {
                state.sessions[oldest.key] = nil
            }
            state.sessions[SHA256.hex(id)] = Session(
                expires: now.addingTimeInterval(lifetime),
                formToken: Self.randomToken()
            )
        }
        return id
    }

    /// The live session with this id, if any.
    public func session(_ id: String, now: Date = Date()) -> Session? {
        guard !id.isEmpty else { return nil }
        let key = SHA256.hex(id)
        return state.withLock { state in
            guard let session = state.sessions[key] else { return nil }
            guard session.expires > now else {
                state.sessions[key] = nil
                return nil
            }
            return session
        }
    }

    public func end(_ id: String) {
        let key = SHA256.hex(id)
        _ = state.withLock { $0.sessions.removeValue(forKey: key) }
    }
}
