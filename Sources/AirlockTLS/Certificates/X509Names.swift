import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims

/// Reading names and key digests out of an `X509` the handshake verified.
enum X509Names {
    static func identity(of certificate: OpaquePointer) -> TLSPeerIdentity {
        TLSPeerIdentity(
            commonName: Self.commonName(of: certificate),
            subjectAlternativeNames: Self.subjectAlternativeNames(of: certificate)
        )
    }

    static func commonName(of certificate: OpaquePointer) -> String? {
        Self.commonName(in: X509_get_subject_name(certificate))
    }

    /// The last CN of `name` (the most specific one, as OpenSSL orders them) when there are several.
    static func commonName(in name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        var result: String?
        var index: Int32 = -1
        while true {
            index = X509_NAME_get_index_by_NID(name, NID_commonName, index)
            guard index >= 0 else { break }
            if let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry),
                let text = Self.utf8(of: data)
            {
                result = text
            }
        }
        return result
    }

    static func subjectAlternativeNames(of certificate: OpaquePointer) -> [String] {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { COpenSSLShims_GENERAL_NAMES_free(names) }
        var result: [String] = []
        for index in 0..<COpenSSLShims_sk_GENERAL_NAME_num(names) {
            guard let name = COpenSSLShims_sk_GENERAL_NAME_value(names, index) else { continue }
            var type: Int32 = 0
            guard let value = GENERAL_NAME_get0_value(name, &type) else { continue }
            let string = value.assumingMemoryBound(to: ASN1_STRING.self)
            switch type {
            case GEN_DNS:
                if let text = Self.utf8(of: string) { result.append(text) }
            case GEN_IPADD:
                result.append(Self.ipAddressText(string))
            default:
                continue
            }
        }
        return result
    }

    /// SHA-256 over the DER SubjectPublicKeyInfo: the value HTTP public-key pinning and `pin_sha256` use.
    static func spkiSHA256(of certificate: OpaquePointer) -> [UInt8]? {
        Self.subjectPublicKeyInfoDER(of: certificate).map { SHA256.hash($0) }
    }

    /// The certificate's public key as DER SubjectPublicKeyInfo.
    static func subjectPublicKeyInfoDER(of certificate: OpaquePointer) -> [UInt8]? {
        guard let publicKey = X509_get_X509_PUBKEY(certificate) else { return nil }
        return CertificateDigest.der { i2d_X509_PUBKEY(publicKey, $0) }
    }

    private static func utf8(of string: UnsafePointer<ASN1_STRING>) -> String? {
        var output: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&output, string)
        guard length >= 0, let output else { return nil }
        defer { COpenSSLShims_OPENSSL_free(output) }
        return String(decoding: UnsafeBufferPointer(start: output, count: Int(length)), as: UTF8.self)
    }

    private static func utf8(of string: UnsafeMutablePointer<ASN1_STRING>) -> String? {
        Self.utf8(of: UnsafePointer(string))
    }

    private static func ipAddressText(_ string: UnsafeMutablePointer<ASN1_STRING>) -> String {
        let length = Int(ASN1_STRING_length(string))
        guard let data = ASN1_STRING_get0_data(string) else { return "" }
        let bytes = Array(UnsafeBufferPointer(start: data, count: length))
        if bytes.count == 4 {
            return bytes.map(String.init).joined(separator: ".")
        }
        if bytes.count == 16 {
            var groups: [String] = []
            for index in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
            }
            return Self.compressIPv6(groups)
        }
        return bytes.map { String($0, radix: 16) }.joined(separator: ":")
    }

    /// RFC 5952 text: the longest run of two or more zero groups becomes `::`.
    private static func compressIPv6(_ groups: [String]) -> String {
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < groups.count {
            if groups[index] == "0" {
                var end = index
                while end < groups.count && groups[end] == "0" { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        guard bestLength >= 2 else { return groups.joined(separator: ":") }
        let head = groups[..<bestStart].joined(separator: ":")
        let tail = groups[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
