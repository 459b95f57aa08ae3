import AirlockPolicy
import Foundation

/// Finds the string values of named fields in a body, read by the engine's own parsers, for a caller that rewrites
/// them before the policy runs (the proxy's callback URLs).
///
/// JSON and NDJSON are walked by ``JSONRedactor`` (and ``JSONLinesRedactor``) with a `fields` rule per name, whose
/// selected values are handed to the locator instead of being replaced (`RedactionSession.fieldVisitor`): keys are
/// compared as the engine decodes them (`"\u0063allback_url"`), duplicate keys are each found, and so is a value in a
/// JSON document inside a string (reported without a range: it cannot be rewritten in place). A selected value that
/// is an array yields its strings (a list of URLs) and its objects' named fields; an object yields its named fields.
/// Forms are split on `&` and `=` and decoded by ``FormRedactor/decode(_:_:_:)``; multipart bodies by
/// ``Redactor/multipartParts(_:contentType:)``, each part by its own format, a part named like a field being one.
///
/// Anything the engine cannot parse throws ``Failure``: the caller refuses the body.
public struct FieldLocator: Sendable {
    /// The body formats fields are located in, as the engine reads a Content-Type.
    public enum Format: Sendable, Equatable {
        case json
        /// NDJSON / JSON Lines: every non-blank line a JSON document.
        case jsonLines
        /// `application/x-www-form-urlencoded`
        case form
        /// `multipart/form-data` (the Content-Type carries the boundary).
        case multipart(contentType: String)

        /// The format the engine reads a body of this Content-Type in; `nil` for text and types it does not parse.
        public init?(contentType: String?) {
            guard let contentType else { return nil }
            switch MediaType(contentType).format {
            case .json: self = .json
            case .jsonLines: self = .jsonLines
            case .form: self = .form
            case .multipart: self = .multipart(contentType: contentType)
            case .text, .unknown: return nil
            }
        }
    }

    /// How a located value is written, so a rewrite writes the new one the same way (``encode(_:as:)``).
    public enum Syntax: Sendable, Equatable {
        /// A JSON string token, quotes included.
        case jsonString
        /// A percent-encoded form value.
        case formValue
        /// The whole content of a multipart part, as is.
        case text
    }

    public struct Field: Sendable {
        /// Where the value is written in the body; `nil` when it is inside a document embedded in a string (JSON in a
        /// JSON string), where it cannot be rewritten in place.
        public var range: Range<Int>?
        /// The name (as configured) it was found under.
        public var key: String
        /// The value as a reader decodes it.
        public var value: String
        public var syntax: Syntax
    }

    /// Why a body cannot be read: the engine's reason.
    public struct Failure: Error, Sendable {
        public var reason: String
    }

    /// How many selected values deep (an array under a key, holding objects with the key, …) a body may nest them.
    public static let maxSelectedDepth = 32

    /// Names located at any depth, and names located only in the top-level object (of each NDJSON line, of each
    /// JSON part); a form field or multipart part of either name is located.
    public let keys: [String]
    public let topLevelKeys: [String]
    private let rules: FieldLocatorRules
    private let quickCheck: FieldLocatorQuickCheck

    public init(keys: [String], topLevelKeys: [String] = []) {
        self.keys = keys
        self.topLevelKeys = topLevelKeys
        self.rules = FieldLocatorRules(keys: keys, topLevelKeys: topLevelKeys)
        self.quickCheck = FieldLocatorQuickCheck(names: keys + topLevelKeys)
    }

    /// Every located field, in body order. `bytes` are the body as sent (not compressed).
    public func locate(_ bytes: UnsafeRawBufferPointer, format: Format) throws(Failure) -> [Field] {
        let body = bytes.bindMemory(to: UInt8.self)
        let walk = FieldLocatorWalk(rules: self.rules, body: body)
        do throws(Stop) {
            try walk.body(body, format: format, quickCheck: self.quickCheck)
        } catch {
            switch error {
            case .blocked(_, let reason), .uninspectable(let reason), .uninspectablePayload(let reason):
                throw Failure(reason: reason)
            }
        }
        return walk.fields
    }

    /// Cheap pre-check, derived from the names: false when no field can be located in `bytes` (no name occurs
    /// literally, and no escape that could spell a character of one does). Multipart bodies always answer true:
    /// a part's name has spellings (quoted-pairs, `name*=`) no byte search sees, so they are split and each part
    /// is checked on its own.
    public func mayHold(_ bytes: UnsafeRawBufferPointer, format: Format) -> Bool {
        self.quickCheck.mayHold(bytes, format: format)
    }

    /// Whether the first non-blank byte of `bytes` is `{` or `[`: text that a vendor may read as a JSON document
    /// whatever type it is labelled with, worth a JSON walk.
    public static func startsLikeJSONContainer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// `value` written as `syntax` writes it (a JSON string gets its quotes).
    public static func encode(_ value: String, as syntax: Syntax) -> [UInt8] {
        switch syntax {
        case .jsonString:
            return [UInt8(ascii: "\"")] + JSONRedactor.encodeString(Array(value.utf8)) + [UInt8(ascii: "\"")]
        case .formValue: return FormRedactor.encode(Array(value.utf8))
        case .text: return Array(value.utf8)
        }
    }
}

/// The `fields` rules a ``FieldLocator`` walks JSON with, compiled once.
final class FieldLocatorRules: Sendable {
    /// A top-level document: every key at any depth, the top-level keys in the top-level object.
    let document: CompiledRules
    /// NDJSON, whose lines the engine walks under the path `[line]`.
    let lines: CompiledRules
    /// An object under a selected key: every key at any depth.
    let inner: CompiledRules
    /// An array under a selected key: each element.
    let elements: CompiledRules
    /// No rule: a walk that only parses.
    let none: CompiledRules
    /// The name of the rule at each index of `document`, `lines` and `inner`.
    let names: [String]
    let keyNames: Set<String>
    let topLevelNames: Set<String>
    let keys: PseudonymKeys
    let vendor: VendorState

    init(keys: [String], topLevelKeys: [String]) {
        self.names = keys + topLevelKeys
        self.keyNames = Set(keys)
        self.topLevelNames = Set(topLevelKeys)
        func compile(_ paths: [[JSONPath.Segment]]) -> CompiledRules {
            let fields = paths.map {
                FieldRule(id: "locate", label: "LOCATE", path: JSONPath(segments: $0, description: ""), action: .mask)
            }
            do {
                return try CompiledRules(
                    policy: Policy(name: "field-locator", fields: fields, content: ContentRules(unknown: .pass))
                )
            } catch {
                // Field rules compile no expression: nothing here can fail to compile.
                preconditionFailure("field locator rules did not compile: \(error)")
            }
        }
        let anyDepth = keys.map { [JSONPath.Segment.descendant($0)] }
        self.document = compile(anyDepth + topLevelKeys.map { [.key($0)] })
        self.lines = compile(anyDepth + topLevelKeys.map { [.wildcard, .key($0)] })
        self.inner = compile(anyDepth)
        self.elements = compile([[.wildcard]])
        self.none = compile([])
        // The keys are never used: a located value is handed over before any replacement is computed.
        self.keys = PseudonymKeys(secret: [UInt8](repeating: 0, count: 32))
        self.vendor = VendorCache(keys: self.keys, rules: []).state(for: "")
    }

    func session(_ rules: CompiledRules) -> RedactionSession {
        RedactionSession(
            rules: rules,
            keys: self.keys,
            vendor: self.vendor,
            scratch: nil,
            unknownContent: .pass,
            limits: DecompressionLimits(),
            termFingerprints: []
        )
    }
}
