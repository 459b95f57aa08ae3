import AirlockImages
import NIOCore

/// Where the proxy reads images: one process-wide OCR inspector, handed to every vendor's compiled policy, whose
/// recognitions are bounded to half the cores (at least one), and its own threads (``SeamExecutor/images``) for the
/// requests that may hold images. A slow image holds one of those threads and one OCR worker; event loops and the
/// threads that inspect text never wait for it.
public enum ImageLane {
    public static let inspector = TesseractImageInspector(concurrency: max(1, System.coreCount / 2))
}
