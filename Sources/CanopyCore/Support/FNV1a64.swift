/// 64-bit FNV-1a: a hash that is the same in every process and on every machine (Swift's `Hasher` is seeded per
/// process), for names of cache entries — program binaries on disk, remembered backend choices — and for
/// checksums that catch damaged files. Not cryptographic.
public struct FNV1a64: Sendable {
    /// The hash of everything added so far.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// An empty hash.
    public init() {}

    /// Adds bytes.
    public mutating func add<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }

    /// Adds a string followed by a NUL separator, so that ("ab", "c") and ("a", "bc") differ.
    public mutating func add(field: String) {
        add(field.utf8)
        add(CollectionOfOne(0))
    }

    /// The hash of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h = FNV1a64()
        h.add(bytes)
        return h.value
    }
}
