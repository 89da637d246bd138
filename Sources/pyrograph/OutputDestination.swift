import Glibc
import ProcessInspection

/// What `-o PATH` names, found before anything is opened for writing:
/// one of pyrograph's own descriptors, a stream (device or FIFO) or a
/// regular file to replace.
///
/// pyrograph runs as root, so the path is walked one component and one
/// symlink at a time, the directories above the file included: a symlink
/// that someone else planted in a world-writable or sticky directory (/tmp)
/// is refused, never followed, wherever it stands in the path.
enum OutputDestination {
    /// `-`, /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N.
    case descriptor(Int32)
    case stream(Target, isFIFO: Bool)
    case replace(Target)

    /// An entry in an open directory: every later step (open, create,
    /// rename) goes through the descriptor, so swapping a directory on
    /// the way cannot redirect it.
    final class Target {
        let directoryFD: Int32
        let name: String
        /// The path the user gave, for messages.
        let displayPath: String
        /// The replaced file's, or 0666 less the umask for a new one.
        let mode: mode_t
        /// The replaced file's owner; nil when the path is new.
        let existingOwner: (uid: uid_t, gid: gid_t)?
        private let directory: stat

        init(directoryFD: Int32, directory: stat, name: String, displayPath: String, existing: stat?) {
            self.directoryFD = directoryFD
            self.directory = directory
            self.name = name
            self.displayPath = displayPath
            if let existing {
                // A profile has no business being setuid.
                mode = existing.st_mode & 0o777
                existingOwner = (existing.st_uid, existing.st_gid)
            } else {
                let mask = umask(0)
                umask(mask)
                mode = 0o666 & ~mask
                existingOwner = nil
            }
        }

        deinit { close(directoryFD) }

        /// Who the written file should belong to, nil for root. An existing
        /// file keeps its owner. A new one goes to the sudo user only where
        /// that user could have created it: a directory they own or may
        /// write to. Handing them a new file in /etc/cron.d would give
        /// whoever may `sudo pyrograph` root.
        func ownerForNewFile() -> (uid_t, gid_t)? {
            if let existingOwner { return existingOwner }
            guard let user = SudoUser.current else { return nil }
            let mode = directory.st_mode
            let theirs = directory.st_uid == user.uid
                || mode & S_IWOTH != 0
                || (mode & S_IWGRP != 0 && directory.st_gid == user.gid)
            return theirs ? (user.uid, user.gid) : nil
        }
    }

    /// How many symlinks may chain, as the kernel's MAXSYMLINKS.
    static let maximumLinks = 40

    static func resolve(_ path: String) throws -> OutputDestination {
        guard !path.isEmpty else { throw CLIError("-o: the output path is empty") }
        var current = path
        for _ in 0...maximumLinks {
            if let number = descriptorNumber(current) { return .descriptor(number) }
            let (directoryPath, name) = split(current)
            guard !name.isEmpty, name != ".", name != ".." else {
                throw CLIError("-o \(path): is a directory; name a file in it")
            }
            let directoryFD = try openDirectory(directoryPath, shownAs: path)
            var directory = stat(), entry = stat()
            guard fstat(directoryFD, &directory) == 0 else {
                let error = SystemError("cannot write the output file \(path): cannot inspect its directory", path: directoryPath)
                close(directoryFD)
                throw error
            }
            if fstatat(directoryFD, name, &entry, AT_SYMLINK_NOFOLLOW) != 0 {
                let error = SystemError("cannot write the output file \(path): cannot inspect", path: current)
                guard errno == ENOENT else {
                    close(directoryFD)
                    throw error
                }
                return .replace(Target(directoryFD: directoryFD, directory: directory, name: name,
                                       displayPath: path, existing: nil))
            }
            let target = { Target(directoryFD: directoryFD, directory: directory, name: name, displayPath: path, existing: entry) }
            switch entry.st_mode & S_IFMT {
            case S_IFREG:
                return .replace(target())
            case S_IFCHR:
                return .stream(target(), isFIFO: false)
            case S_IFIFO:
                return .stream(target(), isFIFO: true)
            case S_IFLNK:
                defer { close(directoryFD) }
                try checkSymlink(entry, in: directory, at: current, shownAs: path)
                current = try follow(name, in: directoryFD, directoryPath: directoryPath, shownAs: path)
            default:
                close(directoryFD)
                let kind = entry.st_mode & S_IFMT == S_IFDIR ? "a directory; name a file in it"
                    : entry.st_mode & S_IFMT == S_IFBLK ? "a block device; pyrograph will not write over a disk"
                    : "a socket; pyrograph writes files, devices, FIFOs and pipes"
                throw CLIError("-o \(path): is \(kind)")
            }
        }
        throw SystemError("cannot write the output file", path: path, errno: ELOOP)
    }

