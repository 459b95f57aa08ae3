import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The `secret` detector's credential formats (`SecretFormats`), each found in JSON strings, text and form bodies, and
/// the lookalikes that must leave untouched. Tokens are generated from a fixed seed, so no real-looking credential
/// sits in the source.
@Suite struct SecretDetectorTests {
    static let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    static let lower = Array("abcdefghijklmnopqrstuvwxyz")
    static let digits = Array("0123456789")
    static let alnum = upper + lower + digits
    static let base64 = alnum + Array("+/")
    static let urlSafe = alnum + Array("_-")

    /// `count` characters drawn from `alphabet`, deterministic per `seed`.
    static func random(_ count: Int, _ alphabet: [Character], seed: UInt64) -> String {
        var g = TestGenerator(state: 0x9E37_79B9_7F4A_7C15 ^ seed &* 0x2545_F491_4F6C_DD1D)
        return String((0..<count).map { _ in alphabet[g.below(alphabet.count)] })
    }

    /// Credentials in the formats the detector covers, as they are pasted into a labeling task.
    static let secrets: [(name: String, text: String)] = [
        ("AWS access key id", "AKIA" + random(16, upper + digits, seed: 1)),
        ("AWS temporary access key id", "ASIA" + random(16, upper + digits, seed: 2)),
        ("AWS secret key in an env file", "AWS_SECRET_ACCESS_KEY=" + random(40, base64, seed: 3)),
        ("AWS secret key in YAML", "aws_secret_access_key: " + random(40, base64, seed: 4)),
        ("GitHub classic token", "ghp_" + random(36, alnum, seed: 5)),
        ("GitHub OAuth token", "gho_" + random(36, alnum, seed: 6)),
        ("GitHub user-to-server token", "ghu_" + random(36, alnum, seed: 7)),
        ("GitHub server-to-server token", "ghs_" + random(36, alnum, seed: 8)),
        ("GitHub refresh token", "ghr_" + random(36, alnum, seed: 9)),
        (
            "GitHub fine-grained token",
            "github_pat_" + random(22, alnum, seed: 10) + "_" + random(59, alnum, seed: 11)
        ),
        ("GitLab personal access token", "glpat-" + random(20, urlSafe, seed: 12)),
        ("Slack bot token", "xoxb-" + random(12, digits, seed: 13) + "-" + random(24, alnum, seed: 14)),
        ("Slack user token", "xoxp-" + random(12, digits, seed: 15) + "-" + random(32, alnum, seed: 16)),
        (
            "Slack app-level token",
            "xapp-1-A" + random(10, upper + digits, seed: 17) + "-" + random(13, digits, seed: 18) + "-"
                + random(64, lower + digits, seed: 19)
        ),
        (
            "Slack incoming webhook",
            "https://hooks.slack.com/services/T" + random(8, upper + digits, seed: 20) + "/B"
                + random(10, upper + digits, seed: 21) + "/" + random(24, alnum, seed: 22)
        ),
        ("Stripe live secret key", "sk_live_" + random(24, alnum, seed: 23)),
        ("Stripe restricted key", "rk_live_" + random(24, alnum, seed: 24)),
        ("Google API key", "AIza" + random(35, urlSafe, seed: 25)),
        ("OpenAI key", "sk-" + random(48, alnum, seed: 26)),
        ("OpenAI project key", "sk-proj-" + random(120, urlSafe, seed: 27)),
        ("Anthropic key", "sk-ant-api03-" + random(93, urlSafe, seed: 28) + "AA"),
        (
            "JWT",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbmEiLCJpYXQiOjE3MDAwMDAwMDB9."
                + random(43, urlSafe, seed: 29)
        ),
        (
            "PEM private key",
            "-----BEGIN RSA PRIVATE KEY-----\n" + random(64, base64, seed: 30) + "\n" + random(64, base64, seed: 31)
                + "\n-----END RSA PRIVATE KEY-----"
        ),
        (
            "OpenSSH private key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + random(46, base64, seed: 32)
                + "\n-----END OPENSSH PRIVATE KEY-----"
        ),
        (
            "Azure storage connection string",
            "DefaultEndpointsProtocol=https;AccountName=labdata;AccountKey=" + random(86, base64, seed: 33)
                + "==;EndpointSuffix=core.windows.net"
        ),
        ("npm token", "npm_" + random(36, alnum, seed: 34)),
        ("password assignment", "password=" + random(14, alnum + Array("!#%"), seed: 35)),
        ("api_key assignment", #"api_key: ""# + random(32, lower + digits, seed: 36) + #"""#),
        ("secret assignment", "client_secret: " + random(24, alnum, seed: 37)),
        ("token assignment", "token: " + random(40, alnum, seed: 38)),
        (
            "assignment spaced with no-break spaces",
            "password\u{00A0}:\u{202F}" + random(16, alnum + Array("#%"), seed: 39)
        ),
    ]

    /// Text that looks like a credential format and is not one.
    static let lookalikes: [String] = [
        "we use sk-learn for this", "the sk-learn-compatible-estimator-interface works", "a risk-free ask-me-anything",
        "AKIA is a prefix", "TAKIA" + random(16, upper + digits, seed: 40) + "X", "AKIA" + random(12, upper, seed: 41),
        "ghp_" + random(20, alnum, seed: 42), "ghp_ tokens start like this", "github_pat_short",
        "glpat-short", "xoxb-short", "xoxb-", "https://hooks.slack.com/services/",
        "pk_live_" + random(24, alnum, seed: 43),
        "sk_live_short", "AIzaShort", "npm_config_cache=/tmp/npm", "npm_package_name", "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbmEifQ",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX\n-----END CERTIFICATE-----", "AccountKey=short",
        "123e4567-e89b-12d3-a456-426614174000", "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw==", "password=changeme", "password: hunter2",
        "password=password123", "password=P@ssw0rd", "passphrase: correct-horse-battery-staple", "token: 5",
        "token: the smallest unit", "api_key=YOUR_API_KEY", "api_key = os.environ['OPENAI_API_KEY']",
        "secret_key = settings.SECRET_KEY", "password=${DB_PASSWORD}", "token: <redacted>", "password=xxxxxxxxxxxx",
        "api_key=sk-your-key-here", "token = self.tokenizer.encode(text)", "aws_secret_access_key = <your secret key>",
        "secret: true", "token budget: 4096 tokens",
    ]

    static let blocking = try! makeRedactor(makePolicy(detectors: [DetectorRule(kind: .secret, action: .block)]))
    static let redacting = try! makeRedactor(makePolicy(detectors: [DetectorRule(kind: .secret, action: .redact)]))

    @Test(arguments: secrets.map(\.name))
    func eachFormatBlocksInJSONTextAndForms(_ name: String) throws {
        let secret = try #require(Self.secrets.first { $0.name == name }).text
        let json = try JSONEncoderHelper.json(["note": "use \(secret) here"])
        let bodies: [(String, [UInt8])] = [
            ("application/json", json),
            ("text/plain", Array("use \(secret) here".utf8)),
            (
                "application/x-www-form-urlencoded",
                Array(("q=" + secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!).utf8)
            ),
        ]
        for (type, body) in bodies {
            let outcome = Self.blocking.redact(body: body, contentType: type, contentEncoding: nil, vendor: "v")
            #expect(outcome.blockedRule == "secret", "\(name) as \(type): \(outcome)")
        }
    }

    @Test(arguments: secrets.map(\.name))
    func aRedactedSecretLeavesNothingOfItsValue(_ name: String) throws {
        let secret = try #require(Self.secrets.first { $0.name == name }).text
        let out = try #require(forwarded(Self.redacting, "use \(secret) here", type: "text/plain"))
        #expect(out.contains("[REDACTED:SECRET]"), "\(name): \(out)")
        // The longest run of letters and digits holding a digit (key material, not a key name): none of it may leave.
        let runs = secret.split(whereSeparator: { (c: Character) in !c.isLetter && !c.isNumber }).map(String.init)
        let material = try #require(runs.filter { $0.contains { $0.isNumber } }.max { $0.count < $1.count })
        #expect(!out.contains(material), "\(name): \(out)")
    }

    @Test(arguments: lookalikes)
    func lookalikesLeaveUntouched(_ text: String) throws {
        let body = try JSONEncoderHelper.json(["note": "x \(text) y"])
        let outcome = Self.blocking.redact(
            body: body,
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.forwardedBody == body, "\(text): \(outcome)")
        #expect(forwarded(Self.blocking, "x \(text) y", type: "text/plain") == "x \(text) y")
    }

    @Test func anAssignmentKeepsItsKeyAndLosesItsValue() {
        let value = Self.random(40, Self.base64, seed: 50)
        #expect(
            forwarded(Self.redacting, "AWS_SECRET_ACCESS_KEY=\(value)\nregion=eu-west-1", type: "text/plain")
                == "AWS_SECRET_ACCESS_KEY=[REDACTED:SECRET]\nregion=eu-west-1"
        )
        #expect(
            forwarded(Self.redacting, #"db: {password: "Xk9#mP2vL8qR"}"#, type: "text/plain")
                == #"db: {password: "[REDACTED:SECRET]"}"#
        )
    }

