@_spi(Fuzzing) import AirlockRedaction
import FuzzSupport

/// Differential target for the JSON walkers: the C whole-document walk (`CAirlockSIMD` through `JSONKernelWalk`,
/// with the C string kernel) against the Swift reference walker, with and without `fields` rules. Both must agree
/// exactly (the same forwarded bytes and findings, or the same refusal and reason); a document the C walk finishes
/// must be one the reference accepts; a forwarded body parses again as JSON and is a fixpoint for terms.
let engines = [false, true].map { fields in
    (fields, FuzzPolicy.redactor(fields: fields), FuzzPolicy.reference(fields: fields))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let document = FuzzCheck.bytes(start, count)
    for (fields, fast, reference) in engines {
        let what = fields ? "with fields" : "without fields"
        let a = fast.redact(body: document, contentType: "application/json", contentEncoding: nil, vendor: "fuzz")
        let b = reference.redact(body: document, contentType: "application/json", contentEncoding: nil, vendor: "fuzz")
        FuzzCheck.require(same(a, b), "\(what): the C walk and the reference disagree\n\(a)\n\(b)")
        if fast.kernelWalkFinishes(document), case .uninspectable(let reason, _) = b {
            FuzzCheck.require(false, "\(what): the C walk finished a document the reference refuses: \(reason)")
        }
        FuzzCheck.outcome(a, what)
        if case .forward(let body, _) = a {
            FuzzCheck.fixpoint(fast, body, contentType: "application/json", what)
        }
    }
    return 0
}

private func same(_ a: RedactionOutcome, _ b: RedactionOutcome) -> Bool {
    switch (a, b) {
    case (.forward(let x, let fx), .forward(let y, let fy)): x == y && fx == fy
    case (.block(let x, let rx, let fx), .block(let y, let ry, let fy)): x == y && rx == ry && fx == fy
    case (.uninspectable(let rx, let fx), .uninspectable(let ry, let fy)): rx == ry && fx == fy
    default: false
    }
}
