import Foundation
import XCTest

/// `-o` as root: planted symlinks, sudo ownership, a full disk, devices,
/// pipes and FIFOs. Every refusal must come before sampling starts.
final class OutputSafetyTests: XCTestCase {
    private let nobody: uid_t = 65534
    private let nogroup: gid_t = 65534
    /// Something to sample on an idle host, so written profiles are not empty.
    private var burner: Process?

    override func setUpWithError() throws {
        let burn = try TestSupport.compileFixture("burn", into: try TestSupport.temporaryDirectory())
        burner = try Process.run(burn, arguments: ["20"])
    }

    override func tearDown() {
        burner?.terminate()
        burner?.waitUntilExit()
    }

    /// pyrograph under `timeout`, with extra environment variables.
    private func record(_ arguments: [String], environment: [String: String] = [:]) throws -> TestSupport.Finished {
        let assignments = environment.map { "\($0.key)=\($0.value)" }
        return try TestSupport.run("/usr/bin/timeout", ["20", "/usr/bin/env"] + assignments
            + [try TestSupport.pyrographBinary(), "record", "--all", "-d", "0.3"] + arguments)
    }

    private func shell(_ script: String) throws -> TestSupport.Finished {
        try TestSupport.run("/usr/bin/timeout", ["20", "/bin/bash", "-c", script])
    }

