import AirlockPolicy

/// How a session inspects images: the policy's `images:` section and the inspector the proxy or CLI handed in.
struct ImageSetup {
    var rules: ImageRules
    /// `nil`: this build or caller has none (the fuzz targets, a `Redactor` made without one): images are refused.
    var inspector: (any ImageInspector)?
}

extension RedactionSession {
    /// Whether images are inspected rather than refused under `content.unknown`: the policy has an `images:` section.
    var inspectsImages: Bool { images != nil }

    /// The bytes of `image` that may leave (metadata removed, matched words painted over), recording one finding per
    /// rule with its box count; `nil` when the image leaves exactly as it came. `what`: how a refusal names the image.
    ///
    /// Throws `.blocked` when its text matches a `block` rule or `images.on_match` is `block`, and `.uninspectablePayload`
    /// when it cannot be inspected (decoding, size, time, language, no inspector).
    func redactImage(
        _ image: UnsafeBufferPointer<UInt8>,
        format: ImageFormat,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        guard let images else { preconditionFailure("redactImage is only called when the policy has images:") }
        guard let inspector = images.inspector else {
            throw .uninspectablePayload(
                "an \(format.mediaType) image cannot be inspected: this Airlock has no image inspector"
            )
        }
        let inspection: ImageInspection
        do throws(ImageRefusal) {
            inspection = try inspector.inspect(
                image,
                format: format,
                rules: images.rules,
                text: ImageTextMatcher(session: self)
            )
        } catch {
            switch error {
            case .blocked(let rule, let reason):
                record(rule: rule, action: .block, path: path(), value: nil)
                throw .blocked(rule: rule, reason: reason)
            case .uninspectable(let reason):
                throw .uninspectablePayload(reason)
            }
        }
        for (rule, count) in inspection.boxes {
            for _ in 0..<count { record(rule: rule, action: .redact, path: path(), value: nil) }
        }
        guard inspection.bytes.count != image.count || !inspection.bytes.elementsEqual(image) else { return nil }
        return inspection.bytes
    }
}
