import AirlockPolicy
import AirlockSupport
internal import CAirlockSIMD
import Foundation

extension JSONRedactor {
    // MARK: Values

    mutating func value(scanning: Bool) throws(Stop) {
        guard i < n else { throw syntax("unexpected end") }
        switch p[i] {
        case UInt8(ascii: "{"): try object(scanning: scanning)
        case UInt8(ascii: "["): try array(scanning: scanning)
        case UInt8(ascii: "\""):
            let string = try stringToken()
            if scanning { try redactString(string, isKey: false) }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            try number()
            // Scanned as written: a run ID or account number sent unquoted must meet the rules all the same. One
            // shorter than any match could be is not queued (the C walk skips the same ones).
            if scanning, i - start >= session.rules.shortestMatch {
                queue(start..<i, escaped: false, UnsafeBufferPointer(start: p + start, count: i - start))
                segments[segments.count - 1].number = true
            }
        default: throw syntax("unexpected character")
        }
    }

    private mutating func object(scanning: Bool) throws(Stop) {
        depth += 1
        if depth + session.enclosingDepth > Self.maxDepth { throw syntax("nested deeper than \(Self.maxDepth)") }
        i += 1
        skipWhitespace()
        if i < n, p[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return
        }
        var drops = Drops(previousEnd: i)
        while true {
            guard i < n, p[i] == UInt8(ascii: "\"") else { throw syntax("expected a key") }
            let keyStart = i
            var key = try stringToken()
            skipWhitespace()
            guard i < n, p[i] == UInt8(ascii: ":") else { throw syntax("expected ':'") }
            i += 1
            skipWhitespace()
            var entry = PathStep(index: -1, keyStart: key.start, keyCount: key.end - key.start, inArena: false)
            if key.escaped {
                let decoded = try decodeString(key)
                entry = PathStep(index: -1, keyStart: keyArena.count, keyCount: decoded.count, inArena: true)
                keyArena.append(contentsOf: decoded)
            }
            pushNode(entry)
            let valueStart = i
            let mayBeField = checkFields && mayBeFieldKey(entry)
            let rule = mayBeField ? fieldRule() : nil
            if let rule, scanning {
                // The value's strings overwrite the key's text in `text`: the key is copied again.
                key.textCount = -1
                try value(scanning: false)
                let valueEnd = i
                if session.rules.fieldRules[rule].action == .drop {
                    drop(&drops, rule: rule, member: keyStart..<valueEnd)
                } else {
                    keep(&drops, memberStart: keyStart)
                    try redactString(key, isKey: true)
                    try applyField(rule, valueStart..<valueEnd)
                }
            } else {
                keep(&drops, memberStart: keyStart)
                if scanning { try redactString(key, isKey: true) }
                if scanning, mayBeField, i < n, p[i] == UInt8(ascii: "\""), declaresBase64() {
                    try declaredBase64String()
                } else {
                    try value(scanning: scanning)
                }
            }
            drops.previousEnd = i
            popNode()
            skipWhitespace()
            guard i < n else { throw syntax("unterminated object") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { throw syntax("expected ',' or '}'") }
            closeGap(&drops, before: i)
            i += 1
            depth -= 1
            return
        }
    }

    private mutating func array(scanning: Bool) throws(Stop) {
        depth += 1
        if depth + session.enclosingDepth > Self.maxDepth { throw syntax("nested deeper than \(Self.maxDepth)") }
        i += 1
        skipWhitespace()
        if i < n, p[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return
        }
        var index = 0
        var drops = Drops(previousEnd: i)
        while true {
            pushNode(.element(index))
            let valueStart = i
            if scanning, checkFields, session.rules.fieldRulesEndingInElement, let rule = fieldRule() {
                try value(scanning: false)
                if session.rules.fieldRules[rule].action == .drop {
                    drop(&drops, rule: rule, member: valueStart..<i)
                } else {
                    keep(&drops, memberStart: valueStart)
                    try applyField(rule, valueStart..<i)
                }
            } else {
                keep(&drops, memberStart: valueStart)
                if scanning, checkFields, session.rules.fieldRulesEndingInElement, i < n, p[i] == UInt8(ascii: "\""),
                    declaresBase64()
                {
                    try declaredBase64String()
                } else {
                    try value(scanning: scanning)
                }
            }
            drops.previousEnd = i
            popNode()
            index += 1
            skipWhitespace()
            guard i < n else { throw syntax("unterminated array") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
                continue
            }
            guard p[i] == UInt8(ascii: "]") else { throw syntax("expected ',' or ']'") }
            closeGap(&drops, before: i)
            i += 1
            depth -= 1
            return
        }
    }

    /// The members of one object or array removed by `drop` field rules, so the separators they leave go too.
    private struct Drops {
        var keptAny = false
        /// Where the separators left by dropped members start, pending removal up to the next kept member (-1: none).
        var gapStart = -1
        /// The end of the previous member's value.
        var previousEnd: Int
    }

    /// Before a kept member (key or element) starting at `memberStart`.
    @inline(__always)
    private mutating func keep(_ drops: inout Drops, memberStart: Int) {
        closeGap(&drops, before: memberStart)
        drops.keptAny = true
    }

    /// Removes the separators left by dropped members up to `end` (the next kept member, or the closing bracket when
    /// every member so far was dropped).
    @inline(__always)
    private mutating func closeGap(_ drops: inout Drops, before end: Int) {
        if drops.gapStart >= 0 {
            edits.append((drops.gapStart..<end, []))
            drops.gapStart = -1
        }
    }

    /// Removes `member` (`"key": value` or an element) under the drop field rule `rule`.
    private mutating func drop(_ drops: inout Drops, rule: Int, member: Range<Int>) {
        session.record(
            rule: session.rules.fieldRules[rule].id,
            action: .drop,
            path: pathString(node: currentNode, hideLastKey: session.rules.fieldRules[rule].hidesKey),
            value: nil
        )
        closeGap(&drops, before: member.lowerBound)
        if drops.keptAny {
            // Removes ", member" back to the end of the previous member.
            edits.append((drops.previousEnd..<member.upperBound, []))
        } else {
            edits.append((member, []))
            drops.gapStart = member.upperBound
        }
    }

    private mutating func literal(_ word: StaticString) throws(Stop) {
        let count = word.utf8CodeUnitCount
        guard i + count <= n else { throw syntax("unexpected end") }
        let base = word.utf8Start
        for k in 0..<count where p[i + k] != base[k] { throw syntax("invalid literal") }
        i += count
    }

    mutating func number() throws(Stop) {
        @inline(__always) func digit(_ k: Int) -> Bool { k < n && p[k] >= 0x30 && p[k] <= 0x39 }
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { throw syntax("invalid number") }
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while digit(i) { i += 1 }
        }
        if i < n, p[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { throw syntax("invalid number") }
            while digit(i) { i += 1 }
        }
        if i < n, p[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(i) else { throw syntax("invalid number") }
            while digit(i) { i += 1 }
        }
    }
}