    /// The rule of fs.protected_symlinks, applied whatever that sysctl
    /// says (and to world-writable directories without the sticky bit
    /// too): in a directory others may write to, follow only links owned
    /// by the user running pyrograph or by the directory's owner.
    private static func checkSymlink(_ link: stat, in directory: stat, at current: String, shownAs path: String) throws {
        let shared = directory.st_mode & (S_IWOTH | S_ISVTX) != 0
        guard shared else { return }
        var trusted: Set<uid_t> = [geteuid(), directory.st_uid]
        if let user = SudoUser.current { trusted.insert(user.uid) }
        guard !trusted.contains(link.st_uid) else { return }
        throw CLIError("-o \(path): refusing to follow \(current), a symlink owned by uid \(link.st_uid) "
            + "in a directory anyone may write to; remove it or choose another path")
    }

    /// Opens a directory as the kernel would resolve it, but a component at
    /// a time without following any symlink the kernel's walk would: each
    /// link is checked by `checkSymlink` in the directory that holds it.
    static func openDirectory(_ directoryPath: String, shownAs path: String) throws -> Int32 {
        var fd = open(directoryPath.hasPrefix("/") ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot write the output file \(path): cannot open its directory", path: directoryPath) }
        // Components still to walk, the next one last.
        var pending = directoryPath.split(separator: "/").map(String.init).reversed() as [String]
        var walked = directoryPath.hasPrefix("/") ? "" : "."
        var links = 0
        while let name = pending.popLast() {
            if name == "." || name.isEmpty { continue }
            var directory = stat(), entry = stat()
            guard fstat(fd, &directory) == 0, fstatat(fd, name, &entry, AT_SYMLINK_NOFOLLOW) == 0 else {
                let error = SystemError("cannot write the output file \(path): cannot open its directory", path: walked + "/" + name)
                close(fd)
                throw error
            }
            if entry.st_mode & S_IFMT == S_IFLNK {
                links += 1
                do {
                    guard links <= maximumLinks else { throw SystemError("cannot write the output file", path: path, errno: ELOOP) }
                    try checkSymlink(entry, in: directory, at: walked + "/" + name, shownAs: path)
                    let target = try readLink(name, in: fd, shownAs: path, at: walked + "/" + name)
                    pending += target.split(separator: "/").map(String.init).reversed()
                    if target.hasPrefix("/") {
                        close(fd)
                        fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                        walked = ""
                    }
                } catch {
                    close(fd)
                    throw error
                }
                continue
            }
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let failure = next < 0 ? SystemError("cannot write the output file \(path): cannot open its directory",
                                                 path: walked + "/" + name) : nil
            close(fd)
            if let failure { throw failure }
            fd = next
            // `walked` is the physical path: no link was entered by name.
            if name == "..", let slash = walked.lastIndex(of: "/"), !["", ".", ".."].contains(walked[walked.index(after: slash)...]) {
                walked = String(walked[..<slash])
            } else {
                walked += "/" + name
            }
        }
        return fd
    }

    private static func readLink(_ name: String, in directoryFD: Int32, shownAs path: String, at linkPath: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(directoryFD, name, &buffer, buffer.count - 1)
        guard n >= 0 else { throw SystemError("cannot write the output file \(path): cannot read the symlink", path: linkPath) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func follow(_ name: String, in directoryFD: Int32, directoryPath: String, shownAs path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(directoryFD, name, &buffer, buffer.count - 1)
        guard n >= 0 else { throw SystemError("cannot write the output file \(path): cannot read the symlink", path: directoryPath + "/" + name) }
        let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.hasPrefix("/") ? target : directoryPath + "/" + target
    }

    /// ("dir", "name"); "." when the path has no directory.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// The descriptor a path names in this process: these are magic links
    /// whose targets (`pipe:[123]`) are not paths.
    static func descriptorNumber(_ path: String) -> Int32? {
        switch path {
        case "-", "/dev/stdout": return STDOUT_FILENO
        case "/dev/stderr": return STDERR_FILENO
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/", "/proc/\(getpid())/fd/"] where path.hasPrefix(prefix) {
                return Int32(path.dropFirst(prefix.count))
            }
            return nil
        }
    }
}

/// The user behind sudo, from SUDO_UID and SUDO_GID.
struct SudoUser {
    var uid: uid_t
    var gid: gid_t

    static var current: SudoUser? {
        guard let uid = environmentID("SUDO_UID"), let gid = environmentID("SUDO_GID") else { return nil }
        return SudoUser(uid: uid, gid: gid)
    }

    private static func environmentID(_ name: String) -> UInt32? {
        guard let raw = getenv(name) else { return nil }
        return UInt32(String(cString: raw))
    }
}
