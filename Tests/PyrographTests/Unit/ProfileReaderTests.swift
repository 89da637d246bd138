import Foundation
import XCTest
@testable import Aggregation
@testable import Output

final class ProfileReaderTests: XCTestCase {
    func testDetectsFormatsByContent() throws {
        let folded = Array(FoldedWriter.render(FormatFixture.aggregated).utf8)
        let pprof = PprofWriter.encoded(FormatFixture.aggregated)
        XCTAssertEqual(ProfileReader.detect(folded), .folded)
        XCTAssertEqual(ProfileReader.detect(pprof), .pprof)
        XCTAssertNil(ProfileReader.detect([]))
        XCTAssertNil(ProfileReader.detect([0xff, 0xfe, 0x00]))
        // Another tool's folded text, a name in Latin-1: still folded.
        let latin1: [UInt8] = Array("app (1);caf".utf8) + [0xe9] + Array(" 3\n".utf8)
        XCTAssertEqual(ProfileReader.detect(latin1), .folded)
        let read = try ProfileReader.read(bytes: latin1, path: "x.folded")
        XCTAssertEqual(read.frames.last?.function, "caf\u{FFFD}")
        // Gzipped or not, either format reads, whatever the file is called.
        for bytes in [folded, pprof, try Gzip.compress(folded), try Gzip.compress(pprof)] {
            let profile = try ProfileReader.read(bytes: bytes, path: "profile.svg")
            XCTAssertEqual(FoldedWriter.render(profile), FoldedWriter.render(FormatFixture.aggregated))
        }
    }

    /// Folded text read, written as pprof, read again and written as
    /// folded is the text it started as.
    func testFoldedRoundTripsThroughPprof() throws {
        let folded = FoldedWriter.render(FormatFixture.aggregated)
        let first = try ProfileReader.read(bytes: Array(folded.utf8), path: "a.folded")
        let second = try ProfileReader.read(bytes: PprofWriter.encoded(first), path: "a.pprof")
        XCTAssertEqual(FoldedWriter.render(second), folded)
        XCTAssertEqual(second.frames, first.frames)
    }

    func testBadInputSaysWhatIsWrong() throws {
        func message(_ bytes: [UInt8]) -> String {
            do {
                _ = try ProfileReader.read(bytes: bytes, path: "in.pb.gz")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message([]), "in.pb.gz is empty: no profile to read")
        XCTAssertTrue(message([0x00, 0x01, 0xff]).contains("is not a profile pyrograph reads"), message([0x00, 0x01, 0xff]))
        let gzipped = try Gzip.compress(PprofWriter.encoded(FormatFixture.aggregated))
        XCTAssertTrue(message(Array(gzipped.prefix(gzipped.count / 2))).contains("truncated"),
                      message(Array(gzipped.prefix(gzipped.count / 2))))
        var corrupt = gzipped
        corrupt[20] ^= 0xff
        XCTAssertTrue(message(corrupt).contains("gzip"), message(corrupt))
        XCTAssertTrue(message(Array("app;main 12\nnot a stack\n".utf8)).contains("line 2"))

        // Well-formed protobuf, broken references.
        var profile = try Perftools_Profiles_Profile(serializedBytes: PprofWriter.encoded(FormatFixture.aggregated))
        profile.sample[0].locationID.append(999)
        var text = message(try profile.serializedBytes())
        XCTAssertTrue(text.contains("location 999"), text)
        profile = try Perftools_Profiles_Profile(serializedBytes: PprofWriter.encoded(FormatFixture.aggregated))
        profile.function[0].name = 12345
        text = message(try profile.serializedBytes())
        XCTAssertTrue(text.contains("string 12345"), text)
        profile = try Perftools_Profiles_Profile(serializedBytes: PprofWriter.encoded(FormatFixture.aggregated))
        profile.sample[0].value = [-1, 5]
        text = message(try profile.serializedBytes())
        XCTAssertTrue(text.contains("negative"), text)
        profile = try Perftools_Profiles_Profile(serializedBytes: PprofWriter.encoded(FormatFixture.aggregated))
        profile.stringTable.append("bytes")
        profile.sampleType[0].unit = Int64(profile.stringTable.count - 1)
        text = message(try profile.serializedBytes())
        XCTAssertTrue(text.contains("in bytes"), text)
        // Bytes that start like protobuf but are not.
        XCTAssertTrue(message([0x0a, 0x50, 0x01]).contains("not a valid pprof profile"), message([0x0a, 0x50, 0x01]))
    }

    func testGzipRoundTripsAndReadsConcatenatedMembers() throws {
        let data = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) })
        XCTAssertEqual(try Gzip.decompress(try Gzip.compress(data)), data)
        let twice = try Gzip.compress(Array(data[..<10])) + Gzip.compress(Array(data[10..<20]))
        XCTAssertEqual(try Gzip.decompress(twice), Array(data[..<20]))
        XCTAssertThrowsError(try Gzip.decompress(try Gzip.compress(data), limit: 1000))
    }
}
