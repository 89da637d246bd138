/// Parses the kernel's CPU list format (`0-3,8,10-11`), as found in
/// /sys/devices/system/cpu/online.
public enum OnlineCPUs {
    public static func parse(_ text: String) -> [Int] {
        var cpus: [Int] = []
        for part in text.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            let bounds = part.split(separator: "-")
            if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low <= high {
                cpus.append(contentsOf: low...high)
            } else if bounds.count == 1, let single = Int(bounds[0]) {
                cpus.append(single)
            }
        }
        return cpus
    }
}
