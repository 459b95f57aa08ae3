import AirlockProxy
import AirlockStandIns
import NIOCore

extension StandInVendor {
    /// A stand-in vendor on 127.0.0.1 (ephemeral port) serving the throwaway vendor certificate.
    static func start(
        group: any EventLoopGroup,
        serving certificates: ThrowawayCertificates
    ) async throws
        -> StandInVendor
    {
        try await Self.start(
            group: group,
            certificatePath: certificates.vendorCertificatePath,
            keyPath: certificates.vendorKeyPath
        )
    }
}
