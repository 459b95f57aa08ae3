import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// Files and documents embedded in text as `data:` URLs or long base64 are decoded and inspected by their type: text
/// through the engine (re-encoded the same way), binary the policy cannot inspect refused under
/// `content.unknown: block`. Identifiers, hashes, tokens and random nonces that merely look like base64 leave as they
/// are. Every case runs with the C kernel walk and with the Swift reference walker.
@Suite struct EmbeddedPayloadTests {
    static let policy = makePolicy(
        terms: [codenames],
        patterns: [PatternRule(id: "quarter", label: "ROADMAP", action: .redact, regex: "Q[1-4] 20[0-9]{2}")],
        detectors: [DetectorRule(kind: .secret, action: .block)]
    )

    let engines: [Redactor]

    init() throws {
        engines = [try makeRedactor(Self.policy), try makeRedactor(Self.policy, stringKernel: false)]
    }

    static let screenshot = "data:image/png;base64," + EmbeddedFixtures.base64(EmbeddedFixtures.png())
    static let secretText = "Launch plan for Nightingale in Q3 2026; ask the Nightingale team."

    /// The same payload in every body format that carries text.
    static func bodies(_ payload: String) -> [(type: String, body: String)] {
        let encoded = payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let json = #"{"task":{"attachments":[{"screenshot":"\#(jsonEscaped(payload))"}],"note":"see image"}}"#
        let rowData = #"{"image":"\#(jsonEscaped(payload))"}"#
        let boundary = "XyZ42"
        return [
            ("application/json", json),
            ("application/x-ndjson", #"{"a":1}"# + "\n" + json + "\n"),
            ("application/x-www-form-urlencoded", "note=see+image&screenshot=\(encoded)"),
            (
                "multipart/form-data; boundary=\(boundary)",
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"screenshot\"\r\n\r\n\(payload)\r\n--\(boundary)--\r\n"
            ),
            ("text/plain", "Screenshot follows: \(payload)"),
            // JSON in a string (Labelbox `row_data`), the payload in it.
            ("application/json", #"{"row_data":"\#(jsonEscaped(rowData))"}"#),
        ]
    }

    // MARK: Refused

    @Test func aPNGScreenshotInADataURLIsRefusedInEveryFormat() throws {
        for (type, body) in Self.bodies(Self.screenshot) {
            for engine in engines {
                let outcome = redacted(engine, body, type: type)
                guard case .uninspectable(let reason, let findings) = outcome else {
                    Issue.record("\(type): expected a refusal, got \(outcome)")
                    continue
                }
                #expect(reason.contains("embedded image/png payload cannot be inspected"), "\(type): \(reason)")
                // Neither the payload nor the key that holds it.
                #expect(!reason.contains("iVBOR") && !reason.contains("screenshot") && !reason.contains("image\\"))
                #expect(findings.contains { $0.rule == "content.unknown" && $0.action == "block" }, "\(type)")
            }
        }
    }

    @Test(arguments: [
        ("image/jpeg", EmbeddedFixtures.jpeg()), ("application/gzip", EmbeddedFixtures.gzip),
        ("application/pdf", EmbeddedFixtures.pdf), ("application/zip", EmbeddedFixtures.zip),
        ("image/png", EmbeddedFixtures.png()),
    ])
    func longBase64OfAKnownFileTypeIsRefusedWithoutADataURL(type: String, file: [UInt8]) throws {
        let padded = file + EmbeddedFixtures.padding
        for payload in [
            EmbeddedFixtures.base64(padded), EmbeddedFixtures.urlSafeBase64(padded),
            // Wrapped as MIME writes it, and behind a name or a path in the same run of base64 characters.
            Self.wrapped(EmbeddedFixtures.base64(padded), width: 76), "img=" + EmbeddedFixtures.base64(padded),
            "uploads/2026/" + EmbeddedFixtures.base64(padded),
        ] {
            for (format, body) in Self.bodies(payload) {
                for engine in engines {
                    let outcome = redacted(engine, body, type: format)
                    guard case .uninspectable(let reason, _) = outcome else {
                        Issue.record("\(type) in \(format): expected a refusal, got \(outcome)")
                        continue
                    }
                    #expect(reason.contains("embedded \(type) payload"), "\(reason)")
                }
            }
        }
    }

    @Test func aDataURLOfAnyBinaryTypeIsRefusedEvenWhenItsBytesAreOfNoKnownType() throws {
        let random = EmbeddedFixtures.randomBytes(40, seed: 99)
        for payload in [
            "data:application/octet-stream;base64," + EmbeddedFixtures.base64(random),
            "DATA:image/x-custom;BASE64," + EmbeddedFixtures.base64(random),
            // Percent-encoded bytes: a PNG, and random bytes.
            "data:image/png," + EmbeddedFixtures.png().map { String(format: "%%%02X", $0) }.joined(),
            "data:," + random.map { String(format: "%%%02X", $0) }.joined(),
        ] {
            for engine in engines {
                let outcome = redacted(engine, #"{"f":"\#(payload)"}"#)
                #expect(outcome.isUninspectable, "\(payload): \(outcome)")
            }
        }
        // A data URL that says base64 but does not hold it cannot be read: refused too.
        for engine in engines {
            #expect(redacted(engine, #"{"f":"data:text/plain;base64,%%%not base64"}"#).isUninspectable)
        }
    }

    // MARK: Inspected

    @Test func aBase64TextDataURLLeavesWithTheCodenameRedactedInsideIt() throws {
        let payload = "data:text/plain;base64," + EmbeddedFixtures.base64(Array(Self.secretText.utf8))
        for engine in engines {
            let body = try #require(forwarded(engine, #"{"context":"\#(payload)","n":1}"#))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let context = try #require(object["context"] as? String)
            #expect(context.hasPrefix("data:text/plain;base64,"))
            let decoded = try #require(EmbeddedFixtures.decodeBase64(String(context.dropFirst(23))))
            #expect(
                String(decoding: decoded, as: UTF8.self)
                    == "Launch plan for [REDACTED:CODENAME] in [REDACTED:ROADMAP]; ask the [REDACTED:CODENAME] team."
            )
            let outcome = redacted(engine, #"{"context":"\#(payload)"}"#)
            #expect(outcome.findings.first { $0.rule == "codenames" }?.count == 2)
        }
    }

    @Test func aLongBase64JSONDocumentIsRedactedAsJSONAndReencodedTheSameWay() throws {
        let inner = #"{"project":"Nightingale","notes":"\#(String(repeating: "ordinary words ", count: 20))"}"#
        for (encode, urlSafe) in [(EmbeddedFixtures.base64, false), (EmbeddedFixtures.urlSafeBase64, true)] {
            let payload = encode(Array(inner.utf8))
            #expect(payload.count >= 256)
            for (type, body) in Self.bodies(payload) where !type.hasPrefix("application/x-www") {
                for engine in engines {
                    let out = try #require(forwarded(engine, body, type: type))
                    #expect(!out.contains(payload), "\(type)")
                    let run = try #require(Self.longestRun(out))
                    // Written back in the alphabet it came in.
                    #expect(!urlSafe || (!run.contains("+") && !run.contains("/") && !run.contains("=")), "\(run)")
                    let decoded = String(decoding: try #require(EmbeddedFixtures.decodeBase64(run)), as: UTF8.self)
                    #expect(decoded.hasPrefix(#"{"project":"[REDACTED:CODENAME]","notes":"ordinary"#), "\(decoded)")
                }
            }
        }
    }

    @Test func aSecretInsideBase64TextBlocksTheRequest() throws {
        let payload = EmbeddedFixtures.base64(
            Array(
                #"{"config":{"aws_key":"AKIAIOSFODNN7EXAMPLE","padding":"\#(String(repeating: "x", count: 200))"}}"#
                    .utf8
            )
        )
        for engine in engines {
            #expect(redacted(engine, #"{"blob":"\#(payload)"}"#).blockedRule == "secret")
        }
    }

    @Test func wrappedAndNestedBase64TextIsInspectedAtEveryLevel() throws {
        let text = Array((Self.secretText + String(repeating: " more ordinary text", count: 12)).utf8)
        let wrapped = Self.wrapped(EmbeddedFixtures.base64(text), width: 76)
        let twice = EmbeddedFixtures.base64(Array(("data:text/plain;base64," + EmbeddedFixtures.base64(text)).utf8))
        for engine in engines {
            let out = try #require(
                forwarded(engine, "{\"a\":\"\(wrapped.replacingOccurrences(of: "\r\n", with: "\\r\\n"))\"}")
            )
            // Re-wrapped at the same width with the same line break.
            #expect(out.contains("\\r\\n"))
            let run = String(out.dropFirst(6).dropLast(2)).replacingOccurrences(of: "\\r\\n", with: "")
            #expect(
                String(decoding: EmbeddedFixtures.decodeBase64(run) ?? [], as: UTF8.self).hasPrefix(
                    "Launch plan for [REDACTED:CODENAME]"
                )
            )
            let nested = try #require(forwarded(engine, #"{"a":"\#(twice)"}"#))
            let outer = String(
                decoding: EmbeddedFixtures.decodeBase64(String(nested.dropFirst(6).dropLast(2))) ?? [],
                as: UTF8.self
            )
            let innerText = EmbeddedFixtures.decodeBase64(String(outer.dropFirst(23))) ?? []
            #expect(
                String(decoding: innerText, as: UTF8.self).hasPrefix("Launch plan for [REDACTED:CODENAME]"),
                "\(outer)"
            )
        }
    }

    @Test func aPercentEncodedDataURLIsDecodedAndReencoded() throws {
        for engine in engines {
            let out = try #require(forwarded(engine, #"{"a":"data:text/plain;charset=utf-8,Night%69ngale%20ships"}"#))
            // A quoted parameter, and a short SVG document (text, whatever its media type says).
            let svg = EmbeddedFixtures.base64(Array("<svg><text>Nightingale</text></svg>".utf8))
            let quoted = try #require(
                forwarded(engine, #"{"a":"data:image/svg+xml;charset=\"utf-8\";base64,\#(svg)"}"#)
            )
            #expect(!quoted.contains(svg) && quoted.hasPrefix(#"{"a":"data:image/svg+xml;charset=\"utf-8\";base64,"#))
            #expect(out == #"{"a":"data:text/plain;charset=utf-8,%5BREDACTED:CODENAME%5D%20ships"}"#, "\(out)")
        }
    }

    /// Found by the fuzz-json target: a data: URL's header (media type, parameters) was skipped, so a codename written
    /// there (`data:Nightingale,x`, a `name=` parameter, even a JSON key such as `row_data:"Tidewater"`) left as is.
    @Test func aDataURLsMediaTypeAndParametersAreInspectedToo() throws {
        for engine in engines {
            for body in [
                #"{"a":"data:Nightingale,hello"}"#, #"{"a":"see data:text/plain;name=Nightingale,hello"}"#,
                #"{"row_data:\"Nightingale\",\b":"x"}"#, #"{"a":"data:text/plain;name=Nightingale;base64,aGVsbG8="}"#,
            ] {
                let out = try #require(forwarded(engine, body), "\(body)")
                #expect(!out.contains("Nightingale"), "\(body) -> \(out)")
                #expect(out.contains("[REDACTED:CODENAME]"), "\(body) -> \(out)")
            }
        }
    }

    /// Found by the adversarial review: `;base64` with spaces around it (browsers decode `data:text/plain; base64,…`)
    /// was read as a percent-encoded data URL, so its base64 text left undecoded and uninspected.
    @Test func aDataURLWithSpacesAroundBase64IsDecoded() throws {
        let digits = EmbeddedFixtures.base64(Array("Nightingale ships".utf8))
        for engine in engines {
            for header in ["text/plain; base64", "text/plain;base64 ", "text/plain ; BASE64", "text/plain;\\tbase64"] {
                let body = #"{"x":"data:\#(header),\#(digits)"}"#
                let out = try #require(forwarded(engine, body), "\(body)")
                #expect(!out.contains(digits), "\(body) -> \(out)")
            }
        }
    }

    @Test func underContentUnknownPassAPayloadLeavesAndIsCountedAsUninspected() throws {
        let pass = makePolicy(terms: [codenames], unknown: .pass)
        for engine in [try makeRedactor(pass), try makeRedactor(pass, stringKernel: false)] {
            let body = #"{"screenshot":"\#(Self.screenshot)","note":"Nightingale"}"#
            let outcome = redacted(engine, body)
            let out = try #require(outcome.forwardedBody.map { String(decoding: $0, as: UTF8.self) })
            #expect(out == #"{"screenshot":"\#(Self.screenshot)","note":"[REDACTED:CODENAME]"}"#)
            #expect(outcome.findings.contains { $0.rule == "content.unknown" && $0.action == "pass" && $0.count == 1 })
        }
    }

    // MARK: Controls

    /// Values that look like base64 but carry nothing: they leave byte-identical, with no finding.
    static let controls: [String] = [
        // Hex SHA-256, a UUID, a JWT-like id of ordinary length (a real JWT is the secret detector's to block).
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "123e4567-e89b-12d3-a456-426614174000",
        "dGFzay1pZA.c2Vzc2lvbi0xMjM0NTY3ODkwLXJldmlldy1xdWV1ZQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        // Long random nonces: base64 (standard and URL-safe) of random bytes of no known type, far over 256 characters.
        EmbeddedFixtures.base64(EmbeddedFixtures.randomBytes(600, seed: 1)),
        EmbeddedFixtures.urlSafeBase64(EmbeddedFixtures.randomBytes(300, seed: 2)),
        String(repeating: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", count: 6),
        // Prose about data, a `metadata:` key, a URL, a short run.
        "Data: the metadata: section lists https://example.com/a/b?c=d", "see data:,", "QUJD",
    ]

    @Test func identifiersHashesTokensAndRandomNoncesLeaveByteIdentical() throws {
        for control in Self.controls {
            for (type, body) in Self.bodies(control) {
                for engine in engines {
                    let outcome = redacted(engine, body, type: type)
                    #expect(outcome.forwardedBody == Array(body.utf8), "\(type): \(control.prefix(40)): \(outcome)")
                    #expect(outcome.findings.isEmpty)
                }
            }
        }
    }

    // MARK: Declared base64 fields

    @Test func aFieldDeclaredBase64IsDecodedWhateverItsLength() throws {
        let policy = Policy(
            name: "declared",
            terms: [codenames],
            encodedFields: [EncodedField(path: try JSONPath(parsing: "$..blob"), encoding: .base64)]
        )
        let short = EmbeddedFixtures.base64(Array("Nightingale".utf8))
        let random = EmbeddedFixtures.base64(EmbeddedFixtures.randomBytes(30, seed: 5))
        for engine in [try makeRedactor(policy), try makeRedactor(policy, stringKernel: false)] {
            for (type, body) in [
                ("application/json", #"{"x":{"blob":"\#(short)"},"other":"\#(short)"}"#),
                (
                    "application/x-www-form-urlencoded",
                    "blob=\(short.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
                ),
                (
                    "multipart/form-data; boundary=b1",
                    "--b1\r\nContent-Disposition: form-data; name=\"blob\"\r\n\r\n\(short)\r\n--b1--\r\n"
                ),
            ] {
                let out = try #require(forwarded(engine, body, type: type))
                #expect(!out.contains(short) || out.contains(#""other":"\#(short)""#), "\(out)")
                let redactedRun = EmbeddedFixtures.base64(Array("[REDACTED:CODENAME]".utf8))
                #expect(
                    out.contains(redactedRun)
                        || out.contains(redactedRun.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!),
                    "\(out)"
                )
            }
            // Short undeclared base64 is an ordinary string.
            #expect(forwarded(engine, #"{"other":"\#(short)"}"#) == #"{"other":"\#(short)"}"#)
            // Declared, but random bytes: content the policy cannot inspect; not base64 at all: refused.
            #expect(redacted(engine, #"{"blob":"\#(random)"}"#).isUninspectable)
            #expect(redacted(engine, #"{"blob":"not base64!"}"#).isUninspectable)
            #expect(forwarded(engine, #"{"blob":""}"#) == #"{"blob":""}"#)
        }
    }

    // MARK: Support

    static func jsonEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func wrapped(_ text: String, width: Int) -> String {
        var lines: [Substring] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            lines.append(rest.prefix(width))
            rest = rest.dropFirst(width)
        }
        return lines.joined(separator: "\r\n")
    }

    /// The longest run of base64 characters in `text` (a JSON string's content between quotes, a form value).
    static func longestRun(_ text: String) -> String? {
        let runs = text.split { !($0.isLetter && $0.isASCII) && !$0.isNumber && !"+/-_=".contains($0) }
        return runs.max { $0.count < $1.count }.map(String.init)
    }
}

extension EmbeddedPayloadTests {
    /// A small file (an icon, a thumbnail) as a value of its own is shorter than a run, but its metadata can still
    /// name a codename: a value starting with the base64 of a magic number is that file. JSON writers that escape
    /// `/` (`\/`) and `\u` escapes change nothing.
    @Test func aSmallImageValueIsRefusedWhateverItsLengthAndEscapes() throws {
        let png = EmbeddedFixtures.base64(EmbeddedFixtures.png())
        #expect(png.count < 256)
        let jpeg = EmbeddedFixtures.urlSafeBase64(Array(EmbeddedFixtures.jpeg().prefix(60)))
        for (type, payload) in [("image/png", png), ("image/jpeg", jpeg)] {
            for (format, body) in Self.bodies(payload) where format != "text/plain" {
                for engine in engines {
                    guard case .uninspectable(let reason, _) = redacted(engine, body, type: format) else {
                        Issue.record("\(type) in \(format): expected a refusal")
                        continue
                    }
                    #expect(reason.contains("embedded \(type) payload"))
                }
            }
        }
        let escaped = #"{"icon":"\#(png.replacingOccurrences(of: "/", with: "\\/"))"}"#
        let unicode = #"{"a":"\u0064ata:image/png;base64,\#(png)"}"#
        for engine in engines {
            #expect(redacted(engine, escaped).isUninspectable)
            #expect(redacted(engine, unicode).isUninspectable)
            // The same bytes, not at the start of the value, shorter than a run: text.
            let inside = #"{"a":"see \#(png)"}"#
            #expect(redacted(engine, inside).forwardedBody == Array(inside.utf8))
        }
    }
}

extension EmbeddedPayloadTests {
    /// A gzip-encoded body is decoded first, so the screenshot in it is found as in a plain one; markdown and HTML
    /// around a data URL end it where a reader's parser would.
    @Test func aScreenshotInACompressedBodyOrInMarkupIsRefused() throws {
        let compressed = Compression.compress(Array(#"{"task":"\#(Self.screenshot)"}"#.utf8), coding: .gzip)
        for markup in [
            "Compare ![before](\(Self.screenshot)) with the spec", #"<p><img src=\"\#(Self.screenshot)\"></p>"#,
        ] {
            for engine in engines {
                #expect(redacted(engine, #"{"html":"\#(markup)"}"#).isUninspectable, "\(markup.prefix(30))")
            }
        }
        // Text in markup: the payload re-encoded in place, the markup around it as it was.
        let text = EmbeddedFixtures.base64(Array("Nightingale".utf8))
        let redactedText = EmbeddedFixtures.base64(Array("[REDACTED:CODENAME]".utf8))
        for engine in engines {
            let out = forwarded(engine, #"{"md":"see ![a](data:text/plain;base64,\#(text)) end"}"#)
            #expect(out == #"{"md":"see ![a](data:text/plain;base64,\#(redactedText)) end"}"#)
            let outcome = engine.redact(
                body: compressed,
                contentType: "application/json",
                contentEncoding: "gzip",
                vendor: "scale"
            )
            #expect(outcome.isUninspectable)
        }
    }
}
