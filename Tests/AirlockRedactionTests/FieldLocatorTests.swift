import Foundation
import Testing

@testable import AirlockRedaction

/// `FieldLocator`: named fields found by the engine's own parsers, with ranges a caller can rewrite.
@Suite struct FieldLocatorTests {
    let locator = FieldLocator(keys: ["callback_url", "callback"], topLevelKeys: ["url"])

    func locate(_ text: String, _ format: FieldLocator.Format = .json) throws -> [FieldLocator.Field] {
        try Array(text.utf8).withUnsafeBytes { bytes throws(FieldLocator.Failure) in
            try self.locator.locate(bytes, format: format)
        }
    }

    /// What each located field's range holds in `text`.
    func written(_ text: String, _ fields: [FieldLocator.Field]) -> [String?] {
        let bytes = Array(text.utf8)
        return fields.map { field in field.range.map { String(decoding: bytes[$0], as: UTF8.self) } }
    }

    @Test func jsonKeysAreComparedDecodedAtAnyDepthAndEachDuplicateIsFound() throws {
        let text = #"""
            {"\u0063allback_url": "a", "x": {"y": [{"callback": "b"}]}, "callback_url": "c\/d", "callback_url": "e",
             "z": {"url": "not top-level"}, "url": "top"}
            """#
        let fields = try self.locate(text)
        #expect(fields.map(\.key) == ["callback_url", "callback", "callback_url", "callback_url", "url"])
        #expect(fields.map(\.value) == ["a", "b", "c/d", "e", "top"])
        #expect(self.written(text, fields) == [#""a""#, #""b""#, #""c\/d""#, #""e""#, #""top""#])
        #expect(fields.allSatisfy { $0.syntax == .jsonString })
    }

    @Test func aSelectedArrayYieldsItsStringsAndItsObjectsNamedFields() throws {
        let text =
            #"{"callback": ["a", 1, ["b"], {"callback_url": "c", "other": "no"}], "n": {"callback": {"url": "no", "callback": "d"}}}"#
        let fields = try self.locate(text)
        #expect(fields.map(\.value) == ["a", "b", "c", "d"])
        #expect(fields.map(\.key) == ["callback", "callback", "callback_url", "callback"])
        #expect(self.written(text, fields) == [#""a""#, #""b""#, #""c""#, #""d""#])
    }

    @Test func aFieldInJSONHeldInAStringIsFoundWithoutARange() throws {
        let text = #"{"meta": "{\"callback_url\": \"https://x.corp.example.com/\"}"}"#
        let fields = try self.locate(text)
        #expect(fields.map(\.value) == ["https://x.corp.example.com/"])
        #expect(fields.map(\.range) == [nil])
    }

    @Test func aByteOrderMarkIsReadPastWithRangesIntoTheBodyAsSent() throws {
        let text = "\u{FEFF}" + #"{"callback_url": "u1"}"#
        let fields = try self.locate(text)
        #expect(self.written(text, fields) == [#""u1""#])
    }

    @Test func malformedBodiesFailWithTheEnginesReason() {
        for text in [#"{"callback_url": "a",}"#, #"{"callback_url": "a\ud800"}"#, "{", #"{"a": 1} x"#] {
            #expect(throws: FieldLocator.Failure.self, "\(text)") { try self.locate(text) }
        }
        #expect(throws: FieldLocator.Failure.self) { try self.locate("a%zz=1&callback_url=x", .form) }
        #expect(throws: FieldLocator.Failure.self) { try self.locate("{\"a\": 1}\n{\"callback\": ", .jsonLines) }
    }

    @Test func selectedValuesNestedWithoutEndFail() {
        let deep = String(repeating: #"{"callback": "#, count: 40) + "1" + String(repeating: "}", count: 40)
        #expect(throws: FieldLocator.Failure.self) { try self.locate(deep) }
    }

    @Test func ndjsonLinesAreEachADocumentWithTopLevelKeysPerLine() throws {
        let text = "{\"url\": \"a\"}\r\n\n{\"x\": {\"url\": \"no\", \"callback\": \"b\"}}\n"
        let fields = try self.locate(text, .jsonLines)
        #expect(fields.map(\.value) == ["a", "b"])
        #expect(self.written(text, fields) == [#""a""#, #""b""#])
    }

    @Test func formFieldsAreDecodedAndEachRepetitionIsFound() throws {
        let text = "a=1&callback%5Furl=https%3A%2F%2Fx.example%2F&callback_url=b+c&url&callback="
        let fields = try self.locate(text, .form)
        #expect(fields.map(\.key) == ["callback_url", "callback_url", "url", "callback"])
        #expect(fields.map(\.value) == ["https://x.example/", "b c", "", ""])
        #expect(self.written(text, fields) == ["https%3A%2F%2Fx.example%2F", "b+c", "", ""])
        #expect(fields.allSatisfy { $0.syntax == .formValue })
    }

    /// PHP, Rails, qs and Express file `task[callback_url]=...` under `callback_url` (the innermost bracketed name):
    /// such a field is located as that name, in forms and multipart part names alike; other brackets are not.
    @Test func bracketedFormNamesAreLocatedByTheirInnermostName() throws {
        let text =
            "task%5Bcallback_url%5D=https%3A%2F%2Fa.example%2F&a[b][callback]=c&x[callback_url][]=d&callback_url[x]=e"
        let fields = try self.locate(text, .form)
        #expect(fields.map(\.key) == ["callback_url", "callback", "callback_url"])
        #expect(fields.map(\.value) == ["https://a.example/", "c", "d"])
        let boundary = "b1"
        let multipart =
            "--b1\r\nContent-Disposition: form-data; name=\"task[callback_url]\"\r\n\r\nhttps://b.example/\r\n--b1--\r\n"
        let parts = try self.locate(multipart, .multipart(contentType: "multipart/form-data; boundary=\(boundary)"))
        #expect(parts.map(\.value) == ["https://b.example/"])
    }

    @Test func multipartPartsAreReadByTheirFormat() throws {
        let boundary = "XyZ"
        func part(_ headers: String, _ content: String) -> String {
            "--\(boundary)\r\n\(headers)\r\n\r\n\(content)\r\n"
        }
        let text =
            part(#"Content-Disposition: form-data; name="call\back_url""#, "https://a.example/")
            + part(
                "Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json",
                #"{"callback": "b"}"#
            )
            + part(
                "Content-Disposition: form-data; name=\"f\"\r\nContent-Type: application/x-www-form-urlencoded",
                "callback_url=c"
            )
            + part("Content-Disposition: form-data; name=\"callback\"\r\nContent-Type: application/json", #"["d"]"#)
            + part("Content-Disposition: form-data; name=\"other\"", "callback_url=no")
            + "--\(boundary)--\r\n"
        let fields = try self.locate(text, .multipart(contentType: "multipart/form-data; boundary=\(boundary)"))
        #expect(fields.map(\.value) == ["https://a.example/", "b", "c", "d"])
        #expect(self.written(text, fields) == ["https://a.example/", #""b""#, "c", #""d""#])
        #expect(fields.map(\.syntax) == [.text, .jsonString, .formValue, .jsonString])
    }

    @Test func encodingWritesAValueBackInItsSyntax() throws {
        let value = "https://a.example/p?q=\"x\"\\y z&w"
        let json =
            #"{"callback_url": "#
            + String(decoding: FieldLocator.encode(value, as: .jsonString), as: UTF8.self) + "}"
        #expect(try self.locate(json).map(\.value) == [value])
        let form = "callback_url=" + String(decoding: FieldLocator.encode(value, as: .formValue), as: UTF8.self)
        #expect(try self.locate(form, .form).map(\.value) == [value])
    }

    /// The quick-check comes from the names: a name with characters the old hand-written check never looked for
    /// (an upper-case letter, a digit) is seen spelled with escapes, and names it does not hold are not.
    @Test func theQuickCheckIsDerivedFromTheNames() {
        let locator = FieldLocator(keys: ["Notify2"])
        func mayHold(_ text: String, _ format: FieldLocator.Format = .json) -> Bool {
            Array(text.utf8).withUnsafeBytes { locator.mayHold($0, format: format) }
        }
        #expect(mayHold(#"{"Notify2": 1}"#))
        #expect(mayHold(#"{"\u004eotify2": 1}"#) && mayHold(#"{"Notify\u0032": 1}"#))
        #expect(mayHold("%4Eotify2=1", .form) && mayHold("Notify%32=1", .form))
        #expect(!mayHold(#"{"callback_url": "caf\u00e9"}"#) && !mayHold("a=%C3%A9", .form))
        #expect(mayHold("anything", .multipart(contentType: "multipart/form-data; boundary=x")))
        // Literal names: found at either end of the body, a name holding another found through the shorter one.
        let defaults = FieldLocator(keys: ["callback_url", "callback"], topLevelKeys: ["url"])
        for text in ["callback", "xcallback_url", "url", "a=1&callbac", "ur"] {
            let found = Array(text.utf8).withUnsafeBytes { defaults.mayHold($0, format: .form) }
            #expect(found == (text.contains("callback") || text.contains("url")), "\(text)")
        }
    }
}
