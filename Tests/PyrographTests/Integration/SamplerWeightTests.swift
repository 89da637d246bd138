import BPFSampler
import CPyrograph
import Foundation
@testable import Recording
import XCTest

final class SamplerWeightTests: XCTestCase {
    /// End to end: the loader hands the kernel the sampling period, and each
    /// cpu-clock sample of a busy process arrives weighing it.
    func testTheSamplerWeighsEachSampleByItsPeriod() throws {
        try TestSupport.requireRoot()
        let busy = Process()
        busy.executableURL = URL(fileURLWithPath: "/bin/sh")
        busy.arguments = ["-c", "while :; do :; done"]
        try busy.run()
        defer { busy.terminate(); busy.waitUntilExit() }

        let sampler = try Sampler(configuration: .init(frequency: 250, filterByPID: true, cpus: Sampler.onlineCPUs()))
        try sampler.addTarget(pid: busy.processIdentifier)
        var samples: [RawSample] = []
        let reader = try RingBufferReader(mapFD: sampler.eventsMapFD) { bytes in
            if case let .sample(sample) = RingBufferRecord(bytes) { samples.append(sample) }
        }
        try sampler.attach()
        let deadline = Date().addingTimeInterval(5)
        while samples.count < 10 && Date() < deadline { _ = reader.poll(timeoutMilliseconds: 50) }
        XCTAssertGreaterThanOrEqual(samples.count, 10, "samples of the busy process")
        for sample in samples {
            XCTAssertEqual(sample.pid, busy.processIdentifier)
            XCTAssertEqual(sample.origin, .onCPU)
            XCTAssertEqual(sample.weightNanoseconds, 4_000_000, "1e9 / 250 Hz")
        }
    }
}
