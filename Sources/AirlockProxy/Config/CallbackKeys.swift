import AirlockRedaction

/// The field names a vendor's requests carry callback URLs under (a vendor's `callbacks: {keys, webhook_keys}`),
/// and the locators that find them, built once from the names: the locator's quick-check is derived from the same
/// names, so a name added here is looked for everywhere without anything else to keep in step.
public struct CallbackKeys: Sendable {
    /// Names looked for at any depth of a JSON body or NDJSON line, as form fields and as multipart parts.
    public var keys: [String]
    /// Names that are callback fields only on a path with a `webhooks` (or `webhook`) segment, and then only in the
    /// top-level object (Label Studio's webhook API takes the URL as a top-level `url`).
    public var webhookKeys: [String]

    public static let defaultKeys = ["callback_url", "callback"]
    public static let defaultWebhookKeys = ["url"]

    public init(keys: [String] = Self.defaultKeys, webhookKeys: [String] = Self.defaultWebhookKeys) {
        self.keys = keys
        self.webhookKeys = webhookKeys
    }

    /// The locators for these names: for any path, and for a webhook API's path.
    struct Locators: Sendable {
        let plain: FieldLocator
        let webhooks: FieldLocator

        init(_ keys: CallbackKeys) {
            self.plain = FieldLocator(keys: keys.keys)
            self.webhooks = FieldLocator(keys: keys.keys, topLevelKeys: keys.webhookKeys)
        }

        func locator(webhooks: Bool) -> FieldLocator { webhooks ? self.webhooks : self.plain }
    }
}