    /// A generated value assigned inside a value judged not generated (the run of value bytes goes on through `=`)
    /// is still judged on its own: the linear-time shortcut for `password=password=…` must not skip it.
    @Test func aGeneratedValueAfterAPlaceholderInOneRunIsRedacted() {
        let secret = Self.random(40, Self.base64, seed: 51)
        let out = forwarded(Self.redacting, "password=changeme=api_key=\(secret) end", type: "text/plain") ?? ""
        #expect(!out.contains(secret), "\(out)")
    }

    @Test func aPrivateKeyIsRedactedAsAWholeBlock() throws {
        let body = Self.random(64, Self.base64, seed: 60)
        let encrypted =
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C3D4E5F\n\n\(body)\n"
            + "-----END RSA PRIVATE KEY-----"
        #expect(forwarded(Self.redacting, "a\n\(encrypted)\nb", type: "text/plain") == "a\n[REDACTED:SECRET]\nb")
        // Pasted with its line breaks escaped (a key inside a JSON string inside a string).
        let escaped = "-----BEGIN PRIVATE KEY-----\\n\(body)\\n\(body)\\n-----END PRIVATE KEY-----"
        #expect(forwarded(Self.redacting, "k=\(escaped) end", type: "text/plain") == "k=[REDACTED:SECRET] end")
        // Cut off before its end line: the key material after the header goes too.
        let truncated = try #require(
            forwarded(Self.redacting, "-----BEGIN OPENSSH PRIVATE KEY-----\n\(body)", type: "text/plain")
        )
        #expect(!truncated.contains(String(body.prefix(20))), "\(truncated)")
    }

    @Test func aBlockedSecretLeavesNoTraceInTheFindings() throws {
        let secret = try #require(Self.secrets.first { $0.name == "GitLab personal access token" }).text
        let outcome = Self.blocking.redact(
            body: Array("x \(secret)".utf8),
            contentType: "text/plain",
            contentEncoding: nil,
            vendor: "v"
        )
        guard case .block(_, let reason, let findings) = outcome else {
            Issue.record("expected block, got \(outcome)")
            return
        }
        #expect(!reason.contains(secret) && !"\(findings)".contains(secret))
    }
}
