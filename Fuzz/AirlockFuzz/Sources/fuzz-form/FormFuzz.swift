import AirlockRedaction
import FuzzSupport

/// application/x-www-form-urlencoded bodies: percent-decoding, `+`, field names, invalid UTF-8 after decoding. A
/// forwarded body carries no hidden term, parses again as a form and is a fixpoint for terms; a refusal names no
/// term.
let redactor = FuzzPolicy.redactor(fields: false)
let formType = "application/x-www-form-urlencoded"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let body = FuzzCheck.bytes(start, count)
    let outcome = redactor.redact(body: body, contentType: formType, contentEncoding: nil, vendor: "fuzz")
    FuzzCheck.outcome(outcome, "form")
    if case .forward(let forwarded, _) = outcome {
        FuzzCheck.fixpoint(redactor, forwarded, contentType: formType, "form")
    }
    return 0
}
