import AirlockSupport
import Foundation
import Testing

@Suite struct Base64Tests {
    @Test func encodesRFC4648VectorsAndDecodesPaddedOrNot() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
            #expect(Base64.decode(encoded.replacingOccurrences(of: "=", with: "")) == Array(plain.utf8))
        }
        #expect(Base64.decode("Zg=x") == nil)
        #expect(Base64.decode("Z") == nil)
        #expect(Base64.decode("Zm9v!") == nil)
    }
}
