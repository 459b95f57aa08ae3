import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The leaks an adversarial review found after issue 11's fixes, one test each (each fails on the code before its
/// fix): see the commit that adds each test.
@Suite struct ReviewLeakTests {
    static let multipartType = "multipart/form-data; boundary=XyZ"
    static let policy = makePolicy(
        terms: [codenames],
        patterns: [PatternRule(id: "run-id", label: "RUN_ID", action: .redact, regex: "[0-9]{6}")]
    )

    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(Self.policy)
    }

    // MARK: Multipart: a part's declared type never changes

    /// A part's Content-Type that redaction would change (inside its `type/subtype`, or in a value that is not a
    /// media type at all, which the engine judged by content) is refused: the vendor would read a type nobody
    /// inspected. A codename in another parameter is redacted as before.
    @Test func aPartWhoseContentTypeRedactionWouldChangeIsRefused() {
        for contentType in [
            "text/x-Nightingale", "text/plain Nightingale", "Nightingale", "application/Nightingale+json",
        ] {
            let body =
                "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: \(contentType)\r\n\r\n{\"k\":\"v\"}\r\n--XyZ--\r\n"
            let outcome = redacted(redactor, body, type: Self.multipartType)
            #expect(outcome.isUninspectable, "\(contentType): \(outcome)")
        }
        let parameter =
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; name=Nightingale\r\n\r\nhello\r\n--XyZ--\r\n"
        let out = forwarded(redactor, parameter, type: Self.multipartType) ?? ""
        #expect(out.contains("Content-Type: text/plain; name=[REDACTED:CODENAME]\r\n"), "\(out)")
    }

    // MARK: A name glued to a neighbouring match

    /// `881234Nightingale812345`: once the run ids on each side are redacted, the codename stands alone in what
    /// leaves, so it is redacted too, in every format. Glued to text that stays, it is not a whole word and stays.
    @Test func aNameFreedByTheReplacementsAroundItIsRedacted() throws {
        for (type, body) in [
            ("application/json", #"{"note":"881234Nightingale812345"}"#),
            ("application/json", #"{"note":"see 881234Nightingale"}"#),
            ("text/plain", "run 881234Nightingale812345 failed"),
            ("application/x-www-form-urlencoded", "a=Nightingale881234&b=1"),
        ] {
            let out = try #require(forwarded(redactor, body, type: type))
            #expect(!out.contains("Nightingale"), "\(type): \(out)")
            #expect(out.contains("REDACTED"), "\(type): \(out)")
        }
        let kept = try #require(forwarded(redactor, #"{"note":"xNightingaley 881234"}"#))
        #expect(kept == #"{"note":"xNightingaley [REDACTED:RUN_ID]"}"#)
    }

    // MARK: Credential members in JSON

    /// `{"password": "hunter2-long-secret"}` is the assignment `password=hunter2-long-secret` written as JSON: the
    /// `secret` detector judges the value as it judges the text form, in both JSON walkers and in NDJSON. Lookalikes
    /// (a key that only starts with a credential's name, a typed placeholder, a number) stay.
    @Test func aCredentialMemberInJSONIsJudgedLikeAnAssignment() throws {
        let policy = makePolicy(detectors: [DetectorRule(kind: .secret, action: .redact)])
        for engine in [try makeRedactor(policy), try makeRedactor(policy, stringKernel: false)] {
            for (type, body) in [
                ("application/json", #"{"password": "hunter2-long-secret"}"#),
                ("application/json", #"{"db": {"Api-Key" :"Zk3pQ9wX7mLr2Tn8Vb4Yc6Hd"}, "n": 1}"#),
                ("application/json", #"{"clientSecret":"s3cr3t-V4lue!x9"}"#),
                ("application/json", #"[{"auth_token":"q8W2e4R6t8Y0u2I4o6P8"}]"#),
                ("application/json", #"{"p\u0061ssword": "hunter2-long-secret"}"#),
                ("application/x-ndjson", #"{"a":1}"# + "\n" + #"{"password":"hunter2-long-secret"}"# + "\n"),
            ] {
                let out = try #require(forwarded(engine, body, type: type))
                #expect(out.contains("[REDACTED:SECRET]"), "\(body): \(out)")
                for secret in [
                    "hunter2-long-secret", "Zk3pQ9wX7mLr2Tn8Vb4Yc6Hd", "s3cr3t-V4lue!x9", "q8W2e4R6t8Y0u2I4o6P8",
                ] {
                    #expect(!out.contains(secret), "\(body): \(out)")
                }
            }
            for control in [
                #"{"password_hint": "your pet's name"}"#, #"{"token_count": 512}"#,
                #"{"password_hint": "Qx7-Lm2-Kp9-Zr4"}"#, #"{"token_count": "1234567890123"}"#,
                #"{"password": "changeme"}"#, #"{"secretary": "Jane-Doe-42x"}"#,
                #"{"tokens": ["hunter2-long-secret"]}"#, #"{"password": {"policy": "min-8-chars"}}"#,
                #"{"bypass": "Zk3pQ9wX7mLr2Tn8Vb4Yc6Hd"}"#,
            ] {
                #expect(forwarded(engine, control) == control, "\(control)")
            }
        }
    }

    // MARK: JSON escapes of what did not change

    /// A string holding escapes keeps them where nothing was replaced, and what is encoded anew follows the string's
    /// own style (`\/`, ASCII-only `\u00e9`, HTML-safe `\u003c`); python's json (a vendor's reader) reads exactly the
    /// redacted text. Before, the whole string left decoded (`\/` became `/`, `\u003c` became `<`).
    /// `JSONCredentialMembers.isTail` spells the names' last three letters as constants: it must accept exactly
    /// those of `names` (a name whose tail it misses would let that credential member leave unjudged).
    @Test func theCredentialNameTailsAreThoseOfTheNames() {
        let tails = JSONCredentialMembers.computedTails
        let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        var accepted = Set<UInt32>()
        for a in letters {
            for b in letters {
                for c in letters {
                    let tail = UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
                    if JSONCredentialMembers.isTail(tail) { accepted.insert(tail) }
                }
            }
        }
        #expect(accepted == tails)
        #expect(Array("db_API-Key".utf8).withUnsafeBufferPointer(JSONCredentialMembers.namesCredential))
    }

    @Test func aChangedStringKeepsTheEscapesOfWhatDidNotChange() throws {
        let cases: [(body: String, out: String)] = [
            (#"{"a":"\u004eightingale \/ x"}"#, #"{"a":"[REDACTED:CODENAME] \/ x"}"#),
            (
                #"{"a":"caf\u00e9 Nightingale \u00e9t\u00e9 \ud83d\ude00"}"#,
                #"{"a":"caf\u00e9 [REDACTED:CODENAME] \u00e9t\u00e9 \ud83d\ude00"}"#
            ),
            (
                #"{"a":"Nightingale \/ caf\u00e9 \ud83d\ude00 Nightingale"}"#,
                #"{"a":"[REDACTED:CODENAME] \/ caf\u00e9 \ud83d\ude00 [REDACTED:CODENAME]"}"#
            ),
            (
                #"{"a":"\u003cb\u003eNightingale\u003c/b\u003e \u0026 Nightingale \u0026 x"}"#,
                #"{"a":"\u003cb\u003e[REDACTED:CODENAME]\u003c/b\u003e \u0026 [REDACTED:CODENAME] \u0026 x"}"#
            ),
            (
                #"{"a":"Nightingale\u2028<\/x> Nightingale"}"#,
                #"{"a":"[REDACTED:CODENAME]\u2028<\/x> [REDACTED:CODENAME]"}"#
            ),
            (
                #"{"a":"Nightingale\n\"q\" Nightingale\t\\"}"#,
                #"{"a":"[REDACTED:CODENAME]\n\"q\" [REDACTED:CODENAME]\t\\"}"#
            ),
            (
                #"{"a":"é Nightingale \u00e9 \/ Nightingale"}"#,
                #"{"a":"é [REDACTED:CODENAME] é \/ [REDACTED:CODENAME]"}"#
            ),
        ]
        var outputs: [String] = []
        for engine in [redactor, try makeRedactor(Self.policy, stringKernel: false)] {
            for (body, expected) in cases {
                let out = try #require(forwarded(engine, body))
                #expect(out == expected, "\(body)")
                outputs += [body, out]
            }
        }
        // A vendor's reader: the original with each codename replaced is exactly what it reads.
        let read = try Self.pythonReads(outputs)
        for pair in stride(from: 0, to: read.count, by: 2) {
            #expect(read[pair].replacingOccurrences(of: "Nightingale", with: "[REDACTED:CODENAME]") == read[pair + 1])
        }
    }

    /// The `"a"` member of each document as python's `json` reads it.
    static func pythonReads(_ documents: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import json,sys; print(json.dumps([json.loads(l)['a'] for l in sys.stdin.read().split('\\n') if l]))",
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(documents.joined(separator: "\n").utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String])
    }

    // MARK: Base64 text out of step with its run

    /// Base64 text behind a prefix of other base64 characters (`"x" + base64(text)`, a key name glued on) or with
    /// characters glued after it decodes to random bytes from the run's start: every alignment near the start is
    /// tried, so the text inside is inspected (the codename redacted, re-encoded in place) in JSON, text and form
    /// bodies. A random run of the same length behind the same prefixes stays as it is.
    @Test func base64TextOutOfStepWithItsRunIsInspected() throws {
        let secret =
            "Launch plan for Nightingale: " + String(repeating: "ordinary planning words and more words ", count: 6)
        let encoded = Data(secret.utf8).base64EncodedString()
        #expect(encoded.count >= 256)
        for engine in [redactor, try makeRedactor(Self.policy, stringKernel: false)] {
            for shifted in [
                "x" + encoded, "ab" + encoded, "key" + encoded, "hello" + encoded, "abcd" + encoded,
                "apikeyvalue" + encoded, encoded.replacingOccurrences(of: "=", with: "") + "x", "x" + encoded + "x",
                "q" + encoded.replacingOccurrences(of: "=", with: "") + "yz",
            ] {
                for (type, body) in [
                    ("application/json", #"{"blob":"\#(shifted)"}"#), ("text/plain", "blob: \(shifted) end"),
                    ("application/x-www-form-urlencoded", "blob=\(shifted.replacingOccurrences(of: "+", with: "%2B"))"),
                ] {
                    let outcome = redacted(engine, body, type: type)
                    guard case .forward(let bytes, let findings) = outcome else {
                        Issue.record("\(shifted.prefix(8)) in \(type): \(outcome)")
                        continue
                    }
                    let out = String(decoding: bytes, as: UTF8.self)
                    #expect(out != body, "\(shifted.prefix(8)) in \(type)")
                    #expect(findings.contains { $0.rule == "codenames" }, "\(shifted.prefix(8)) in \(type)")
                }
            }
            // Random bytes behind the same prefixes: nothing to inspect, nothing changes.
            let random = Data(EmbeddedFixtures.randomBytes(300, seed: 41)).base64EncodedString()
            for shifted in ["x" + random, "ab" + random, "key" + random] {
                let body = #"{"blob":"\#(shifted)"}"#
                #expect(forwarded(engine, body) == body)
            }
        }
    }

    /// A prefix of whole quanta that decode to letters (`hello` + base64: `ello` reads `zYh`) glues onto the text's
    /// first word (`zYhNightingale`, not a whole word): the text is also read from each quantum boundary near its
    /// start, so the name is found.
    @Test func aPrefixWhoseQuantaReadAsLettersDoesNotHideTheFirstWord() throws {
        let secret =
            "Nightingale status report: " + String(repeating: "the labelers agreed on most boxes today. ", count: 6)
        let encoded = Data(secret.utf8).base64EncodedString()
        for engine in [redactor, try makeRedactor(Self.policy, stringKernel: false)] {
            for prefix in ["hello", "abcdefgh", "zzzz"] {
                let body = #"{"blob":"\#(prefix + encoded)"}"#
                let outcome = redacted(engine, body)
                #expect(outcome.findings.contains { $0.rule == "codenames" }, "\(prefix): \(outcome)")
                #expect(outcome.forwardedBody.map { String(decoding: $0, as: UTF8.self) } != body, "\(prefix)")
            }
        }
    }

    // MARK: A field's name as hotword context

    /// `launch=Q4%202026` in a form, or a multipart text field named `launch_quarter` holding `Q2 2027`: the field's
    /// name is context for a hotword pattern, as a JSON value's key is. A name without a hotword adds nothing.
    @Test func aFieldNameIsHotwordContextForItsValue() throws {
        let policy = makePolicy(patterns: [
            PatternRule(
                id: "quarter",
                label: "ROADMAP",
                action: .redact,
                regex: "Q[1-4] 20[0-9]{2}",
                near: ["launch"],
                within: 20
            )
        ])
        let engine = try makeRedactor(policy)
        for (type, body) in [
            ("application/x-www-form-urlencoded", "launch=Q4%202026&n=1"),
            ("application/x-www-form-urlencoded", "launch_quarter=Q4+2026"),
            (
                Self.multipartType,
                "--XyZ\r\nContent-Disposition: form-data; name=\"launch-quarter\"\r\n\r\nQ4 2026\r\n--XyZ--\r\n"
            ),
        ] {
            let out = try #require(forwarded(engine, body, type: type))
            #expect(!out.contains("Q4") && out.contains("REDACTED"), "\(body): \(out)")
        }
        for (type, body) in [
            ("application/x-www-form-urlencoded", "quarter=Q4+2026&launch_note=x"),
            (
                Self.multipartType,
                "--XyZ\r\nContent-Disposition: form-data; name=\"quarter\"\r\n\r\nQ4 2026\r\n--XyZ--\r\n"
            ),
        ] {
            #expect(forwarded(engine, body, type: type) == body)
        }
    }
}
