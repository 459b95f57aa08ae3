import AirlockRedaction
import FuzzSupport

/// multipart/form-data bodies: the first line of the input is the Content-Type header (boundary parameter, quoting,
/// odd spellings), the rest the body (part headers, per-part Content-Type and Content-Transfer-Encoding, nested
/// JSON and form parts, boundaries cut short). A forwarded body carries no hidden term, parses again with the same
/// Content-Type and is a fixpoint for terms; a refusal names no term.
let redactor = FuzzPolicy.redactor(fields: true)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = FuzzCheck.bytes(start, count)
    let (contentType, body) = FuzzCheck.headerAndBody(input) ?? ("multipart/form-data; boundary=XyZ", input)
    let outcome = redactor.redact(body: body, contentType: contentType, contentEncoding: nil, vendor: "fuzz")
    FuzzCheck.outcome(outcome, "multipart")
    if case .forward(let forwarded, _) = outcome {
        FuzzCheck.fixpoint(redactor, forwarded, contentType: contentType, "multipart")
    }
    return 0
}
