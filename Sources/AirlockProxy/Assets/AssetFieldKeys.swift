import AirlockRedaction

/// The field names requests carry attachment URLs under, and their locators.
///
/// The defaults cover the labeling vendors' APIs: Scale (`attachment`, `attachments`, and `content`, which
/// carries the URL in Scale's attachment objects), Labelbox (`row_data`) and
/// Label Studio (`data.image` and its other media keys). Every vendor gets all of them unless `assets.keys` names its
/// own list: a field of another vendor's API is still an attachment URL worth keeping in the lab.
enum AssetFieldKeys {
    static let scale = ["attachment", "attachments", "content"]
    static let labelbox = ["row_data"]
    static let labelStudio = ["image", "audio", "video", "pdf", "html_url"]
    static let defaults = Self.scale + Self.labelbox + Self.labelStudio

    /// One locator per vendor (`configured` replaces the defaults for the vendors it names).
    static func locators(vendors: [String], configured: [String: [String]]) -> [String: FieldLocator] {
        var locators: [String: FieldLocator] = [:]
        for vendor in vendors {
            locators[vendor] = FieldLocator(keys: configured[vendor] ?? Self.defaults)
        }
        return locators
    }
}
