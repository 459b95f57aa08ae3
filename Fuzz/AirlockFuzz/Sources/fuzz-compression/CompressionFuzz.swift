@_spi(Fuzzing) import AirlockRedaction
import FuzzSupport

/// gzip and deflate decoding: the first byte picks the coding (even: gzip, odd: deflate), the rest is the body.
/// What decodes re-encodes and decodes to the same bytes; a body that does not decode is never forwarded; a
/// forwarded body decodes (it was re-encoded), carries no hidden term (a gzip header's file name or comment
/// included) and is a fixpoint for terms.
let redactor = FuzzPolicy.redactor(fields: false)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = FuzzCheck.bytes(start, count)
    guard let selector = input.first else { return 0 }
    let gzip = selector & 1 == 0
    let coding = gzip ? "gzip" : "deflate"
    let body = Array(input.dropFirst())
    let plain = Redactor.decompress(body, gzip: gzip, limits: FuzzPolicy.limits)
    if let plain {
        let again = Redactor.decompress(Redactor.compress(plain, gzip: gzip), gzip: gzip, limits: FuzzPolicy.limits)
        FuzzCheck.require(again == plain, "\(coding): re-encoding does not decode to the same bytes")
    }
    let outcome = redactor.redact(body: body, contentType: "text/plain", contentEncoding: coding, vendor: "fuzz")
    switch outcome {
    case .forward(let forwarded, _):
        FuzzCheck.require(plain != nil, "\(coding): a body that does not decode was forwarded")
        // A gzip header's file name, comment or extra field (FLG bits 2-4) is not content and never leaves as is.
        let metadata = gzip && body.count > 3 && body[0] == 0x1F && body[1] == 0x8B && body[3] & 0x1C != 0
        FuzzCheck.require(!(metadata && forwarded == body), "gzip: a header with metadata was forwarded as it came")
        guard let decoded = Redactor.decompress(forwarded, gzip: gzip, limits: FuzzPolicy.limits) else {
            FuzzCheck.require(false, "\(coding): the forwarded body does not decode")
            return 0
        }
        if let term = FuzzCheck.leakedTerm(in: decoded) {
            FuzzCheck.require(false, "\(coding): the forwarded body decodes to \(term)")
        }
        FuzzCheck.fixpoint(redactor, forwarded, contentType: "text/plain", contentEncoding: coding, coding)
    case .block, .uninspectable:
        break
    }
    FuzzCheck.outcome(outcome, coding)
    return 0
}
