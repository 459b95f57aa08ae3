import AirlockRedaction
import Foundation

/// Issues the public URLs that replace attachment URLs: `<public_url>/assets/<token>`.
struct AssetMinter: Sendable {
    let keys: AssetSealingKeys
    let publicBase: String
    let lifetimeSeconds: Double
    let now: @Sendable () -> Date

    func publicURL(for url: String, vendor: String) -> String {
        let issued = UInt64(self.now().timeIntervalSince1970)
        let token = AssetToken(
            vendor: vendor,
            url: url,
            issued: issued,
            expires: issued + UInt64(self.lifetimeSeconds.rounded(.up))
        )
        return self.publicBase + "/assets/" + token.seal(with: self.keys)
    }
}
