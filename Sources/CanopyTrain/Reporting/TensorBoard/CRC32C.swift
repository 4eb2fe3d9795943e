/// CRC-32C (Castagnoli): the checksum TFRecord files use, as defined in RFC 3720 (iSCSI), appendix B.4.
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, computed a byte at a time from a
/// 256-entry table. `CRC32C.checksum(Array("123456789".utf8)) == 0xE3069283`.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The CRC-32C of `bytes`.
    static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked CRC: the checksum rotated right by 15 bits plus 0xA282EAD8 (so that a CRC of data that
    /// holds CRCs is not degenerate).
    static func masked<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// TFRecord framing of one record: the length as a little-endian UInt64, the masked CRC-32C of those 8 bytes, the
/// data, the masked CRC-32C of the data (both CRCs little-endian UInt32).
func tfRecord(_ data: [UInt8]) -> [UInt8] {
    func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
    let length = littleEndian(UInt64(data.count))
    return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
}
