/// Case-insensitive whole-word search for hotwords.
enum Hotwords {
    static func contains(_ words: [[UInt8]], in text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = text.baseAddress else { return false }
        let n = text.count
        for word in words where !word.isEmpty && word.count <= n {
            var i = 0
            while i + word.count <= n {
                var k = 0
                while k < word.count, Self.lower(p[i + k]) == word[k] { k += 1 }
                if k == word.count, i == 0 || !TermVariants.isAlnum(p[i - 1]),
                    i + k == n || !TermVariants.isAlnum(p[i + k])
                {
                    return true
                }
                i += 1
            }
        }
        return false
    }

    @inline(__always)
    private static func lower(_ b: UInt8) -> UInt8 {
        b >= 0x41 && b <= 0x5A ? b | 0x20 : b
    }
}
