import CStbImage
import Foundation

/// PNG and JPEG decoding into the float layout a model reads, through the vendored stb_image (``CStbImage``).
///
/// Channels: a grayscale file read for a 3-channel input is replicated into R, G and B; an alpha channel is
/// dropped (RGBA → RGB, gray+alpha → gray); a colour file read for a 1-channel input is refused rather than
/// silently converted to gray. 16-bit PNG samples are reduced to 8 bits by stb_image. Samples become
/// `value / 255`, in [0, 1].
enum ImageDecoding {
    /// The most bytes one image file may hold: 64 MiB.
    static let maximumFileSize = 64 << 20

    /// Decodes a PNG or JPEG file's `bytes` into `out`, `channels × height × width` floats in CHW order.
    ///
    /// The header is read first (`stbi_info_from_memory`) and the size compared with `height × width` before any
    /// pixel is decoded, so a small file that claims a huge image (a decompression bomb) costs nothing.
    ///
    /// - Parameter channels: 1 (gray) or 3 (RGB).
    /// - Returns: a sentence saying what is wrong (without the file's name), or nil on success.
    static func decode(_ bytes: UnsafeRawBufferPointer, channels: Int, height: Int, width: Int,
                       into out: UnsafeMutableBufferPointer<Float>) -> String? {
        precondition(channels == 1 || channels == 3, "ImageDecoding: channels must be 1 or 3")
        precondition(out.count == channels * height * width, "ImageDecoding: output of the wrong size")
        guard bytes.count <= maximumFileSize, let base = bytes.baseAddress?.assumingMemoryBound(to: stbi_uc.self),
              bytes.count > 0 else {
            return bytes.count == 0 ? "the file is empty" : "the file is larger than \(maximumFileSize) bytes"
        }
        let length = Int32(bytes.count)
        var w: Int32 = 0, h: Int32 = 0, fileChannels: Int32 = 0
        guard stbi_info_from_memory(base, length, &w, &h, &fileChannels) != 0 else {
            return "not a readable PNG or JPEG image (\(failureReason()))"
        }
        guard Int(w) == width, Int(h) == height else {
            return "the image is \(w)×\(h) (width×height) but input.shape wants \(width)×\(height)"
        }
        if channels == 1, fileChannels >= 3 {
            return "the image is in colour (\(fileChannels == 4 ? "RGBA" : "RGB")) but input.shape has 1 channel; "
                + "give input.shape 3 channels or convert the images to grayscale"
        }
        var dw: Int32 = 0, dh: Int32 = 0, dc: Int32 = 0
        guard let pixels = stbi_load_from_memory(base, length, &dw, &dh, &dc, Int32(channels)) else {
            return "the image cannot be decoded (\(failureReason())); is the file damaged or truncated?"
        }
        defer { stbi_image_free(pixels) }
        guard dw == w, dh == h else { return "the image decoded to \(dw)×\(dh), not the \(w)×\(h) its header gives" }
        let plane = height * width
        for p in 0..<plane {
            for c in 0..<channels {
                out[c * plane + p] = Float(pixels[p * channels + c]) / 255
            }
        }
        return nil
    }

    /// stb_image's reason for the last failure on this thread, or "unknown reason".
    private static func failureReason() -> String {
        guard let reason = stbi_failure_reason() else { return "unknown reason" }
        return String(cString: reason)
    }
}

/// Feature names for an input of `shape`: each feature's index tuple, `[c,y,x]` (`[0,3,5]`), shared by image and
/// NumPy sources so that validation and test data are compared with the training data by name.
func shapedFeatureNames(_ shape: [Int]) -> [String] {
    let count = shape.reduce(1, *)
    var names = [String]()
    names.reserveCapacity(count)
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<count {
        names.append("[" + index.map(String.init).joined(separator: ",") + "]")
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < shape[d] { break }
            index[d] = 0
            d -= 1
        }
    }
    return names
}