    /// A symlink another user planted where anyone may write: with the
    /// sticky bit (/tmp) and without it, where fs.protected_symlinks does
    /// not help. The target must be left alone, and nothing sampled.
    func testSymlinkPlantedByAnotherUserIsRefused() throws {
        try TestSupport.requireRoot()
        let base = try TestSupport.temporaryDirectory()
        let victim = base.appendingPathComponent("victim")
        try "precious\n".write(to: victim, atomically: false, encoding: .utf8)
        for mode: mode_t in [0o1777, 0o777] {
            let shared = base.appendingPathComponent("shared-\(String(mode, radix: 8))")
            try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
            XCTAssertEqual(chmod(shared.path, mode), 0)
            let link = shared.appendingPathComponent("profile.svg")
            XCTAssertEqual(symlink(victim.path, link.path), 0)
            XCTAssertEqual(lchown(link.path, nobody, nogroup), 0)

            let result = try record(["-o", link.path])
            XCTAssertNotEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("refusing to follow"), result.stderr)
            XCTAssertFalse(result.stderr.contains("recording"), "refused only after sampling:\n\(result.stderr)")
            XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "precious\n")
        }
    }

    /// The same rule for a directory on the way: `-o /tmp/LINK/profile.svg`
    /// where another user planted LINK must not write where LINK points,
    /// however deep it stands; a link root made there is followed.
    func testSymlinkedDirectoryPlantedByAnotherUserIsRefused() throws {
        try TestSupport.requireRoot()
        let base = try TestSupport.temporaryDirectory()
        let target = base.appendingPathComponent("root-only")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("deeper"), withIntermediateDirectories: true)
        let victim = target.appendingPathComponent("deeper/profile.svg")
        try "precious\n".write(to: victim, atomically: false, encoding: .utf8)
        let shared = base.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: shared.appendingPathComponent("sub"), withIntermediateDirectories: true)
        XCTAssertEqual(chmod(shared.path, 0o1777), 0)
        let link = shared.appendingPathComponent("planted")
        XCTAssertEqual(symlink(target.path, link.path), 0)
        XCTAssertEqual(lchown(link.path, nobody, nogroup), 0)
        // Through the link directly, and through a chain: sub/../planted.
        for path in ["\(link.path)/deeper/profile.svg", "\(shared.path)/sub/../planted/deeper/profile.svg"] {
            let result = try record(["-o", path])
            XCTAssertNotEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("refusing to follow \(link.path)"), result.stderr)
            XCTAssertFalse(result.stderr.contains("recording"), "refused only after sampling:\n\(result.stderr)")
            XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "precious\n")
        }
        // root's own link in the same place is followed.
        XCTAssertEqual(lchown(link.path, 0, 0), 0)
        let result = try record(["-o", "\(link.path)/deeper/profile.svg", "-f", "folded"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertNotEqual(try String(contentsOf: victim, encoding: .utf8), "precious\n")
    }

    /// Under sudo an existing root-only file is replaced but stays root's;
    /// a new file in the sudo user's own directory becomes theirs.
    func testSudoUserGetsOnlyNewFiles() throws {
        try TestSupport.requireRoot()
        let base = try TestSupport.temporaryDirectory()
        let sudo = ["SUDO_UID": "\(nobody)", "SUDO_GID": "\(nogroup)"]
        let secret = base.appendingPathComponent("secret.svg")
        try "root only\n".write(to: secret, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(secret.path, 0o600), 0)
        XCTAssertEqual(chown(base.path, nobody, nogroup), 0, "the directory is the sudo user's, the file is not")

        let replaced = try record(["-o", secret.path], environment: sudo)
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        var info = stat()
        XCTAssertEqual(stat(secret.path, &info), 0)
        XCTAssertEqual(info.st_uid, 0, "an existing root-only file was handed to SUDO_UID")
        XCTAssertEqual(info.st_gid, 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o600)
        XCTAssertTrue(try String(contentsOf: secret, encoding: .utf8).contains("<svg"))

        let fresh = base.appendingPathComponent("new.svg")
        let created = try record(["-o", fresh.path], environment: sudo)
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(stat(fresh.path, &info), 0)
        XCTAssertEqual(info.st_uid, nobody, "a new file in the sudo user's directory should be theirs")
    }

    /// A full file system: the write fails, the old profile is whole and
    /// no temporary file is left behind.
    func testFullDiskKeepsTheOldProfile() throws {
        try TestSupport.requireRoot()
        let mount = try TestSupport.temporaryDirectory()
        XCTAssertEqual(try shell("mount -t tmpfs -o size=256k pyrograph-full \(mount.path)").status, 0)
        defer { _ = try? shell("umount \(mount.path)") }
        let old = "<svg>the old profile</svg>\n"
        let profile = mount.appendingPathComponent("profile.svg")
        try old.write(to: profile, atomically: false, encoding: .utf8)
        _ = try shell("dd if=/dev/zero of=\(mount.path)/filler bs=4k 2>/dev/null")

        let result = try record(["-o", profile.path])
        XCTAssertNotEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("No space left"), result.stderr)
        XCTAssertEqual(try String(contentsOf: profile, encoding: .utf8), old)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mount.path).sorted(), ["filler", "profile.svg"])
    }

    func testDevNullIsWrittenAsAStream() throws {
        try TestSupport.requireRoot()
        let result = try record(["-o", "/dev/null"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("wrote /dev/null"), result.stderr)
        var info = stat()
        XCTAssertEqual(stat("/dev/null", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/null is no longer a device")
    }

    func testPipeAndDashWriteToStdout() throws {
        try TestSupport.requireRoot()
        let binary = try TestSupport.pyrographBinary()
        for target in ["/dev/stdout", "-"] {
            let result = try shell("'\(binary)' record --all -d 0.3 -f folded -o \(target) | cat")
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertGreaterThan(FoldedProfile(text: result.stdout).total, 0, "-o \(target): \(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "-"), "-o - made a file named -")
    }

    /// No reader: a clear error at once, not an open() that waits forever.
    /// With a reader: the profile goes through.
    func testFIFO() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let fifo = directory.appendingPathComponent("profile.fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let started = Date()
        let alone = try record(["-o", fifo.path])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertNotEqual(alone.status, 124, "pyrograph hung opening a FIFO without a reader")
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("no process is reading"), alone.stderr)

        let copy = directory.appendingPathComponent("copy.folded")
        let binary = try TestSupport.pyrographBinary()
        let read = try shell("cat '\(fifo.path)' > '\(copy.path)' & sleep 0.2; "
            + "'\(binary)' record --all -d 0.3 -f folded -o '\(fifo.path)'; status=$?; wait; exit $status")
        XCTAssertEqual(read.status, 0, read.stderr)
        XCTAssertGreaterThan(FoldedProfile(text: try String(contentsOf: copy, encoding: .utf8)).total, 0)
    }
}
